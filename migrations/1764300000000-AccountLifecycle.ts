import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Suspension, legal hold and erasure on users; the audit trail. An erased user keeps its row (id, status, times,
 * counters) with every personal column null, which a check constraint holds the rows to.
 */
export class AccountLifecycle1764300000000 implements MigrationInterface {
  name = 'AccountLifecycle1764300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE users
        ALTER COLUMN keycloak_id DROP NOT NULL,
        ALTER COLUMN email DROP NOT NULL,
        ALTER COLUMN full_name DROP NOT NULL,
        ADD COLUMN suspension_reason VARCHAR(500),
        ADD COLUMN suspended_at TIMESTAMPTZ,
        ADD COLUMN suspended_until TIMESTAMPTZ,
        ADD COLUMN legal_hold_reason VARCHAR(500),
        ADD COLUMN legal_hold_at TIMESTAMPTZ,
        ADD COLUMN erased_at TIMESTAMPTZ,
        DROP CONSTRAINT users_status_check,
        ADD CONSTRAINT users_status_check CHECK (status IN ('active', 'suspended', 'deleted', 'erased')),
        ADD CONSTRAINT users_personal_data_check CHECK (CASE WHEN status = 'erased'
          THEN keycloak_id IS NULL AND email IS NULL AND full_name IS NULL AND company_name IS NULL AND phone IS NULL
            AND bio IS NULL AND avatar_url IS NULL AND suspension_reason IS NULL
          ELSE keycloak_id IS NOT NULL AND email IS NOT NULL AND full_name IS NOT NULL END)`);
    // The jobs' lookups: suspensions that end, deleted users whose grace window ends.
    await db.query(`CREATE INDEX idx_users_suspended_until ON users (suspended_until) WHERE status = 'suspended'`);
    await db.query(`CREATE INDEX idx_users_deleted_at ON users (deleted_at) WHERE status = 'deleted'`);

    await db.query(`
      CREATE TABLE audit_log (
        id BIGSERIAL PRIMARY KEY,
        user_id UUID NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        actor TEXT NOT NULL,
        trace_id TEXT,
        action VARCHAR(50) NOT NULL,
        changes JSONB NOT NULL DEFAULT '[]'
      )`);
    await db.query(`CREATE INDEX idx_audit_log_user ON audit_log (user_id, id)`);
    await db.query(`CREATE INDEX idx_audit_log_at ON audit_log (at)`);

    // Erasure finds a user's events and idempotency records by user; the purge finds erased users by their user.erased.
    await db.query(`CREATE INDEX idx_outbox_aggregate_id ON outbox (aggregate_id)`);
    await db.query(`CREATE INDEX idx_outbox_erased ON outbox (aggregate_id) WHERE event_type = 'user.erased'`);
    await db.query(`CREATE INDEX idx_idempotency_keys_user_id ON idempotency_keys (user_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX idx_idempotency_keys_user_id`);
    await db.query(`DROP INDEX idx_outbox_erased`);
    await db.query(`DROP INDEX idx_outbox_aggregate_id`);
    await db.query(`DROP TABLE audit_log`);
    await db.query(`DROP INDEX idx_users_deleted_at`);
    await db.query(`DROP INDEX idx_users_suspended_until`);
    // Erased rows cannot go back under the old NOT NULL constraints.
    await db.query(`DELETE FROM users WHERE status = 'erased'`);
    await db.query(`UPDATE users SET status = 'active' WHERE status = 'suspended'`);
    await db.query(`
      ALTER TABLE users
        DROP CONSTRAINT users_personal_data_check,
        DROP CONSTRAINT users_status_check,
        ADD CONSTRAINT users_status_check CHECK (status IN ('active', 'deleted')),
        DROP COLUMN erased_at,
        DROP COLUMN legal_hold_at,
        DROP COLUMN legal_hold_reason,
        DROP COLUMN suspended_until,
        DROP COLUMN suspended_at,
        DROP COLUMN suspension_reason,
        ALTER COLUMN full_name SET NOT NULL,
        ALTER COLUMN email SET NOT NULL,
        ALTER COLUMN keycloak_id SET NOT NULL`);
  }
}
