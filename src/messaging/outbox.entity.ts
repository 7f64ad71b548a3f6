import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

// As the migration ShardOutbox has it, character for character (TypeORM compares the two).
const OUTBOX_BUCKET = '(hashtext(aggregate_id::text) & 63)::smallint';

/** Events waiting to leave the process; written in the same transaction as the change they describe. */
@Entity('outbox')
@Unique('outbox_event_id_key', ['eventId'])
@Index('idx_outbox_unpublished', ['id'], { where: 'published_at IS NULL' })
// The sharded relay polls each of its buckets in id order (migration ShardOutbox).
@Index('idx_outbox_unpublished_bucket', ['bucket', 'id'], { where: 'published_at IS NULL' })
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
  /** The relay's hash bucket of the user id (messaging/outbox-shards.ts); PostgreSQL computes it. */
  @Column({ type: 'smallint', generatedType: 'STORED', asExpression: OUTBOX_BUCKET, insert: false, update: false, select: false })
  bucket: number;
}
