import { DataSource, Migration } from 'typeorm';

/**
 * Applies the pending migrations while holding a session advisory lock keyed on the schema, so that
 * instances started together on an empty database migrate one after the other (the first applies them,
 * the others find nothing pending) instead of racing to create the same tables. Deployments in other
 * schemas of the database take other keys and do not wait. The embedded PGlite (`embedded`) has a single
 * connection, which the lock would keep from the migrations, and belongs to one process anyway.
 */
export async function runMigrationsLocked(dataSource: DataSource, embedded: boolean): Promise<Migration[]> {
  if (embedded) return dataSource.runMigrations();
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtext('user-service:migrations'), hashtext(current_schema()))`);
    try {
      return await dataSource.runMigrations();
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(hashtext('user-service:migrations'), hashtext(current_schema()))`);
    }
  } finally {
    await lock.release();
  }
}
