import { MigrationInterface, QueryRunner } from 'typeorm';

/** Responses of internal writes made with an Idempotency-Key, so that a retried call applies once. */
export class CreateIdempotencyKeys1763900000000 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1763900000000';

  async up(db: QueryRunner): Promise<void> {
    // The key alone is unique: a key reused for another user or endpoint is refused, not applied again.
    await db.query(`
      CREATE TABLE idempotency_keys (
        key VARCHAR(255) PRIMARY KEY,
        user_id UUID NOT NULL,
        endpoint VARCHAR(100) NOT NULL,
        status_code INTEGER NOT NULL,
        response JSON NOT NULL, -- json, not jsonb: a replay returns the body byte for byte, keys in order
        created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
      )`);
    await db.query(`CREATE INDEX idx_idempotency_keys_created_at ON idempotency_keys (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE idempotency_keys`);
  }
}
