import { Client } from 'pg';
import { call, RunningApp, startApp, testConfig } from './support/app';
import { sql, TEST_DATABASE_URL, withClient } from './support/database';

describe('health', () => {
  describe('on a working database', () => {
    let api: RunningApp;
    beforeAll(async () => {
      api = await startApp();
    });
    afterAll(() => api.close());

    it('GET /health reports every dependency and the outbox backlog', async () => {
      const res = await call(api.url, 'GET', '/health');
      expect(res.status).toBe(200);
      const [outbox] = await sql<{ pending: string }>('SELECT count(*) AS pending FROM outbox WHERE published_at IS NULL');
      expect(res.body).toEqual({
        status: 'ok',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        database: {
          status: 'connected',
          connections: expect.any(Number),
          embedded: false,
          schema: 'public',
          replica: { status: 'disabled', lagMs: null, maxLagMs: null, readsFromReplica: false, connections: 0 },
        },
        kafka: { status: 'disabled', broker: null, consumer: 'disabled' },
        storage: { status: 'connected', kind: 'local' },
        outbox: { pending: Number(outbox.pending), oldestAgeSeconds: expect.any(Number) },
      });
      expect(res.body.database.connections).toBeGreaterThan(0);
    });

    it('GET /health/live and /health/ready answer 200 without a token', async () => {
      expect(await call(api.url, 'GET', '/health/live')).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(await call(api.url, 'GET', '/health/ready')).toMatchObject({ status: 200, body: { status: 'ok' } });
    });
  });

  /** A database of its own that the test can lock the service out of, for real. */
  describe('when the database stops accepting connections', () => {
    const url = new URL(TEST_DATABASE_URL);
    url.pathname += '_ready';
    const name = url.pathname.slice(1);
    let api: RunningApp;

    const admin = (text: string) => withClient((client: Client) => client.query(text));
    const lockOut = async () => {
      await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    };

    beforeAll(async () => {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin(`CREATE DATABASE ${name}`);
      // Warnings are expected here (the outage); keep the test output clean.
      api = await startApp(testConfig({ DATABASE_URL: url.toString(), DATABASE_MIGRATIONS_RUN: 'true', LOG_LEVEL: 'error' }));
    });
    afterAll(async () => {
      await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await api?.close();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });

    it('is not ready (503 in the error format) but alive, and ready again once the database is back', async () => {
      expect((await call(api.url, 'GET', '/health/ready')).status).toBe(200);
      await lockOut();

      const ready = await call(api.url, 'GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'SERVICE_UNAVAILABLE',
        message: 'Not ready: the database is unreachable',
        timestamp: expect.any(String),
        path: '/health/ready',
        traceId: ready.headers.get('x-request-id'),
      });
      expect(await call(api.url, 'GET', '/health/live')).toMatchObject({ status: 200, body: { status: 'ok' } });
      const health = await call(api.url, 'GET', '/health');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'error', database: { status: 'disconnected' }, outbox: null });
      // Metrics still answer: process metrics matter most during an outage.
      expect((await call(api.url, 'GET', '/metrics')).status).toBe(200);

      await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      expect((await call(api.url, 'GET', '/health/ready')).status).toBe(200);
      expect((await call(api.url, 'GET', '/health')).body).toMatchObject({ status: 'ok', outbox: { pending: 0, oldestAgeSeconds: 0 } });
    });
  });
});
