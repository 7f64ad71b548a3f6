import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quota reservations: amounts another service holds against a user's limit until the consumed event with the same
 * reference settles them, the service releases them, or they expire. Plain SQL writes the table (no entity).
 */
export class QuotaReservations1764500000000 implements MigrationInterface {
  name = 'QuotaReservations1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE quota_reservations (
        id UUID PRIMARY KEY,
        user_id UUID NOT NULL REFERENCES users (id),
        resource VARCHAR(20) NOT NULL CHECK (resource IN ('interviews', 'storage')),
        amount BIGINT NOT NULL CHECK (amount > 0),
        reference VARCHAR(255) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        expires_at TIMESTAMPTZ NOT NULL
      )`);
    // One reservation per reference: the consumed event that carries it settles exactly one. Also the user's lookups.
    await db.query(`CREATE UNIQUE INDEX idx_quota_reservations_reference ON quota_reservations (user_id, resource, reference)`);
    await db.query(`CREATE INDEX idx_quota_reservations_expires_at ON quota_reservations (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE quota_reservations`);
  }
}
