import { Client } from 'pg';
import { call, createUser } from './support/app';
import { buildService, Service, startService } from './support/built-service';
import { TEST_DATABASE_URL } from './support/database';
import { waitFor } from './support/wait';

/** Holds a row lock on the user, so that changes to it stay in flight until released. */
async function lockUser(id: string): Promise<{ release(): Promise<void>; waiting(): Promise<number> }> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [id]);
  return {
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
    waiting: async () => {
      // Statistics views are read once per transaction unless the snapshot is dropped.
      await client.query('SELECT pg_stat_clear_snapshot()');
      return Number(
        (await client.query("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))
          .rows[0].n,
      );
    },
  };
}

describe('graceful shutdown of the built service', () => {
  const started: Service[] = [];
  // A failed test must not leave a service running (Jest would wait for it forever).
  afterEach(() => {
    for (const service of started.splice(0)) if (service.child.exitCode === null) service.child.kill('SIGKILL');
  });
  beforeAll(buildService, 120_000);

  async function userInFlight(url: string, requests: number) {
    const { id, token } = await createUser(url);
    const lock = await lockUser(id);
    const inFlight = Array.from({ length: requests }, (_, i) =>
      call(url, 'PATCH', `/api/v1/users/${id}`, { token, body: { profile: { bio: `in flight ${i}` } } }).catch((error: Error) => ({
        status: 0,
        body: error.message,
      })),
    );
    await waitFor(async () => (await lock.waiting()) === requests, 10_000, `${requests} requests waiting on the row lock`);
    return { lock, inFlight };
  }

  it('on SIGTERM stops accepting, finishes the requests in flight, closes the pool and exits 0', async () => {
    const service = await startService();
    started.push(service);
    const { lock, inFlight } = await userInFlight(service.url, 6);

    service.child.kill('SIGTERM');
    await waitFor(async () => service.logs.some((l) => l.includes('SIGTERM received')), 10_000, 'the shutdown to start');
    await waitFor(
      () =>
        fetch(`${service.url}/health/live`).then(
          () => false,
          () => true,
        ),
      10_000,
      'the listening socket to close',
    );
    expect(service.child.exitCode).toBeNull(); // still serving what it accepted

    await lock.release();
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(results.map((r) => r.body.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(await service.exited).toBe(0);
    expect(service.logs.some((l) => l.includes('Shut down cleanly'))).toBe(true);
    for (const line of service.logs) expect(() => JSON.parse(line)).not.toThrow();
  }, 30_000);

  it('on SIGTERM reports not-ready at once and keeps serving for SHUTDOWN_DRAIN_MS, then closes and exits 0', async () => {
    const service = await startService({ SHUTDOWN_DRAIN_MS: '2000' });
    started.push(service);
    const { id, token } = await createUser(service.url);

    const signalled = Date.now();
    service.child.kill('SIGTERM');
    await waitFor(async () => (await fetch(`${service.url}/health/ready`)).status === 503, 1000, '/health/ready to answer 503');
    const notReadyAfter = Date.now() - signalled;
    // The drain: every request sent is served, reads and writes alike, on new connections and kept-alive ones.
    const statuses: number[] = [];
    let version = 1;
    while (Date.now() - signalled < 1500) {
      const write = await call(service.url, 'PATCH', `/api/v1/users/${id}`, { token, body: { profile: { bio: `draining ${version}` } } });
      const read = await call(service.url, 'GET', `/api/v1/users/${id}`, { token });
      statuses.push(write.status, read.status);
      expect(read.body.version).toBe(++version);
      expect((await call(service.url, 'GET', '/health/ready')).status).toBe(503);
      expect((await call(service.url, 'GET', '/health/live')).status).toBe(200);
    }
    expect(notReadyAfter).toBeLessThan(1000);
    expect(statuses.length).toBeGreaterThan(4);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(service.child.exitCode).toBeNull();

    expect(await service.exited).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(2000);
    expect(service.logs.some((l) => l.includes('still serving for 2000 ms'))).toBe(true);
    expect(service.logs.some((l) => l.includes('Shut down cleanly'))).toBe(true);
  }, 30_000);

  it('gives up after SHUTDOWN_TIMEOUT_MS and exits 1 when requests never finish', async () => {
    const service = await startService({ SHUTDOWN_TIMEOUT_MS: '500' });
    started.push(service);
    const { lock, inFlight } = await userInFlight(service.url, 2);
    try {
      const started = Date.now();
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(1);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(service.logs.some((l) => l.includes('did not finish within 500 ms'))).toBe(true);
      expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual([0, 0]);
    } finally {
      await lock.release();
    }
  }, 30_000);
});
