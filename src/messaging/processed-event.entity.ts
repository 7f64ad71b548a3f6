import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** Inbox of consumed events: a row per event id makes a redelivered event a no-op. */
@Entity('processed_events')
@Unique('unique_event_per_service', ['eventId', 'serviceName'])
export class ProcessedEventEntity {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'processed_events_pkey' }) id: number;
  @Column({ name: 'event_id', type: 'varchar', length: 255 }) eventId: string;
  @Column({ name: 'service_name', type: 'varchar', length: 100 }) serviceName: string;
  @Column({ type: 'varchar', length: 255 }) topic: string;
  @Column({ name: 'processed_at', type: 'timestamptz', default: () => 'now()' }) processedAt: Date;
}
