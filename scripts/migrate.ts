// Applies the pending migrations and exits: what a deployment runs before its instances start with
// DATABASE_MIGRATIONS_RUN=false (the Kubernetes Job in deploy/kubernetes runs `node dist/scripts/migrate.js`).
// Same settings as the service (DATABASE_URL or DATABASE_HOST..., DATABASE_SCHEMA, created when missing).
import 'reflect-metadata';
import { ConfigError } from '../src/config/config';
import dataSource from '../src/config/data-source';

async function main(): Promise<void> {
  const source = await dataSource;
  await source.initialize();
  try {
    const applied = await source.runMigrations();
    console.log(applied.length === 0 ? 'No pending migrations' : `Applied ${applied.map((m) => m.name).join(', ')}`);
  } finally {
    await source.destroy();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  },
);
