import { MigrationInterface, QueryRunner } from 'typeorm';

// As the entity's asExpression has it, character for character (TypeORM compares the two).
const BUCKET = '(hashtext(aggregate_id::text) & 63)::smallint';

/**
 * The outbox's hash bucket, 0-63, from the user id (aggregate_id): the relay drains the buckets in
 * OUTBOX_SHARDS shards, each under its own locks, and polls each shard's unpublished rows in id order
 * through the partial index. Stored, so that the index and the polling query read it, not recompute it.
 */
export class ShardOutbox1764400000000 implements MigrationInterface {
  name = 'ShardOutbox1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE outbox ADD COLUMN bucket SMALLINT NOT NULL GENERATED ALWAYS AS (${BUCKET}) STORED`);
    // TypeORM keeps generated columns' expressions there (the table is CreateUserDirectory's); without the row,
    // migration:generate would see a changed column.
    await db.query(
      `INSERT INTO typeorm_metadata ("database", "schema", "table", "type", "name", "value")
       VALUES (current_database(), current_schema(), 'outbox', 'GENERATED_COLUMN', 'bucket', $1)`,
      [BUCKET],
    );
    await db.query(`CREATE INDEX idx_outbox_unpublished_bucket ON outbox (bucket, id) WHERE published_at IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX idx_outbox_unpublished_bucket`);
    await db.query(`DELETE FROM typeorm_metadata WHERE "table" = 'outbox' AND "name" = 'bucket' AND "schema" = current_schema()`);
    await db.query(`ALTER TABLE outbox DROP COLUMN bucket`);
  }
}
