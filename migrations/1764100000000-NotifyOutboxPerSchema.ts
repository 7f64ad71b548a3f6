import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox trigger notifies "outbox_<schema>" instead of "outbox": NOTIFY channels are per database, so
 * deployments in two schemas of one database would otherwise wake each other's relays.
 */
export class NotifyOutboxPerSchema1764100000000 implements MigrationInterface {
  name = 'NotifyOutboxPerSchema1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, '');
        RETURN NULL;
      END $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox', '');
        RETURN NULL;
      END $$`);
  }
}
