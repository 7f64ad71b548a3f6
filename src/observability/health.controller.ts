import { Controller, Get, Res } from '@nestjs/common';
import { TypeOrmHealthIndicator } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth.guard';
import { DomainError } from '../common/domain-error';
import { ErrorResponse } from '../common/openapi';
import { ShutdownState } from '../common/shutdown-state';
import { AppConfig } from '../config/config';
import { PgPool } from '../config/pg-pool';
import { ReadPool } from '../config/read-pool';
import { DatabaseStats } from './database-stats';
import { KafkaHealth, StorageHealth } from './health-contributors';
import { HealthReport, LiveReport } from './health.schema';

const PING_TIMEOUT_MS = 1000;

@ApiTags('operations')
@Public()
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly db: TypeOrmHealthIndicator,
    private readonly pg: PgPool,
    private readonly reads: ReadPool,
    private readonly stats: DatabaseStats,
    private readonly config: AppConfig,
    private readonly kafka: KafkaHealth,
    private readonly storage: StorageHealth,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every dependency (the read replica too), the outbox backlog; 503 while the database is unreachable' })
  @ApiOkResponse({ type: HealthReport })
  @ApiServiceUnavailableResponse({ type: HealthReport, description: 'The database is unreachable' })
  async report(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const database = await this.database();
    const [kafka, storage, outbox] = await Promise.all([
      this.kafka.check(),
      this.storage.check(),
      database.status === 'connected' ? this.stats.outboxBacklog().catch(() => null) : null,
    ]);
    const degraded =
      [kafka, storage].some((c) => c.status === 'disconnected') || ['lagging', 'disconnected'].includes(database.replica.status);
    const status = database.status !== 'connected' ? 'error' : degraded ? 'degraded' : 'ok';
    if (status === 'error') void reply.status(503);
    return { status, timestamp: new Date().toISOString(), database, kafka, storage, outbox };
  }

  @Get('live')
  @ApiOperation({ summary: 'The process answers, and its event consumer has not given up (no dependency is checked)' })
  @ApiOkResponse({ type: LiveReport })
  @ApiServiceUnavailableResponse({ type: ErrorResponse, description: 'SERVICE_UNAVAILABLE: the event consumer could not be restarted' })
  live(): LiveReport {
    if (!this.kafka.alive()) throw new DomainError('SERVICE_UNAVAILABLE', 'Not alive: the event consumer could not be restarted');
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Ready for traffic: the database answers, and the instance is not shutting down' })
  @ApiOkResponse({ type: LiveReport })
  @ApiServiceUnavailableResponse({ type: ErrorResponse, description: 'SERVICE_UNAVAILABLE' })
  async ready(): Promise<LiveReport> {
    if (this.shutdown.began) throw new DomainError('SERVICE_UNAVAILABLE', 'Not ready: shutting down');
    const result = await this.db.pingCheck('database', { timeout: PING_TIMEOUT_MS });
    if (result.database.status !== 'up') throw new DomainError('SERVICE_UNAVAILABLE', 'Not ready: the database is unreachable');
    return { status: 'ok' };
  }

  private async database(): Promise<HealthReport['database']> {
    const { connection, schema } = this.config.database;
    const facts = { embedded: connection === null, schema, replica: this.reads.status() };
    const result = await this.db.pingCheck('database', { timeout: PING_TIMEOUT_MS });
    if (result.database.status !== 'up') return { status: 'disconnected', connections: 0, ...facts };
    return { status: 'connected', connections: this.pg.pool.totalCount, ...facts };
  }
}
