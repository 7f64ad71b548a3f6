import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatabaseConfig, readDatabase } from './database-config';
import { Env, Reader } from './env-reader';

/** Used only outside production, with a warning at start-up, so `npm start` works with nothing configured. */
export const DEV_JWT_SECRET = 'dev-only-insecure-secret-do-not-use-in-production';

export interface AuthConfig {
  jwksUri: string | null;
  jwtSecret: string | null;
  /** True when the secret is the development default. */
  usingDevSecret: boolean;
  issuer: string | null;
  audience: string | null;
  adminRole: string;
  internalToken: string | null;
}

export interface KafkaConsumerConfig {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  /** How long a fetch waits for data; also bounds how long a graceful stop waits for the fetch in flight. */
  maxWaitMs: number;
  /**
   * Partitions processed at once, each in its own transaction (users are locked in id order: no deadlocks).
   * Default 1: a user's events sit on the same partition number of every topic, so concurrent batches
   * queue on the same rows; measured 2-4x slower than one at a time (bench/events/consumer.js).
   */
  concurrency: number;
  maxBytesPerPartition: number;
  /** A crashed consumer is restarted with back-off; after this many failed restarts in a row, /health/live fails. */
  maxRestarts: number;
}

/** A class only so that it can be its own injection token; values are plain objects from loadConfig. */
export abstract class AppConfig {
  env!: 'development' | 'production' | 'test';
  port!: number;
  host!: string;
  database!: DatabaseConfig;
  dataDir!: string;
  bodyLimitBytes!: number;
  auth!: AuthConfig;
  kafka!: {
    brokers: string[];
    clientId: string;
    groupId: string;
    retryInitialMs: number;
    retryMaxMs: number;
    retries: number;
    consumer: KafkaConsumerConfig;
  };
  outbox!: {
    pollIntervalMs: number;
    batchSize: number;
    backoffMaxMs: number;
    retentionHours: number;
    /** The outbox is drained in this many shards (by a hash of the user id), each under its own lock. */
    shards: number;
    /** How many shards one instance drains at once (each on a connection of its own). */
    concurrency: number;
  };
  minio!: {
    endPoint: string | null;
    port: number;
    accessKey: string;
    secretKey: string;
    bucket: string;
    useSSL: boolean;
    region: string;
    /** Each request to the store gives up after this long without a byte (a hung store must not hang uploads). */
    timeoutMs: number;
  };
  avatars!: {
    /** Where clients fetch avatar objects (a CDN, the bucket, or this service); null: derived from the store. */
    publicBaseUrl: string | null;
  };
  /** pino level; 'silent' turns logging off. */
  logLevel!: string;
  /** false: requests and database calls are not timed (no per-request metrics work); the counters and gauges stay. */
  metricsEnabled!: boolean;
  /** Idempotency-Key records older than this are deleted; the key then counts as new. */
  idempotencyKeyTtlHours!: number;
  lifecycle!: {
    /** A soft-deleted user may be restored this long; then the purge erases it. */
    deletionGraceDays: number;
    /** Audit entries older than this are deleted. */
    auditRetentionDays: number;
    /** How often every instance runs the jobs (suspension expiry, purge, audit retention); 0: never (tests run them by hand). */
    jobIntervalMs: number;
    /** Users (or audit rows, outbox rows) per job transaction. */
    jobBatchSize: number;
  };
  /** Requests slower than this are logged (at warn) even when they succeed. */
  slowRequestMs!: number;
  /** Origins allowed by CORS; empty: CORS is off. */
  corsOrigins!: string[];
  /** Requests per minute per caller; 0: no limit. */
  rateLimitPerMinute!: number;
  /**
   * Which proxies' X-Forwarded-For is believed (Fastify's trustProxy): false, nobody (the client is the TCP peer);
   * a number, that many hops nearest to us; a list, the proxies at these addresses or ranges.
   */
  trustProxy!: false | number | string[];
  /** On SIGTERM, /health/ready answers 503 this long while requests are still served, before the server closes. */
  shutdownDrainMs!: number;
  shutdownTimeoutMs!: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Reads ./.env if there is one; variables already in the environment win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

/** Reads and checks the environment once, reporting every bad variable by name. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'], 'development');
  const production = nodeEnv === 'production';

  const jwksUri = read.url('AUTH_JWKS_URI');
  const configuredSecret = read.string('AUTH_JWT_SECRET');
  if (configuredSecret !== null && configuredSecret.length < 32) {
    problems.push('AUTH_JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit key)');
  }
  const usingDevSecret = !production && jwksUri === null && configuredSecret === null;
  if (production && jwksUri === null && configuredSecret === null) {
    problems.push('AUTH_JWKS_URI or AUTH_JWT_SECRET must be set when NODE_ENV=production');
  }
  const internalToken = read.string('INTERNAL_API_TOKEN');
  if (internalToken !== null && internalToken.length < 16) {
    problems.push('INTERNAL_API_TOKEN must be at least 16 characters');
  }

  const config: AppConfig = {
    env: nodeEnv,
    port: read.int('PORT', 3003, 0, 65535),
    host: read.string('HOST') ?? '0.0.0.0',
    database: readDatabase(read, problems, production),
    dataDir: resolve(read.string('DATA_DIR') ?? './data'),
    bodyLimitBytes: read.int('HTTP_BODY_LIMIT_BYTES', 100 * 1024, 1024, 50 * 1024 * 1024),
    auth: {
      jwksUri,
      jwtSecret: configuredSecret ?? (usingDevSecret ? DEV_JWT_SECRET : null),
      usingDevSecret,
      issuer: read.string('AUTH_ISSUER'),
      audience: read.string('AUTH_AUDIENCE'),
      adminRole: read.string('AUTH_ADMIN_ROLE') ?? 'admin',
      internalToken,
    },
    kafka: {
      brokers: (read.string('KAFKA_BROKERS') ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      clientId: read.string('KAFKA_CLIENT_ID') ?? 'user-service',
      groupId: read.string('KAFKA_GROUP_ID') ?? 'user-service-group',
      retryInitialMs: read.int('KAFKA_RETRY_INITIAL_MS', 300, 1, 60_000),
      retryMaxMs: read.int('KAFKA_RETRY_MAX_MS', 30_000, 1, 600_000),
      retries: read.int('KAFKA_RETRIES', 8, 0, 100),
      consumer: {
        sessionTimeoutMs: read.int('KAFKA_SESSION_TIMEOUT_MS', 30_000, 3_000, 300_000),
        heartbeatIntervalMs: read.int('KAFKA_HEARTBEAT_INTERVAL_MS', 3_000, 100, 60_000),
        rebalanceTimeoutMs: read.int('KAFKA_REBALANCE_TIMEOUT_MS', 60_000, 3_000, 600_000),
        maxWaitMs: read.int('KAFKA_MAX_WAIT_MS', 5_000, 10, 60_000),
        concurrency: read.int('KAFKA_PARTITIONS_CONCURRENCY', 1, 1, 64),
        maxBytesPerPartition: read.int('KAFKA_MAX_BYTES_PER_PARTITION', 1024 * 1024, 1024, 100 * 1024 * 1024),
        maxRestarts: read.int('KAFKA_CONSUMER_MAX_RESTARTS', 10, 0, 1000),
      },
    },
    outbox: {
      pollIntervalMs: read.int('OUTBOX_POLL_INTERVAL_MS', 1000, 10, 3_600_000),
      batchSize: read.int('OUTBOX_BATCH_SIZE', 500, 1, 10_000),
      backoffMaxMs: read.int('OUTBOX_BACKOFF_MAX_MS', 10_000, 10, 600_000),
      retentionHours: read.int('OUTBOX_RETENTION_HOURS', 72, 1, 24 * 365),
      // At most OUTBOX_BUCKETS (outbox-shards.ts): a shard is a set of the hash buckets.
      shards: read.int('OUTBOX_SHARDS', 8, 1, 64),
      concurrency: read.int('OUTBOX_CONCURRENCY', 1, 1, 64),
    },
    minio: {
      endPoint: read.string('MINIO_ENDPOINT'),
      port: read.int('MINIO_PORT', 9000, 1, 65535),
      accessKey: read.string('MINIO_ACCESS_KEY') ?? '',
      secretKey: read.string('MINIO_SECRET_KEY') ?? '',
      bucket: read.string('MINIO_BUCKET') ?? 'avatars',
      useSSL: read.bool('MINIO_USE_SSL', false),
      region: read.string('MINIO_REGION') ?? 'us-east-1',
      timeoutMs: read.int('MINIO_TIMEOUT_MS', 5000, 100, 120_000),
    },
    avatars: {
      publicBaseUrl: read.url('AVATAR_PUBLIC_BASE_URL')?.replace(/\/+$/, '') ?? null,
    },
    // Tests start many apps; they stay quiet unless asked.
    logLevel: read.oneOf('LOG_LEVEL', ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'], nodeEnv === 'test' ? 'warn' : 'info'),
    metricsEnabled: read.bool('METRICS_ENABLED', true),
    idempotencyKeyTtlHours: read.int('IDEMPOTENCY_KEY_TTL_HOURS', 24, 1, 24 * 365),
    lifecycle: {
      deletionGraceDays: read.int('DELETION_GRACE_DAYS', 30, 0, 3650),
      auditRetentionDays: read.int('AUDIT_RETENTION_DAYS', 365, 1, 36500),
      jobIntervalMs: read.int('LIFECYCLE_JOB_INTERVAL_MS', 60_000, 0, 86_400_000),
      jobBatchSize: read.int('LIFECYCLE_JOB_BATCH_SIZE', 100, 1, 10_000),
    },
    slowRequestMs: read.int('LOG_SLOW_REQUEST_MS', 1000, 1, 3_600_000),
    corsOrigins: read.origins('CORS_ORIGINS'),
    rateLimitPerMinute: read.int('RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
    trustProxy: read.proxies('TRUST_PROXY'),
    // In production the load balancer (a Kubernetes endpoint controller) needs a few seconds to stop routing here.
    shutdownDrainMs: read.int('SHUTDOWN_DRAIN_MS', production ? 5000 : 0, 0, 600_000),
    shutdownTimeoutMs: read.int('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
  };
  const consumer = config.kafka.consumer;
  if (consumer.heartbeatIntervalMs >= consumer.sessionTimeoutMs) {
    problems.push('KAFKA_HEARTBEAT_INTERVAL_MS must be lower than KAFKA_SESSION_TIMEOUT_MS (a third of it is usual)');
  }
  if (config.minio.endPoint !== null && (!config.minio.accessKey || !config.minio.secretKey)) {
    problems.push('MINIO_ACCESS_KEY and MINIO_SECRET_KEY must be set when MINIO_ENDPOINT is set');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
