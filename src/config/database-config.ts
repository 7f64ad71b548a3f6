import { Reader } from './env-reader';

/** A PostgreSQL server: DATABASE_URL, or the spec's DATABASE_HOST, _PORT, _NAME, _USER and _PASSWORD. */
export type PgConnection = { url: string } | { host: string; port: number; database: string; user: string; password: string | null };

export interface ReplicaConfig {
  connection: PgConnection;
  poolSize: number;
  /** Queries read from the primary while the replica is further behind than this, or unreachable. */
  maxLagMs: number;
  /** How often the replica's lag is measured (on a timer, never per request). */
  checkIntervalMs: number;
}

export interface DatabaseConfig {
  /** null: the embedded PGlite under DATA_DIR. */
  connection: PgConnection | null;
  /** Every table, the migrations table, the outbox trigger and its NOTIFY channel live in this schema. */
  schema: string;
  poolSize: number;
  runMigrations: boolean;
  /** Where queries read (DATABASE_READ_URL); null: from the primary. */
  replica: ReplicaConfig | null;
}

const PARTS = ['DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_NAME', 'DATABASE_USER', 'DATABASE_PASSWORD'];
const REQUIRED_PARTS = ['DATABASE_HOST', 'DATABASE_NAME', 'DATABASE_USER'];
// The NOTIFY channel is "outbox_<schema>", and a channel name has at most 63 bytes.
const SCHEMA_MAX_LENGTH = 56;

export function readDatabase(read: Reader, problems: string[], production: boolean): DatabaseConfig {
  const url = postgresUrl(read, problems, 'DATABASE_URL');
  const partsSet = PARTS.filter((name) => read.string(name) !== null);
  const embeddedAsked = read.bool('DATABASE_EMBEDDED', false);
  const poolSize = read.int('DATABASE_POOL_SIZE', 10, 1, 1000);

  let connection: PgConnection | null = null;
  if (url !== null && partsSet.length > 0) {
    problems.push(`Set DATABASE_URL or ${PARTS.join(', ')}, not both (both are set: DATABASE_URL and ${partsSet.join(', ')})`);
  } else if (url !== null) {
    connection = { url };
  } else if (partsSet.length > 0) {
    const missing = REQUIRED_PARTS.filter((name) => !partsSet.includes(name));
    if (missing.length > 0) problems.push(`${missing.join(', ')} must be set too when ${partsSet.join(', ')} ${verb(partsSet)} set`);
    const port = read.int('DATABASE_PORT', 5432, 1, 65535);
    connection = {
      host: read.string('DATABASE_HOST') ?? '',
      port,
      database: read.string('DATABASE_NAME') ?? '',
      user: read.string('DATABASE_USER') ?? '',
      password: read.string('DATABASE_PASSWORD'),
    };
  }
  const configured = url !== null || partsSet.length > 0;
  if (embeddedAsked && configured) {
    problems.push(`DATABASE_EMBEDDED=true cannot be combined with ${url !== null ? 'DATABASE_URL' : partsSet.join(', ')}`);
  }
  if (!configured && !embeddedAsked && (production || read.string('DATABASE_EMBEDDED') !== null)) {
    problems.push(
      `No database is configured: set DATABASE_URL, or DATABASE_HOST, DATABASE_NAME and DATABASE_USER (with DATABASE_PORT and ` +
        `DATABASE_PASSWORD as needed); or DATABASE_EMBEDDED=true for the embedded PGlite under DATA_DIR` +
        (production ? ' (outside production it is the default)' : ''),
    );
  }

  const replicaUrl = postgresUrl(read, problems, 'DATABASE_READ_URL');
  if (replicaUrl !== null && !configured)
    problems.push('DATABASE_READ_URL needs a PostgreSQL primary (DATABASE_URL or DATABASE_HOST, ...)');
  const replica: ReplicaConfig | null =
    replicaUrl === null
      ? null
      : {
          connection: { url: replicaUrl },
          poolSize: read.int('DATABASE_READ_POOL_SIZE', poolSize, 1, 1000),
          maxLagMs: read.int('DATABASE_READ_MAX_LAG_MS', 1000, 0, 3_600_000),
          checkIntervalMs: read.int('DATABASE_READ_CHECK_INTERVAL_MS', 1000, 50, 60_000),
        };

  return {
    connection,
    schema: schemaName(read, problems),
    poolSize,
    runMigrations: read.bool('DATABASE_MIGRATIONS_RUN', true),
    replica,
  };
}

function postgresUrl(read: Reader, problems: string[], name: string): string | null {
  const url = read.string(name);
  if (url === null || /^postgres(ql)?:\/\//.test(url)) return url;
  problems.push(`${name} must be a postgres:// or postgresql:// URL`);
  return null;
}

/** A plain identifier, so that it needs no quoting anywhere (search_path, CREATE SCHEMA, the channel name). */
function schemaName(read: Reader, problems: string[]): string {
  const schema = read.string('DATABASE_SCHEMA') ?? 'public';
  if (/^[a-z_][a-z0-9_]*$/.test(schema) && schema.length <= SCHEMA_MAX_LENGTH && !schema.startsWith('pg_')) return schema;
  problems.push(
    `DATABASE_SCHEMA must be a lower-case identifier (a-z, 0-9, _; not starting with a digit or pg_) of at most ` +
      `${SCHEMA_MAX_LENGTH} characters (got "${schema}")`,
  );
  return 'public';
}

function verb(names: string[]): string {
  return names.length === 1 ? 'is' : 'are';
}
