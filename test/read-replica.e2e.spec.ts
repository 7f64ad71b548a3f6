import { Client } from 'pg';
import { call, createUser, CreatedUser, RunningApp, startApp, testConfig } from './support/app';
import { PgCluster } from './support/pg-cluster';
import { waitFor } from './support/wait';

const MAX_LAG_MS = 1500;

/**
 * DATABASE_READ_URL against a real streaming replica of a private primary. Whether a request read from
 * the replica shows in what it answers: while the replica's replay is paused, it still has the old version.
 */
describe('read replica', () => {
  let cluster: PgCluster;
  let api: RunningApp;

  const query = async (url: string, text: string) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };
  const pauseReplay = () => query(cluster.replica.url(), 'SELECT pg_wal_replay_pause()');
  const resumeReplay = () => query(cluster.replica.url(), 'SELECT pg_wal_replay_resume()');
  const health = async () => (await call(api.url, 'GET', '/health')).body;
  const read = (user: CreatedUser) => call(api.url, 'GET', `/api/v1/users/${user.id}`, { token: user.token });
  const change = (user: CreatedUser, version: number) =>
    call(api.url, 'PATCH', `/api/v1/users/${user.id}`, {
      token: user.token,
      headers: { 'if-match': `"${version}"` },
      body: { profile: { bio: `version ${version + 1}` } },
    });
  /** Waits until the replica has the user as the primary has it (reads may still go either way). */
  const replicated = (user: CreatedUser, version: number) =>
    waitFor(
      async () =>
        (await query(cluster.replica.url('test_replica'), `SELECT version FROM users WHERE id = '${user.id}'`))[0]?.version === version,
      5000,
      `version ${version} on the replica`,
    );
  /** A change the replica cannot replay yet, then a read: the old version means the read came from the replica. */
  const readsFromReplica = async (user: CreatedUser, version: number) => {
    await replicated(user, version);
    await pauseReplay();
    try {
      expect((await change(user, version)).status).toBe(200);
      return (await read(user)).body.version === version;
    } finally {
      await resumeReplay();
    }
  };

  beforeAll(async () => {
    cluster = await PgCluster.start();
    await query(cluster.primary.url(), 'CREATE DATABASE test_replica');
    api = await startApp(
      testConfig({
        DATABASE_URL: cluster.primary.url('test_replica'),
        DATABASE_READ_URL: cluster.replica.url('test_replica'),
        DATABASE_MIGRATIONS_RUN: 'true',
        DATABASE_READ_MAX_LAG_MS: String(MAX_LAG_MS),
        DATABASE_READ_CHECK_INTERVAL_MS: '100',
        // The outage below is logged at warn on purpose.
        LOG_LEVEL: 'error',
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await cluster?.destroy();
  });

  it('measures no lag on a replica that replayed all it received, however long the primary has been idle', async () => {
    await new Promise((resolve) => setTimeout(resolve, MAX_LAG_MS + 500));
    expect((await health()).database.replica).toEqual({
      status: 'connected',
      lagMs: 0,
      maxLagMs: MAX_LAG_MS,
      readsFromReplica: true,
      connections: expect.any(Number),
    });
  });

  it('reads from the replica; commands, and what they read, use the primary', async () => {
    const user = await createUser(api.url);
    await replicated(user, 1);
    await pauseReplay();
    try {
      expect((await change(user, 1)).body.version).toBe(2);
      expect((await read(user)).body.version).toBe(1);
      // If-Match "2" matches only on the primary: the command read there, inside its transaction.
      const again = await change(user, 2);
      expect(again.status).toBe(200);
      expect(again.body.version).toBe(3);
    } finally {
      await resumeReplay();
    }
  });

  it(`reads from the primary while the replica is more than DATABASE_READ_MAX_LAG_MS behind, and from the replica once it caught up`, async () => {
    const user = await createUser(api.url);
    await replicated(user, 1);
    await pauseReplay();
    try {
      await change(user, 1);
      const lagging = await waitFor(
        async () => ((await health()).database.replica.status === 'lagging' ? health() : null),
        10_000,
        'lagging',
      );
      expect(lagging.status).toBe('degraded');
      expect(lagging.database.replica).toMatchObject({ readsFromReplica: false, maxLagMs: MAX_LAG_MS });
      expect(lagging.database.replica.lagMs).toBeGreaterThan(MAX_LAG_MS);
      expect((await read(user)).body.version).toBe(2);
    } finally {
      await resumeReplay();
    }
    await waitFor(async () => (await health()).database.replica.readsFromReplica, 5000, 'reads from the replica again');
    expect(await readsFromReplica(user, 2)).toBe(true);
  }, 30_000);

  it('reads from the primary while the replica is down, from the first read on, and from the replica once it is back', async () => {
    const user = await createUser(api.url);
    await replicated(user, 1);
    await cluster.replica.stop();
    try {
      // Before any check noticed: the read fails on the replica and is made again on the primary.
      expect((await read(user)).status).toBe(200);
      const down = await health();
      expect(down.status).toBe('degraded');
      expect(down.database.replica).toMatchObject({ status: 'disconnected', lagMs: null, readsFromReplica: false });
      expect((await change(user, 1)).status).toBe(200);
      expect((await read(user)).body.version).toBe(2);
    } finally {
      await cluster.replica.start();
    }
    await waitFor(async () => (await health()).database.replica.readsFromReplica, 10_000, 'reads from the replica again');
    expect(await readsFromReplica(user, 2)).toBe(true);
  }, 30_000);
});
