import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { DataSourceOptions } from 'typeorm';
import { CreateUserSchema1763700000000 } from '../../migrations/1763700000000-CreateUserSchema';
import { NotifyOutboxInserts1763800000000 } from '../../migrations/1763800000000-NotifyOutboxInserts';
import { CreateIdempotencyKeys1763900000000 } from '../../migrations/1763900000000-CreateIdempotencyKeys';
import { AddAvatarKeys1764000000000 } from '../../migrations/1764000000000-AddAvatarKeys';
import { AccountLifecycle1764100000000 } from '../../migrations/1764100000000-AccountLifecycle';
import { OutboxEntity } from '../messaging/outbox.entity';
import { UserEntity } from '../users/persistence/user.entity';
import { AppConfig } from './config';

export const ENTITIES = [UserEntity, OutboxEntity];
// Listed, not globbed, so tests, the CLI and the compiled service load the same set.
export const MIGRATIONS = [
  CreateUserSchema1763700000000,
  NotifyOutboxInserts1763800000000,
  CreateIdempotencyKeys1763900000000,
  AddAvatarKeys1764000000000,
  AccountLifecycle1764100000000,
];

/** The in-process PostgreSQL used when no DATABASE_URL is given. */
export class EmbeddedDatabase {
  private constructor(
    readonly pglite: PGlite,
    private readonly lockFile: string,
  ) {}

  static async open(dataDir: string): Promise<EmbeddedDatabase> {
    const dir = join(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    const lockFile = join(dataDir, 'pglite.lock');
    takeLock(lockFile);
    try {
      const pglite = await PGlite.create(dir);
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
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: config.runMigrations,
    synchronize: false,
    logging: false,
    // The migrations own the schema; users.id defaults to gen_random_uuid(), built into PostgreSQL since 13.
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
  };
  if (embedded) return { ...common, extra: createPgConfig(embedded.pglite) };
  return { ...common, url: config.databaseUrl!, extra: { max: config.databasePoolSize } };
}
