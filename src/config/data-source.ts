// The DataSource the TypeORM CLI uses: `npm run migration:run` / `migration:revert`.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig, loadDotEnv } from './config';
import { dataSourceOptions, EmbeddedDatabase } from './database';

async function create(): Promise<DataSource> {
  loadDotEnv();
  const config = loadConfig();
  const embedded = config.databaseUrl ? null : await EmbeddedDatabase.open(config.dataDir);
  if (embedded) process.once('exit', () => void embedded.close());
  return new DataSource({ ...dataSourceOptions(config, embedded), migrationsRun: false });
}

export default create();
