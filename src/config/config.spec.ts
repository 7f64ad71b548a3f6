import { ConfigError, DEV_JWT_SECRET, loadConfig } from './config';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('starts with nothing set: port 3003, embedded database, development secret', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3003);
    expect(config.databaseUrl).toBeNull();
    expect(config.auth).toMatchObject({ jwtSecret: DEV_JWT_SECRET, usingDevSecret: true, adminRole: 'admin' });
    expect(config.kafka.brokers).toEqual([]);
    expect(config.minio.endPoint).toBeNull();
  });

  it('refuses production without real auth configuration', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual(['AUTH_JWKS_URI or AUTH_JWT_SECRET must be set when NODE_ENV=production']);
    expect(problems({ NODE_ENV: 'production', AUTH_JWKS_URI: 'https://sso.example.com/certs' })).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWKS_URI: 'https://sso.example.com/certs' }).auth.jwtSecret).toBeNull();
  });

  it('names every bad variable', () => {
    expect(
      problems({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        AUTH_JWT_SECRET: 'short',
        AUTH_JWKS_URI: 'not a url',
        MINIO_USE_SSL: 'maybe',
        MINIO_ENDPOINT: 'localhost',
        NODE_ENV: 'staging',
      }),
    ).toEqual([
      'NODE_ENV must be one of development, production, test (got "staging")',
      'AUTH_JWKS_URI must be an http(s) URL (got "not a url")',
      'AUTH_JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit key)',
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
      'PORT must be a whole number from 0 to 65535 (got "eighty")',
      'MINIO_USE_SSL must be true or false (got "maybe")',
      'MINIO_ACCESS_KEY and MINIO_SECRET_KEY must be set when MINIO_ENDPOINT is set',
    ]);
  });

  it('checks the consumer timings', () => {
    expect(loadConfig({}).kafka.consumer).toMatchObject({ sessionTimeoutMs: 30000, heartbeatIntervalMs: 3000, maxWaitMs: 5000 });
    expect(problems({ KAFKA_SESSION_TIMEOUT_MS: '4000', KAFKA_HEARTBEAT_INTERVAL_MS: '5000' })).toEqual([
      'KAFKA_HEARTBEAT_INTERVAL_MS must be lower than KAFKA_SESSION_TIMEOUT_MS (a third of it is usual)',
    ]);
    expect(problems({ KAFKA_MAX_WAIT_MS: 'soon', KAFKA_PARTITIONS_CONCURRENCY: '0' })).toEqual([
      'KAFKA_MAX_WAIT_MS must be a whole number from 10 to 60000 (got "soon")',
      'KAFKA_PARTITIONS_CONCURRENCY must be a whole number from 1 to 64 (got "0")',
    ]);
  });

  it('reads the operating variables', () => {
    expect(loadConfig({})).toMatchObject({ logLevel: 'info', corsOrigins: [], rateLimitPerMinute: 600, shutdownTimeoutMs: 10000 });
    expect(loadConfig({ NODE_ENV: 'test' }).logLevel).toBe('warn');
    expect(loadConfig({}).metricsEnabled).toBe(true);
    expect(loadConfig({ METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' })).toMatchObject({ metricsEnabled: false, logLevel: 'silent' });
    expect(problems({ METRICS_ENABLED: 'off' })).toEqual(['METRICS_ENABLED must be true or false (got "off")']);
    expect(loadConfig({}).idempotencyKeyTtlHours).toBe(24);
    expect(loadConfig({ IDEMPOTENCY_KEY_TTL_HOURS: '48' }).idempotencyKeyTtlHours).toBe(48);
    expect(problems({ IDEMPOTENCY_KEY_TTL_HOURS: '0' })).toEqual([
      'IDEMPOTENCY_KEY_TTL_HOURS must be a whole number from 1 to 8760 (got "0")',
    ]);
    expect(loadConfig({}).lifecycle).toEqual({ deletionGraceDays: 30, auditRetentionDays: 365, jobIntervalMs: 60000, jobBatchSize: 100 });
    expect(
      loadConfig({ DELETION_GRACE_DAYS: '7', AUDIT_RETENTION_DAYS: '90', LIFECYCLE_JOB_INTERVAL_MS: '0', LIFECYCLE_JOB_BATCH_SIZE: '10' })
        .lifecycle,
    ).toEqual({ deletionGraceDays: 7, auditRetentionDays: 90, jobIntervalMs: 0, jobBatchSize: 10 });
    expect(problems({ DELETION_GRACE_DAYS: '-1', AUDIT_RETENTION_DAYS: '0' })).toEqual([
      'DELETION_GRACE_DAYS must be a whole number from 0 to 3650 (got "-1")',
      'AUDIT_RETENTION_DAYS must be a whole number from 1 to 36500 (got "0")',
    ]);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).corsOrigins).toEqual([
      'https://a.example.com',
      'http://localhost:5173',
    ]);
    expect(
      problems({ CORS_ORIGINS: 'https://ok.example.com,not-an-origin', RATE_LIMIT_PER_MINUTE: '-1', SHUTDOWN_TIMEOUT_MS: 'soon' }),
    ).toEqual([
      'CORS_ORIGINS must be a comma-separated list of origins like https://app.example.com, or * (got "not-an-origin")',
      'RATE_LIMIT_PER_MINUTE must be a whole number from 0 to 1000000 (got "-1")',
      'SHUTDOWN_TIMEOUT_MS must be a whole number from 0 to 600000 (got "soon")',
    ]);
  });

  it('trusts no proxy unless TRUST_PROXY names a hop count or the proxies', () => {
    const trustProxy = (value?: string) => loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).trustProxy;
    expect(trustProxy()).toBe(false);
    expect(trustProxy('false')).toBe(false);
    expect(trustProxy('0')).toBe(false);
    expect(trustProxy('2')).toBe(2);
    expect(trustProxy('10.0.0.0/8, 192.168.1.10,fd00::/8,::1,loopback')).toEqual([
      '10.0.0.0/8',
      '192.168.1.10',
      'fd00::/8',
      '::1',
      'loopback',
    ]);
    for (const bad of ['true', '*', '101', '10.0.0.0/33', '10.0.0', '10.0.0.0/8,', 'fd00::/129', 'proxy.example.com', '1.2.3.4/8/8']) {
      expect(problems({ TRUST_PROXY: bad })).toEqual([
        'TRUST_PROXY must be false, a number of proxy hops (at most 100), or a comma-separated list of proxy addresses and ' +
          `CIDR ranges like 10.0.0.0/8,192.168.1.10 (got "${bad}")`,
      ]);
    }
  });

  it('splits Kafka brokers', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'a:9092, b:9092,' }).kafka.brokers).toEqual(['a:9092', 'b:9092']);
  });

  it('reads the outbox relay settings', () => {
    expect(loadConfig({}).outbox).toEqual({ pollIntervalMs: 1000, batchSize: 500, backoffMaxMs: 10_000, retentionHours: 72 });
    expect(problems({ OUTBOX_POLL_INTERVAL_MS: '0', OUTBOX_RETENTION_HOURS: 'soon' })).toEqual([
      'OUTBOX_POLL_INTERVAL_MS must be a whole number from 10 to 3600000 (got "0")',
      'OUTBOX_RETENTION_HOURS must be a whole number from 1 to 8760 (got "soon")',
    ]);
  });
});
