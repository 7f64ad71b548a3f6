import { MigrationInterface, QueryRunner } from 'typeorm';

/** Wakes the outbox relay when events are committed (NOTIFY is delivered on commit, never on rollback). */
export class NotifyOutboxInserts1763800000000 implements MigrationInterface {
  name = 'NotifyOutboxInserts1763800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox', '');
        RETURN NULL;
      END $$`);
    // Per statement, not per row: one wake-up per command is enough, and PostgreSQL folds equal notifications of a transaction into one.
    await db.query(`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER outbox_notify ON outbox`);
    await db.query(`DROP FUNCTION outbox_notify()`);
  }
}
