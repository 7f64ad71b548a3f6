import { randomUUID } from 'node:crypto';
import { bucketsOf, OUTBOX_BUCKETS, PENDING_BUCKETS, SELECT_BATCH } from '../src/messaging/outbox-shards';
import { call, RunningApp, startApp, testConfig } from './support/app';
import { Client } from 'pg';
import { pendingOf, sql, TEST_DATABASE_URL } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { FAST_KAFKA_ENV, KafkaCollector } from './support/kafka-collector';
import { waitFor } from './support/wait';

const USERS = 40;
const EVENTS_PER_USER = 25;

/** OUTBOX_SHARDS: instances share the draining of a backlog, shard by shard, and each user's events stay in order. */
describe('sharded outbox relay', () => {
  let broker: KafkaBroker;
  let collector: KafkaCollector;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    broker = await startKafkaBroker();
    collector = await KafkaCollector.start(broker.brokers);
  });
  afterEach(async () => {
    await Promise.allSettled(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    await collector?.stop();
    await broker?.stop();
  });

  /** EVENTS_PER_USER user.updated rows per user, bios 0..n-1, committed in that order and interleaved across users. */
  async function backlog(users = USERS, perUser = EVENTS_PER_USER): Promise<string[]> {
    const ids = Array.from({ length: users }, () => randomUUID());
    await sql(
      `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload)
       SELECT id, 'user', u, 'user.updated',
              jsonb_build_object('eventId', id, 'eventType', 'user.updated', 'timestamp', now(), 'userId', u,
                                 'data', jsonb_build_object('changes', jsonb_build_object('bio', n::text)))
         FROM (SELECT gen_random_uuid() AS id, n, u FROM generate_series(0, $2 - 1) n, unnest($1::uuid[]) u) e
        ORDER BY n, u`,
      [ids, perUser],
    );
    return ids;
  }

  async function published(app: RunningApp): Promise<number> {
    const { body } = await call(app.url, 'GET', '/metrics');
    const line = (body as string)
      .split('\n')
      .find((l) => l.startsWith('user_service_kafka_events_published_total{event_type="user.updated"}'));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  async function drainWith(shards: string[]): Promise<{ users: string[]; counts: number[] }> {
    const users = await backlog();
    // Small batches, so that draining takes many turns and every instance gets some.
    const started = await Promise.all(
      shards.map((n) =>
        startApp(
          testConfig({
            KAFKA_BROKERS: broker.brokers.join(','),
            ...FAST_KAFKA_ENV,
            OUTBOX_SHARDS: n,
            OUTBOX_BATCH_SIZE: '5',
            LOG_LEVEL: 'error',
          }),
        ),
      ),
    );
    apps.push(...started);
    await waitFor(async () => (await pendingOf(users)) === 0, 60_000, 'the backlog to drain');
    const received = await collector.waitFor(users, USERS * EVENTS_PER_USER, 30_000);
    const seen = new Set<string>();
    const bios = new Map<string, string[]>();
    for (const m of received) {
      if (seen.has(m.headers.ce_id)) continue;
      seen.add(m.headers.ce_id);
      bios.set(m.key, [...(bios.get(m.key) ?? []), m.value.data.changes.bio]);
    }
    for (const user of users) expect(bios.get(user)).toEqual(Array.from({ length: EVENTS_PER_USER }, (_, n) => String(n)));
    return { users, counts: await Promise.all(started.map(published)) };
  }

  it('splits the buckets into OUTBOX_SHARDS disjoint shards', () => {
    for (const shards of [1, 3, 8, 64]) {
      const all = Array.from({ length: shards }, (_, shard) => bucketsOf(shard, shards)).flat();
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: OUTBOX_BUCKETS }, (_, b) => b));
    }
  });

  it('three instances share a backlog, and every user gets its events once and in order', async () => {
    const { counts } = await drainWith(['8', '8', '8']);
    expect(counts.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(USERS * EVENTS_PER_USER);
    expect(counts.every((n) => n > 0)).toBe(true);
  }, 120_000);

  it('instances that disagree on OUTBOX_SHARDS still keep every user in order', async () => {
    await drainWith(['8', '3', '16']);
  }, 120_000);

  it('waits while a relay of the version before the shards holds its single lock', async () => {
    const users = await backlog(5, 2);
    const old = new Client({ connectionString: TEST_DATABASE_URL });
    await old.connect();
    try {
      await old.query('BEGIN');
      await old.query('SELECT pg_advisory_xact_lock(7406211001)');
      apps.push(await startApp(testConfig({ KAFKA_BROKERS: broker.brokers.join(','), ...FAST_KAFKA_ENV, OUTBOX_POLL_INTERVAL_MS: '100' })));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await pendingOf(users)).toBe(10);
      await old.query('COMMIT');
      await waitFor(async () => (await pendingOf(users)) === 0, 10_000, 'the backlog to drain');
    } finally {
      await old.end();
    }
  }, 30_000);

  it('polls a backlog through the partial index on the bucket', async () => {
    const users = await backlog(2000, 10);
    try {
      await sql('ANALYZE outbox');
      const explain = async (query: string, values: unknown[] = []) =>
        (await sql<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`, values)).map((row) => row['QUERY PLAN']).join('\n');
      const batch = await explain(SELECT_BATCH, [bucketsOf(0, 8), 500]);
      expect(batch).toMatch(/Index (Only )?Scan on idx_outbox_unpublished_bucket|Index (Only )?Scan using idx_outbox_unpublished_bucket/);
      expect(batch).not.toMatch(/Seq Scan/);
      expect(await explain(PENDING_BUCKETS)).toMatch(/Index Only Scan using idx_outbox_unpublished_bucket/);
    } finally {
      await sql('DELETE FROM outbox WHERE aggregate_id = ANY($1)', [users]);
    }
  });
});
