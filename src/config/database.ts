import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Extension, PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { DataSource, DataSourceOptions } from 'typeorm';
import { CreateUserSchema1763700000000 } from '../../migrations/1763700000000-CreateUserSchema';
import { NotifyOutboxInserts1763800000000 } from '../../migrations/1763800000000-NotifyOutboxInserts';
import { CreateIdempotencyKeys1763900000000 } from '../../migrations/1763900000000-CreateIdempotencyKeys';
import { AddAvatarKeys1764000000000 } from '../../migrations/1764000000000-AddAvatarKeys';
import { NotifyOutboxPerSchema1764100000000 } from '../../migrations/1764100000000-NotifyOutboxPerSchema';
import { CreateUserDirectory1764200000000 } from '../../migrations/1764200000000-CreateUserDirectory';
import { AccountLifecycle1764300000000 } from '../../migrations/1764300000000-AccountLifecycle';
import { ShardOutbox1764400000000 } from '../../migrations/1764400000000-ShardOutbox';
import { QuotaReservations1764500000000 } from '../../migrations/1764500000000-QuotaReservations';
import { OutboxEntity } from '../messaging/outbox.entity';
import { UserEntity } from '../users/persistence/user.entity';
import { AppConfig } from './config';
import { createSchemaIfMissing, pgClientConfig } from './pg-connection';
import { runMigrationsLocked } from './run-migrations';

export const ENTITIES = [UserEntity, OutboxEntity];
// Listed, not globbed, so tests, the CLI and the compiled service load the same set.
export const MIGRATIONS = [
  CreateUserSchema1763700000000,
  NotifyOutboxInserts1763800000000,
  CreateIdempotencyKeys1763900000000,
  AddAvatarKeys1764000000000,
  NotifyOutboxPerSchema1764100000000,
  CreateUserDirectory1764200000000,
  AccountLifecycle1764300000000,
  ShardOutbox1764400000000,
  QuotaReservations1764500000000,
];

// The directory's search (migration CreateUserDirectory) needs both. Required, not imported: the contrib
// modules declare ESM types only, though they ship a CommonJS build, which is what require() loads.
const EXTENSIONS = {
  pg_trgm: (require('@electric-sql/pglite/contrib/pg_trgm') as { pg_trgm: Extension }).pg_trgm,
  unaccent: (require('@electric-sql/pglite/contrib/unaccent') as { unaccent: Extension }).unaccent,
};

/** The in-process PostgreSQL used when no database is configured (outside production) or DATABASE_EMBEDDED=true. */
export class EmbeddedDatabase {
  private constructor(
    readonly pglite: PGlite,
    private readonly lockFile: string,
  ) {}

  /** Its one connection works in `schema` (created if missing), as the pooled ones do on PostgreSQL. */
  static async open(dataDir: string, schema = 'public'): Promise<EmbeddedDatabase> {
    const dir = join(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    const lockFile = join(dataDir, 'pglite.lock');
    takeLock(lockFile);
    try {
      const pglite = await PGlite.create(dir, { extensions: EXTENSIONS });
      await pglite.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}, public`);
      return new EmbeddedDatabase(pglite, lockFile);
    } catch (error) {
      rmSync(lockFile, { force: true });
      throw error;
    }
  }

  /** Nest calls this after TypeORM's own shutdown hook (a deeper module), so the pool is already closed. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    if (this.pglite.closed) return;
    await this.pglite.close();
    rmSync(this.lockFile, { force: true });
  }
}

/** PGlite does not lock its directory, and two processes writing one would corrupt it. */
function takeLock(lockFile: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8'));
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `The embedded database in ${lockFile.replace(/pglite\.lock$/, '')} is in use by process ${owner}; ` +
            'stop it or set DATA_DIR to another directory',
          { cause: error },
        );
      }
      rmSync(lockFile, { force: true }); // left by a process that died
    }
  }
  throw new Error(`Could not lock ${lockFile}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function dataSourceOptions(config: AppConfig, embedded: EmbeddedDatabase | null): DataSourceOptions {
  const { connection, schema, poolSize } = config.database;
  const common = {
    type: 'postgres' as const,
    // Tables and the migrations table live there; search_path (pgClientConfig) resolves our plain SQL there too.
    schema,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    // openDataSource runs them, under a lock.
    migrationsRun: false,
    synchronize: false,
    logging: false,
    // The migrations own the schema; users.id defaults to gen_random_uuid(), built into PostgreSQL since 13.
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
  };
  if (embedded) return { ...common, extra: createPgConfig(embedded.pglite) };
  return { ...common, extra: { ...pgClientConfig(connection!, schema), application_name: 'user-service', max: poolSize } };
}

/** The service's DataSource, connected, with the pending migrations applied when DATABASE_MIGRATIONS_RUN says so. */
export async function openDataSource(
  options: DataSourceOptions,
  config: AppConfig,
  embedded: EmbeddedDatabase | null,
): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize();
  try {
    if (config.database.runMigrations) await runMigrationsLocked(dataSource, embedded !== null);
    return dataSource;
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

/**
 * A DataSource for tools that migrate outside the service (the TypeORM CLI, scripts/migrate.ts): the schema
 * created when missing, nothing run on initialize.
 */
export async function migrationDataSource(config: AppConfig): Promise<DataSource> {
  const { connection, schema } = config.database;
  if (connection) await createSchemaIfMissing(connection, schema);
  const embedded = connection ? null : await EmbeddedDatabase.open(config.dataDir, schema);
  if (embedded) process.once('exit', () => void embedded.close());
  return new DataSource(dataSourceOptions(config, embedded));
}
