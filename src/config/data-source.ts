// The DataSource the TypeORM CLI uses: `npm run migration:run` / `migration:revert`.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig, loadDotEnv } from './config';
import { dataSourceOptions, EmbeddedDatabase } from './database';
import { createSchemaIfMissing } from './pg-connection';

async function create(): Promise<DataSource> {
  loadDotEnv();
  const config = loadConfig();
  const { connection, schema } = config.database;
  if (connection) await createSchemaIfMissing(connection, schema);
  const embedded = connection ? null : await EmbeddedDatabase.open(config.dataDir, schema);
  if (embedded) process.once('exit', () => void embedded.close());
  return new DataSource({ ...dataSourceOptions(config, embedded), migrationsRun: false });
}

export default create();
