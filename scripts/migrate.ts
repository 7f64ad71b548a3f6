// Applies the pending migrations and exits: what a deployment runs before its instances start with
// DATABASE_MIGRATIONS_RUN=false (the Kubernetes Job in deploy/kubernetes runs `node dist/scripts/migrate.js`).
// Same settings as the service (DATABASE_URL or DATABASE_HOST..., DATABASE_SCHEMA, created when missing).
//
// --wait applies nothing: it returns once every migration of this build has been applied (by someone else),
// checking every 2 s; the pods' init container, so that a new image serves only on its own schema.
import 'reflect-metadata';
import { Client } from 'pg';
import { AppConfig, ConfigError, loadConfig, loadDotEnv } from '../src/config/config';
import { migrationDataSource, MIGRATIONS } from '../src/config/database';
import { pgClientConfig } from '../src/config/pg-connection';
import { runMigrationsLocked } from '../src/config/run-migrations';

const POLL_MS = 2000;

async function migrate(config: AppConfig): Promise<void> {
  const source = await (await migrationDataSource(config)).initialize();
  try {
    // The lock the instances take when they migrate at start-up: a Job and an instance never race either.
    const applied = await runMigrationsLocked(source, config.database.connection === null);
    console.log(applied.length === 0 ? 'No pending migrations' : `Applied ${applied.map((m) => m.name).join(', ')}`);
  } finally {
    await source.destroy();
  }
}

async function waitForMigrations(config: AppConfig): Promise<void> {
  let waiting = false;
  for (;;) {
    const pending = await pendingMigrations(config);
    if (pending.length === 0) return console.log('No pending migrations');
    if (!waiting) console.log(`Waiting for the migrations ${pending.join(', ')} to be applied`);
    waiting = true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Read, never created: TypeORM's own check would create the migrations table, racing the migrating Job. */
async function pendingMigrations(config: AppConfig): Promise<string[]> {
  const { connection, schema } = config.database;
  if (!connection) return []; // the embedded database belongs to one process: nobody else migrates it
  const client = new Client(pgClientConfig(connection, schema));
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${schema}.migrations`).catch((error: { code?: string }) => {
      // No schema or no migrations table yet: nothing is applied.
      if (error.code === '3F000' || error.code === '42P01') return { rows: [] };
      throw error;
    });
    const applied = new Set(rows.map((row) => row.name));
    return MIGRATIONS.map((Migration) => new Migration().name).filter((name) => !applied.has(name));
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  await (process.argv.includes('--wait') ? waitForMigrations(config) : migrate(config));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  },
);
