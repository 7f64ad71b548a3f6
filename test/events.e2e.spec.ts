import { Quota } from '../src/users/domain/quota';
import { UserRepository } from '../src/users/persistence/user.repository';
import { call, createUser, RunningApp, startApp, testConfig } from './support/app';
import { pendingOf, sql } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { FAST_KAFKA_ENV, KafkaCollector, Received } from './support/kafka-collector';
import { waitFor } from './support/wait';

/** The outbox relay end to end: HTTP in, PostgreSQL outbox, real Kafka wire protocol out. */
describe('published events', () => {
  let broker: KafkaBroker;
  let collector: KafkaCollector;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    broker = await startKafkaBroker();
    collector = await KafkaCollector.start(broker.brokers);
  });
  afterAll(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await collector?.stop();
    await broker?.stop();
  });

  async function start(env: Record<string, string> = {}): Promise<RunningApp> {
    const app = await startApp(
      testConfig({ KAFKA_BROKERS: broker.brokers.join(','), ...FAST_KAFKA_ENV, OUTBOX_BACKOFF_MAX_MS: '500', ...env }),
    );
    apps.push(app);
    return app;
  }

  /** Bios set in order 0..n-1 per user, as a consumer deduplicating by ce_id sees them. */
  function biosByUser(messages: Received[]): Map<string, string[]> {
    const seen = new Set<string>();
    const bios = new Map<string, string[]>();
    for (const m of messages) {
      if (m.topic !== 'user.updated' || seen.has(m.headers.ce_id)) continue;
      seen.add(m.headers.ce_id);
      bios.set(m.key, [...(bios.get(m.key) ?? []), m.value.data.changes.bio]);
    }
    return bios;
  }

  describe('one instance, woken by NOTIFY (polling every minute)', () => {
    let api: RunningApp;
    beforeAll(async () => {
      api = await start({ OUTBOX_POLL_INTERVAL_MS: '60000' });
    });

    it('publishes every user.* event with the user id as key, the envelope as value and CloudEvents headers', async () => {
      const user = await createUser(api.url);
      const { token, id } = user;
      expect((await call(api.url, 'PATCH', `/api/v1/users/${id}`, { token, body: { profile: { bio: 'hello' } } })).status).toBe(200);
      expect((await call(api.url, 'PATCH', `/api/v1/users/${id}/preferences`, { token, body: { language: 'de-DE' } })).status).toBe(200);
      await api.app.get(UserRepository).modify(id, { actor: 'service', traceId: null }, (u) => {
        u.changeQuota(Quota.create({ maxInterviews: 1, maxStorage: 1000n }));
        u.recordInterviewCreated();
      });
      expect((await call(api.url, 'DELETE', `/api/v1/users/${id}`, { token })).status).toBe(200);

      const outbox = await sql<{ event_id: string; payload: any }>(
        'SELECT event_id, payload FROM outbox WHERE aggregate_id = $1 ORDER BY id',
        [id],
      );
      expect(outbox.map((r) => r.payload.eventType)).toEqual([
        'user.created',
        'user.updated',
        'user.updated',
        'user.quota_threshold_reached',
        'user.quota_threshold_reached',
        'user.deleted',
      ]);
      // Published within moments although the poll is a minute away: the NOTIFY woke the relay.
      await waitFor(async () => (await pendingOf([id])) === 0, 5000, 'the outbox to drain');

      const received = await collector.waitFor([id], outbox.length);
      expect(received.map((m) => m.headers.ce_id).sort()).toEqual(outbox.map((r) => r.event_id).sort());
      for (const { payload } of outbox) {
        const message = received.find((m) => m.headers.ce_id === payload.eventId)!;
        expect(message.topic).toBe(payload.eventType);
        expect(message.key).toBe(id);
        expect(message.value).toEqual(payload);
        expect(Object.keys(message.value)).toEqual(['eventId', 'eventType', 'timestamp', 'userId', 'data']);
        expect(message.headers).toEqual({
          ce_specversion: '1.0',
          ce_id: payload.eventId,
          ce_type: payload.eventType,
          ce_source: '/user-service',
          ce_time: payload.timestamp,
          ce_subject: id,
          'content-type': 'application/json',
        });
      }
      const byType = Object.fromEntries(received.map((m) => [m.topic, m.value.data]));
      expect(byType['user.created']).toEqual({ keycloakId: user.keycloakId, email: user.email, fullName: 'Test User' });
      expect(byType['user.deleted']).toEqual({ deletedAt: expect.any(String), keycloakId: user.keycloakId });
      expect(received.filter((m) => m.topic === 'user.updated').map((m) => m.value.data.changes)).toEqual([
        { bio: 'hello' },
        { preferences: { language: 'de-DE' } },
      ]);
      expect(received.filter((m) => m.topic === 'user.quota_threshold_reached').map((m) => m.value.data.threshold)).toEqual([80, 100]);

      const health = await call(api.url, 'GET', '/health');
      expect(health.body.kafka).toMatchObject({ status: 'connected', broker: broker.brokers.join(',') });
      expect(health.body.outbox).toMatchObject({ pending: 0 });
    });

    it('listens again after its LISTEN connection is killed', async () => {
      const listeners = () =>
        sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'user-service-outbox-listener'`);
      const [before] = await listeners();
      await sql('SELECT pg_terminate_backend($1)', [before.pid]);
      await waitFor(async () => (await listeners()).some((l) => l.pid !== before.pid), 5000, 'a new LISTEN connection');

      const { id } = await createUser(api.url);
      await waitFor(async () => (await pendingOf([id])) === 0, 3000, 'the event to be published on NOTIFY');
      await collector.waitFor([id], 1);
    });

    it('keeps every event of an outage, in per-user order, and publishes them once Kafka is back', async () => {
      const users = await Promise.all(Array.from({ length: 10 }, () => createUser(api.url)));
      const ids = users.map((u) => u.id);
      await collector.waitFor(ids, 10);
      await broker.down();
      try {
        await Promise.all(
          users.map(async ({ id, token }) => {
            for (let n = 0; n < 50; n++) {
              const res = await call(api.url, 'PATCH', `/api/v1/users/${id}`, { token, body: { profile: { bio: String(n) } } });
              expect(res.status).toBe(200);
            }
          }),
        );
        expect(await pendingOf(ids)).toBe(500);
        await waitFor(
          async () => (await call(api.url, 'GET', '/health')).body.kafka.status === 'disconnected',
          10_000,
          'health to report Kafka down',
        );
        expect((await call(api.url, 'GET', '/health')).body.outbox.pending).toBeGreaterThanOrEqual(500);
      } finally {
        await broker.up();
      }
      const received = await collector.waitFor(ids, 510, 30_000);
      const expected = Array.from({ length: 50 }, (_, n) => String(n));
      const bios = biosByUser(received);
      for (const id of ids) expect(bios.get(id)).toEqual(expected);
      expect(await pendingOf(ids)).toBe(0);
      expect((await call(api.url, 'GET', '/health')).body.kafka.status).toBe('connected');
    }, 60_000);

    afterAll(() => apps.splice(apps.indexOf(api), 1)[0].close());
  });

  it('two instances on one database send each event once, in per-user order', async () => {
    const [a, b] = [await start(), await start()];
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser(a.url)));
    await Promise.all(
      users.map(async ({ id, token }) => {
        for (let n = 0; n < 40; n++) {
          const via = n % 2 === 0 ? a : b;
          expect((await call(via.url, 'PATCH', `/api/v1/users/${id}`, { token, body: { profile: { bio: String(n) } } })).status).toBe(200);
        }
      }),
    );
    const ids = users.map((u) => u.id);
    const received = await collector.waitFor(ids, 6 * 41);
    await waitFor(async () => (await pendingOf(ids)) === 0, 5000, 'both relays to finish');
    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would be in flight by now
    const all = collector.of(ids);
    expect(all).toHaveLength(6 * 41);
    expect(new Set(all.map((m) => m.headers.ce_id)).size).toBe(6 * 41);
    const bios = biosByUser(received);
    for (const id of ids) expect(bios.get(id)).toEqual(Array.from({ length: 40 }, (_, n) => String(n)));
  }, 60_000);
});
