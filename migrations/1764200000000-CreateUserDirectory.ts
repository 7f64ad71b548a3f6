import { randomBytes } from 'node:crypto';
import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What GET /api/v1/users needs at a million users: a trigram index for `q`, an index per sort (each ending in
 * id, the tie-breaker of keyset pages), indexes for the exact filters, and the key that signs page cursors.
 *
 * Indexes are created IF NOT EXISTS, so an operator may build them beforehand with CREATE INDEX CONCURRENTLY
 * (same names and definitions) instead of blocking writes to a large table while the migration builds them.
 */
export class CreateUserDirectory1764200000000 implements MigrationInterface {
  name = 'CreateUserDirectory1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await db.query(`CREATE EXTENSION IF NOT EXISTS unaccent`);
    // Lower-cased, accents removed. unaccent() is only STABLE (its dictionary could change), so an index needs
    // this IMMUTABLE wrapper. BEGIN ATOMIC binds the names when the function is created, so it works whatever
    // the search_path of the session (or of VACUUM and REINDEX) is later.
    await db.query(`
      CREATE FUNCTION search_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
      BEGIN ATOMIC
        SELECT lower(unaccent('unaccent'::regdictionary, $1));
      END`);
    // One text per user for q; the newlines keep a fragment from matching across two fields (q has none).
    await db.query(`
      CREATE INDEX IF NOT EXISTS idx_users_search ON users
      USING gin (search_fold(full_name || E'\\n' || email || E'\\n' || coalesce(company_name, '')) gin_trgm_ops)`);
    // ANALYZE samples 300,000 rows of it instead of 30,000: a fragment in 1% of users (a surname) is then
    // estimated as such, not as rare, and the planner walks the sort's index instead of sorting 10,000 matches.
    await db.query(`ALTER INDEX idx_users_search ALTER COLUMN 1 SET STATISTICS 1000`);

    await db.query(`DROP INDEX IF EXISTS idx_users_created_at`);
    await db.query(`CREATE INDEX IF NOT EXISTS idx_users_created_at_id ON users (created_at, id)`);
    await db.query(`CREATE INDEX IF NOT EXISTS idx_users_updated_at_id ON users (updated_at, id)`);
    await db.query(`CREATE INDEX IF NOT EXISTS idx_users_full_name_id ON users (search_fold(full_name), id)`);
    await db.query(`CREATE INDEX IF NOT EXISTS idx_users_company_name ON users (lower(company_name))`);
    await db.query(`CREATE INDEX IF NOT EXISTS idx_users_language ON users ((preferences ->> 'language'))`);
    // Live users' email and Keycloak id have their unique indexes; these find the (few) deleted ones.
    await db.query(`CREATE INDEX IF NOT EXISTS idx_users_email_deleted ON users (email) WHERE deleted_at IS NOT NULL`);
    await db.query(`CREATE INDEX IF NOT EXISTS idx_users_keycloak_id_deleted ON users (keycloak_id) WHERE deleted_at IS NOT NULL`);

    // In the database, not in configuration: every instance signs and checks cursors with the same key.
    await db.query(`CREATE TABLE signing_keys (name VARCHAR(100) PRIMARY KEY, secret BYTEA NOT NULL)`);
    await db.query(`INSERT INTO signing_keys (name, secret) VALUES ('directory_cursor', $1)`, [randomBytes(32)]);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE signing_keys`);
    for (const index of [
      'idx_users_keycloak_id_deleted',
      'idx_users_email_deleted',
      'idx_users_language',
      'idx_users_company_name',
      'idx_users_full_name_id',
      'idx_users_updated_at_id',
      'idx_users_created_at_id',
      'idx_users_search',
    ]) {
      await db.query(`DROP INDEX ${index}`);
    }
    await db.query(`CREATE INDEX idx_users_created_at ON users (created_at)`);
    await db.query(`DROP FUNCTION search_fold(text)`);
    // The extensions stay: other objects may use them.
  }
}
