import { Client, ClientConfig } from 'pg';
import { PgConnection } from './database-config';

/**
 * pg's settings for a connection that works in `schema`: its search_path is set at connection start
 * (the `options` startup parameter), so every connection (pool, listener, replica) resolves the
 * unqualified names of our SQL there; public follows, for extensions installed there (pg_trgm).
 */
export function pgClientConfig(connection: PgConnection, schema: string): ClientConfig {
  const searchPath = `-c search_path=${schema === 'public' ? 'public' : `${schema},public`}`;
  if (!('url' in connection)) {
    const { host, port, database, user, password } = connection;
    return { host, port, database, user, password: password ?? undefined, options: searchPath };
  }
  // pg lets the URL's own options win over ours: fold them together instead.
  const url = new URL(connection.url);
  const own = url.searchParams.get('options');
  if (own === null) return { connectionString: connection.url, options: searchPath };
  url.searchParams.delete('options');
  return { connectionString: url.toString(), options: `${own} ${searchPath}` };
}

/**
 * Creates the schema unless it exists. Looks first: CREATE SCHEMA IF NOT EXISTS still needs the CREATE
 * privilege on the database, which a user given a schema made for it may not have.
 */
export async function createSchemaIfMissing(connection: PgConnection, schema: string): Promise<void> {
  const client = new Client({ ...pgClientConfig(connection, 'public'), application_name: 'user-service-migrations' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (error) {
    // Another instance starting at the same time created it first.
    if ((error as { code?: string }).code !== '23505') throw error;
  } finally {
    await client.end();
  }
}
