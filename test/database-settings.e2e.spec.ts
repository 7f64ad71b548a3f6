import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call, createUser, TEST_SECRET } from './support/app';
import { buildService, Service, startService } from './support/built-service';
import { sql, TEST_DATABASE_URL } from './support/database';

/** The built service as production starts it, configured by the spec's database variables alone. */
describe("the spec's database settings", () => {
  const schema = `spec_${Date.now().toString(36)}${process.pid}`;
  const started: Service[] = [];
  beforeAll(buildService, 120_000);
  afterEach(() => {
    for (const service of started.splice(0)) if (service.child.exitCode === null) service.child.kill('SIGKILL');
  });
  afterAll(() => sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));

  const url = new URL(TEST_DATABASE_URL);
  const specVariables = {
    DATABASE_URL: '', // startService sets one; the spec's variables replace it
    DATABASE_HOST: url.hostname,
    DATABASE_PORT: url.port || '5432',
    DATABASE_NAME: url.pathname.slice(1),
    DATABASE_USER: decodeURIComponent(url.username),
    DATABASE_PASSWORD: decodeURIComponent(url.password) || 'unused-with-trust-auth',
    DATABASE_SCHEMA: schema,
    DATABASE_MIGRATIONS_RUN: 'true',
  };

  it('runs on PostgreSQL in DATABASE_SCHEMA, created with its tables at start-up', async () => {
    const service = await startService(specVariables);
    started.push(service);
    const { id, keycloakId } = await createUser(service.url);

    const [row] = await sql<{ keycloak_id: string }>(`SELECT keycloak_id FROM ${schema}.users WHERE id = $1`, [id]);
    expect(row.keycloak_id).toBe(keycloakId);
    expect(await sql(`SELECT 1 FROM public.users WHERE id = $1`, [id])).toHaveLength(0);
    const [migrations] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.migrations`);
    expect(migrations.n).toBeGreaterThan(0);
    const health = await call(service.url, 'GET', '/health');
    expect(health.body.database).toMatchObject({ status: 'connected', embedded: false, schema });

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });

  /** What the service printed before exiting with 1 at start-up. */
  const startupFailure = (env: Record<string, string>) =>
    startService(env).then(
      (service) => {
        started.push(service);
        return 'it started';
      },
      (error: Error) => error.message,
    );

  it('migrates with node dist/scripts/migrate.js (the Kubernetes Job), then runs with DATABASE_MIGRATIONS_RUN=false', async () => {
    const jobSchema = `${schema}_job`;
    try {
      const env = { ...process.env, ...specVariables, DATABASE_SCHEMA: jobSchema, NODE_ENV: 'production', AUTH_JWT_SECRET: TEST_SECRET };
      const migrate = (...args: string[]) =>
        promisify(execFile)(process.execPath, ['dist/scripts/migrate.js', ...args], { cwd: join(__dirname, '..'), env });
      // The pods' init container: waits while the schema is behind this build, without touching it.
      let waited = false;
      const waiting = migrate('--wait').then((result) => ((waited = true), result));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(waited).toBe(false);
      expect(await sql('SELECT 1 FROM pg_namespace WHERE nspname = $1', [jobSchema])).toHaveLength(0);

      expect((await migrate()).stdout).toMatch(/^Applied CreateUserSchema1763700000000, .*NotifyOutboxPerSchema1764100000000/);
      expect((await migrate()).stdout).toBe('No pending migrations\n');
      expect((await waiting).stdout).toMatch(/^Waiting for the migrations CreateUserSchema1763700000000, .*\nNo pending migrations\n$/);

      const service = await startService({ ...specVariables, DATABASE_SCHEMA: jobSchema, DATABASE_MIGRATIONS_RUN: 'false' });
      started.push(service);
      const { id } = await createUser(service.url);
      expect(await sql(`SELECT 1 FROM ${jobSchema}.users WHERE id = $1`, [id])).toHaveLength(1);
    } finally {
      await sql(`DROP SCHEMA IF EXISTS ${jobSchema} CASCADE`);
    }
  });

  it('refuses to start in production with no database configured, naming the variables', async () => {
    const message = await startupFailure({ DATABASE_URL: '' });
    expect(message).toContain('exited with 1');
    expect(message).toContain('No database is configured: set DATABASE_URL, or DATABASE_HOST, DATABASE_NAME and DATABASE_USER');
    expect(message).toContain('or DATABASE_EMBEDDED=true for the embedded PGlite');
  });

  it('refuses DATABASE_URL together with the spec variables', async () => {
    const message = await startupFailure({ ...specVariables, DATABASE_URL: TEST_DATABASE_URL });
    expect(message).toContain(
      'Set DATABASE_URL or DATABASE_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD, not both',
    );
  });
});
