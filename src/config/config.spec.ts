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
    expect(config.database).toEqual({ connection: null, schema: 'public', poolSize: 10, runMigrations: true, replica: null });
    expect(config.auth).toMatchObject({ jwtSecret: DEV_JWT_SECRET, usingDevSecret: true, adminRole: 'admin' });
    expect(config.kafka.brokers).toEqual([]);
    expect(config.minio.endPoint).toBeNull();
  });

  it('refuses production without real auth configuration', () => {
    const db = { DATABASE_URL: 'postgres://db/users' };
    expect(problems({ NODE_ENV: 'production', ...db })).toEqual(['AUTH_JWKS_URI or AUTH_JWT_SECRET must be set when NODE_ENV=production']);
    expect(problems({ NODE_ENV: 'production', AUTH_JWKS_URI: 'https://sso.example.com/certs', ...db })).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWKS_URI: 'https://sso.example.com/certs', ...db }).auth.jwtSecret).toBeNull();
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
      'PORT must be a whole number from 0 to 65535 (got "eighty")',
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
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
    expect(loadConfig({}).outbox).toEqual({
      pollIntervalMs: 1000,
      batchSize: 500,
      backoffMaxMs: 10_000,
      retentionHours: 72,
      shards: 8,
      concurrency: 1,
    });
    expect(problems({ OUTBOX_POLL_INTERVAL_MS: '0', OUTBOX_RETENTION_HOURS: 'soon' })).toEqual([
      'OUTBOX_POLL_INTERVAL_MS must be a whole number from 10 to 3600000 (got "0")',
      'OUTBOX_RETENTION_HOURS must be a whole number from 1 to 8760 (got "soon")',
    ]);
  });

  describe('database', () => {
    const production = { NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(32) };
    const noDatabase =
      'No database is configured: set DATABASE_URL, or DATABASE_HOST, DATABASE_NAME and DATABASE_USER (with DATABASE_PORT and ' +
      'DATABASE_PASSWORD as needed); or DATABASE_EMBEDDED=true for the embedded PGlite under DATA_DIR';

    it("reads the spec's DATABASE_HOST, _PORT, _NAME, _USER, _PASSWORD and DATABASE_SCHEMA", () => {
      const config = loadConfig({
        DATABASE_HOST: 'db.internal',
        DATABASE_NAME: 'platform',
        DATABASE_USER: 'user_service',
        DATABASE_PASSWORD: 's3cret',
        DATABASE_SCHEMA: 'user_service',
      });
      expect(config.database).toMatchObject({
        connection: { host: 'db.internal', port: 5432, database: 'platform', user: 'user_service', password: 's3cret' },
        schema: 'user_service',
      });
      expect(loadConfig({ DATABASE_HOST: 'h', DATABASE_PORT: '6432', DATABASE_NAME: 'n', DATABASE_USER: 'u' }).database.connection).toEqual(
        {
          host: 'h',
          port: 6432,
          database: 'n',
          user: 'u',
          password: null,
        },
      );
      expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/n' }).database.connection).toEqual({ url: 'postgresql://u@h/n' });
    });

    it('refuses DATABASE_URL together with the spec variables, naming them, and names what a partial set lacks', () => {
      expect(problems({ DATABASE_URL: 'postgres://h/n', DATABASE_HOST: 'h', DATABASE_PASSWORD: 'p' })).toEqual([
        'Set DATABASE_URL or DATABASE_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD, not both ' +
          '(both are set: DATABASE_URL and DATABASE_HOST, DATABASE_PASSWORD)',
      ]);
      expect(problems({ DATABASE_HOST: 'h' })).toEqual(['DATABASE_NAME, DATABASE_USER must be set too when DATABASE_HOST is set']);
      expect(problems({ DATABASE_USER: 'u', DATABASE_PASSWORD: 'p' })).toEqual([
        'DATABASE_HOST, DATABASE_NAME must be set too when DATABASE_USER, DATABASE_PASSWORD are set',
      ]);
      expect(problems({ DATABASE_HOST: 'h', DATABASE_NAME: 'n', DATABASE_USER: 'u', DATABASE_PORT: '0' })).toEqual([
        'DATABASE_PORT must be a whole number from 1 to 65535 (got "0")',
      ]);
    });

    it('runs the embedded database in production only when DATABASE_EMBEDDED=true asks for it', () => {
      expect(problems(production)).toEqual([`${noDatabase} (outside production it is the default)`]);
      expect(loadConfig({ ...production, DATABASE_EMBEDDED: 'true' }).database.connection).toBeNull();
      expect(loadConfig({}).database.connection).toBeNull();
      expect(problems({ DATABASE_EMBEDDED: 'false' })).toEqual([noDatabase]);
      expect(problems({ DATABASE_EMBEDDED: 'true', DATABASE_URL: 'postgres://h/n' })).toEqual([
        'DATABASE_EMBEDDED=true cannot be combined with DATABASE_URL',
      ]);
      expect(problems({ DATABASE_EMBEDDED: 'true', DATABASE_HOST: 'h', DATABASE_NAME: 'n', DATABASE_USER: 'u' })).toEqual([
        'DATABASE_EMBEDDED=true cannot be combined with DATABASE_HOST, DATABASE_NAME, DATABASE_USER',
      ]);
    });

    it('takes a plain identifier as DATABASE_SCHEMA', () => {
      expect(loadConfig({ DATABASE_SCHEMA: 'tenant_2' }).database.schema).toBe('tenant_2');
      expect(loadConfig({ DATABASE_SCHEMA: 'a'.repeat(56) }).database.schema).toBe('a'.repeat(56));
      for (const bad of ['User_Service', 'user-service', '2users', 'pg_users', 'a.b', '"x"', 'a'.repeat(57)]) {
        expect(problems({ DATABASE_SCHEMA: bad })).toEqual([
          `DATABASE_SCHEMA must be a lower-case identifier (a-z, 0-9, _; not starting with a digit or pg_) of at most 56 characters (got "${bad}")`,
        ]);
      }
    });

    it('reads the replica settings', () => {
      const primary = { DATABASE_URL: 'postgres://primary/n', DATABASE_POOL_SIZE: '7' };
      expect(loadConfig(primary).database.replica).toBeNull();
      expect(loadConfig({ ...primary, DATABASE_READ_URL: 'postgres://replica/n' }).database.replica).toEqual({
        connection: { url: 'postgres://replica/n' },
        poolSize: 7,
        maxLagMs: 1000,
        checkIntervalMs: 1000,
      });
      const tuned = {
        ...primary,
        DATABASE_READ_URL: 'postgres://replica/n',
        DATABASE_READ_POOL_SIZE: '3',
        DATABASE_READ_MAX_LAG_MS: '250',
        DATABASE_READ_CHECK_INTERVAL_MS: '100',
      };
      expect(loadConfig(tuned).database.replica).toMatchObject({ poolSize: 3, maxLagMs: 250, checkIntervalMs: 100 });
      expect(problems({ ...primary, DATABASE_READ_URL: 'http://replica' })).toEqual([
        'DATABASE_READ_URL must be a postgres:// or postgresql:// URL',
      ]);
      expect(problems({ DATABASE_READ_URL: 'postgres://replica/n' })).toEqual([
        'DATABASE_READ_URL needs a PostgreSQL primary (DATABASE_URL or DATABASE_HOST, ...)',
      ]);
    });
  });
});
