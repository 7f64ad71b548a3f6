// The DataSource the TypeORM CLI uses: `npm run migration:run` / `migration:revert`.
import 'reflect-metadata';
import { loadConfig, loadDotEnv } from './config';
import { migrationDataSource } from './database';

loadDotEnv();
export default migrationDataSource(loadConfig());
