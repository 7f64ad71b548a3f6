import { ApiProperty } from '@nestjs/swagger';
import { ReplicaHealth } from '../config/read-pool';
import { ComponentHealth } from './health-contributors';

// Response shapes of /health, for the OpenAPI document.

const STATUSES = ['connected', 'disconnected', 'disabled'];

export class ReplicaHealthReport implements ReplicaHealth {
  @ApiProperty({
    enum: ['disabled', 'connected', 'lagging', 'disconnected'],
    description: 'disabled: no DATABASE_READ_URL; lagging: further behind than DATABASE_READ_MAX_LAG_MS',
  })
  status: ReplicaHealth['status'];
  @ApiProperty({ type: Number, nullable: true, description: 'How far the replica is behind, as last measured; null when unknown' })
  lagMs: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'DATABASE_READ_MAX_LAG_MS' }) maxLagMs: number | null;
  @ApiProperty({ description: 'Whether queries read from the replica now (false: from the primary)' }) readsFromReplica: boolean;
  @ApiProperty({ description: 'Open connections in the replica pool' }) connections: number;
}

export class DatabaseHealth {
  @ApiProperty({ enum: ['connected', 'disconnected'] }) status: 'connected' | 'disconnected';
  @ApiProperty({ description: 'Open connections in the pool' }) connections: number;
  @ApiProperty({ description: 'True when running on the embedded PostgreSQL (PGlite)' }) embedded: boolean;
  @ApiProperty({ description: 'DATABASE_SCHEMA', example: 'public' }) schema: string;
  @ApiProperty({ type: ReplicaHealthReport }) replica: ReplicaHealthReport;
}

export class KafkaHealthReport implements ComponentHealth {
  [detail: string]: unknown;
  @ApiProperty({ enum: STATUSES }) status: ComponentHealth['status'];
  @ApiProperty({ type: String, nullable: true, example: 'localhost:9092' }) broker: string | null;
  @ApiProperty({
    enum: ['disabled', 'stopped', 'starting', 'running', 'restarting', 'failed'],
    description: 'The stats consumer; failed: it could not be restarted (KAFKA_CONSUMER_MAX_RESTARTS) and /health/live fails',
  })
  consumer: string;
  @ApiProperty({ required: false, description: 'Restarts since the consumer last ran (absent when disabled)' })
  consumerRestarts?: number;
}

export class StorageHealthReport implements ComponentHealth {
  [detail: string]: unknown;
  @ApiProperty({ enum: STATUSES }) status: ComponentHealth['status'];
}

export class OutboxHealth {
  @ApiProperty({ description: 'Events not yet published' }) pending: number;
  @ApiProperty({ description: 'Age of the oldest unpublished event (0 when none)' }) oldestAgeSeconds: number;
}

export class HealthReport {
  @ApiProperty({
    enum: ['ok', 'degraded', 'error'],
    description: 'error: the database is unreachable; degraded: Kafka or storage is, or the read replica is unreachable or lagging',
  })
  status: 'ok' | 'degraded' | 'error';
  @ApiProperty({ format: 'date-time' }) timestamp: string;
  @ApiProperty({ type: DatabaseHealth }) database: DatabaseHealth;
  @ApiProperty({ type: KafkaHealthReport }) kafka: ComponentHealth;
  @ApiProperty({ type: StorageHealthReport }) storage: ComponentHealth;
  @ApiProperty({ type: OutboxHealth, nullable: true, description: 'null when the database cannot be read' })
  outbox: OutboxHealth | null;
}

export class LiveReport {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}
