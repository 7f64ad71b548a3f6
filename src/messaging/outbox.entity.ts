import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** Events waiting to leave the process; written in the same transaction as the change they describe. */
@Entity('outbox')
@Unique('outbox_event_id_key', ['eventId'])
@Index('idx_outbox_unpublished', ['id'], { where: 'published_at IS NULL' })
// Erasure deletes a user's published events; the purge finds erased users by their user.erased event.
@Index('idx_outbox_aggregate_id', ['aggregateId'])
@Index('idx_outbox_erased', ['aggregateId'], { where: `event_type = 'user.erased'` })
export class OutboxEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'outbox_pkey' }) id: string;
  @Column({ name: 'event_id', type: 'uuid' }) eventId: string;
  @Column({ name: 'aggregate_type', type: 'varchar', length: 50 }) aggregateType: string;
  @Column({ name: 'aggregate_id', type: 'uuid' }) aggregateId: string;
  @Column({ name: 'event_type', type: 'varchar', length: 100 }) eventType: string;
  @Column({ type: 'jsonb' }) payload: object;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'published_at', type: 'timestamptz', nullable: true }) publishedAt: Date | null;
}
