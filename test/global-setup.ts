import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/config';
import { dataSourceOptions } from '../src/config/database';
import { assertTestDatabase, TEST_DATABASE_URL, withClient } from './support/database';

/** Once per run: a clean schema on the real PostgreSQL, built by the service's own migrations. */
export default async function globalSetup(): Promise<void> {
  assertTestDatabase(TEST_DATABASE_URL);
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  await withClient((client) => client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public'));
  const config = loadConfig({ DATABASE_URL: TEST_DATABASE_URL, NODE_ENV: 'test' });
  const dataSource = new DataSource({ ...dataSourceOptions(config, null), migrationsRun: false });
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
}
