import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUserSchema1763700000000 implements MigrationInterface {
  name = 'CreateUserSchema1763700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE users (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        keycloak_id VARCHAR(255) NOT NULL,
        email VARCHAR(255) NOT NULL,
        status VARCHAR(20) NOT NULL DEFAULT 'active',
        full_name VARCHAR(255) NOT NULL,
        company_name VARCHAR(255),
        phone VARCHAR(50),
        bio TEXT,
        avatar_url TEXT,
        interviews_created INTEGER NOT NULL DEFAULT 0,
        interviews_active INTEGER NOT NULL DEFAULT 0,
        candidates_total INTEGER NOT NULL DEFAULT 0,
        storage_used BIGINT NOT NULL DEFAULT 0,
        max_interviews INTEGER NOT NULL DEFAULT 10,
        max_storage BIGINT NOT NULL DEFAULT 5368709120,
        preferences JSONB NOT NULL DEFAULT '{}',
        version INTEGER NOT NULL DEFAULT 1,
        created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        deleted_at TIMESTAMPTZ NULL,
        CONSTRAINT users_status_check CHECK (status IN ('active', 'deleted')),
        CONSTRAINT users_counters_check CHECK (
          interviews_created >= 0 AND interviews_active >= 0 AND candidates_total >= 0 AND storage_used >= 0
        )
      )`);
    // Only live users hold their email and Keycloak id: a deleted user's may register again.
    await db.query(`CREATE UNIQUE INDEX users_email_live_key ON users (email) WHERE deleted_at IS NULL`);
    await db.query(`CREATE UNIQUE INDEX users_keycloak_id_live_key ON users (keycloak_id) WHERE deleted_at IS NULL`);
    await db.query(`CREATE INDEX idx_users_created_at ON users (created_at)`);

    await db.query(`
      CREATE TABLE processed_events (
        id SERIAL PRIMARY KEY,
        event_id VARCHAR(255) NOT NULL,
        service_name VARCHAR(100) NOT NULL,
        topic VARCHAR(255) NOT NULL,
        processed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        CONSTRAINT unique_event_per_service UNIQUE (event_id, service_name)
      )`);

    await db.query(`
      CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        event_id UUID NOT NULL UNIQUE,
        aggregate_type VARCHAR(50) NOT NULL,
        aggregate_id UUID NOT NULL,
        event_type VARCHAR(100) NOT NULL,
        payload JSONB NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        published_at TIMESTAMPTZ NULL
      )`);
    await db.query(`CREATE INDEX idx_outbox_unpublished ON outbox (id) WHERE published_at IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE outbox`);
    await db.query(`DROP TABLE processed_events`);
    await db.query(`DROP TABLE users`);
  }
}
