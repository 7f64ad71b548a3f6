import { randomBytes } from 'node:crypto';
import { MigrationInterface, QueryRunner } from 'typeorm';

// As the entity's asExpression has it, character for character (TypeORM compares the two).
const SEARCH_TEXT = `search_fold(coalesce(full_name, '') || E'\\n' || coalesce(email, '') || E'\\n' || coalesce(company_name, ''))`;

/**
 * What GET /api/v1/users needs at a million users: the text `q` searches with its trigram index, an index per
 * sort (each ending in id, the tie-breaker of keyset pages), indexes for the exact filters, and the key that
 * signs page cursors.
 *
 * Adding search_text rewrites the table. The indexes are created IF NOT EXISTS, so an operator may build them
 * beforehand with CREATE INDEX CONCURRENTLY (same names and definitions), except idx_users_search, which needs
 * the new column.
 */
export class CreateUserDirectory1764200000000 implements MigrationInterface {
  name = 'CreateUserDirectory1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`);
    await db.query(`CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public`);
    // Lower-cased, accents removed. unaccent() is only STABLE (its dictionary could change), so an index needs
    // this IMMUTABLE wrapper. BEGIN ATOMIC binds the names when the function is created, so it works whatever
    // the search_path of the session (or of VACUUM and REINDEX) is later.
    await db.query(`
      CREATE FUNCTION search_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
      BEGIN ATOMIC
        SELECT lower(unaccent('unaccent'::regdictionary, $1));
      END`);
    // What q searches, one text per user, kept by PostgreSQL: a column, not an index expression, so that a row
    // costs a plain LIKE to check (calling search_fold per row costs several times as much, and walking a
    // sort's index may check thousands of rows). The newlines keep a fragment from matching across two fields (q has none).
    await db.query(`
      ALTER TABLE users ADD COLUMN search_text TEXT NOT NULL
      GENERATED ALWAYS AS (${SEARCH_TEXT}) STORED`);
    // TypeORM keeps generated columns' expressions here (it creates the table before running migrations when
    // an entity has one); without the row, migration:generate would see a changed column.
    await db.query(`
      CREATE TABLE IF NOT EXISTS typeorm_metadata (
        "type" VARCHAR NOT NULL, "database" VARCHAR, "schema" VARCHAR, "table" VARCHAR, "name" VARCHAR, "value" TEXT
      )`);
    await db.query(
      `INSERT INTO typeorm_metadata ("database", "schema", "table", "type", "name", "value")
       VALUES (current_database(), current_schema(), 'users', 'GENERATED_COLUMN', 'search_text', $1)`,
      [SEARCH_TEXT],
    );
    // ANALYZE samples 300,000 rows of it instead of 30,000: a fragment in 1% of users (a surname) is then
    // estimated as such, not as rare, and the planner walks the sort's index instead of sorting 10,000 matches.
    await db.query(`ALTER TABLE users ALTER COLUMN search_text SET STATISTICS 1000`);
    await db.query(`CREATE INDEX IF NOT EXISTS idx_users_search ON users USING gin (search_text gin_trgm_ops)`);

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
    await db.query(`DELETE FROM typeorm_metadata WHERE "table" = 'users' AND "name" = 'search_text' AND "schema" = current_schema()`);
    await db.query(`ALTER TABLE users DROP COLUMN search_text`);
    await db.query(`DROP FUNCTION search_fold(text)`);
    // The extensions stay: other objects may use them.
  }
}
