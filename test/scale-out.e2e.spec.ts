import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Kafka, Producer } from 'kafkajs';
import { CONSUMED_TOPICS } from '../src/users/usage-events/consumed-event';
import { tokenFor, uniqueIdentity } from './support/app';
import { buildService, Service, startService } from './support/built-service';
import { sql } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { KafkaCollector } from './support/kafka-collector';
import { kafkaEnv, testKafka, testProducer, waitForCommitted } from './support/kafka';
import { waitFor } from './support/wait';

const USERS = 24;
const GROUP = `scale-out-${process.pid}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One request on a connection of its own, as requests reach an instance through a load balancer from many
 * clients: a listener that closes too early refuses them (a kept-alive connection would hide that).
 */
function request(url: string, method: string, token: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method,
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

interface Instance {
  name: string;
  service: Service;
  /** As the client last saw /health/ready. */
  ready: boolean;
  gone: boolean;
}

interface Attempt {
  instance: string;
  userId: string;
  seq: number;
  ok: boolean;
  status: number;
  error?: string;
}

/**
 * Three built instances on one database (a schema of their own, migrated by all three at once) and one
 * broker, under HTTP writes and consumed events, through a rolling restart: one instance is SIGKILLed and
 * started again, another is stopped with SIGTERM and started again. The client routes by /health/ready.
 */
describe('three instances on one database and one broker', () => {
  const schema = `scale_${Date.now().toString(36)}${process.pid}`;
  let broker: KafkaBroker;
  let kafka: Kafka;
  let producer: Producer;
  let collector: KafkaCollector;
  const instances: Instance[] = [];

  beforeAll(async () => {
    await buildService();
    broker = await startKafkaBroker();
    for (const topic of CONSUMED_TOPICS) await broker.createTopic(topic, 4);
    kafka = testKafka(broker);
    producer = await testProducer(kafka);
    collector = await KafkaCollector.start(broker.brokers);
  }, 180_000);
  afterAll(async () => {
    for (const instance of instances) instance.service.killAll();
    await producer?.disconnect();
    await collector?.stop();
    await broker?.stop();
    await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  const start = async (name: string): Promise<Instance> => {
    const service = await startService({
      DATABASE_SCHEMA: schema,
      DATABASE_MIGRATIONS_RUN: 'true',
      ...kafkaEnv(broker, GROUP),
      OUTBOX_SHARDS: '8',
      SHUTDOWN_DRAIN_MS: '2000',
      RATE_LIMIT_PER_MINUTE: '0',
      LIFECYCLE_JOB_INTERVAL_MS: '0',
    });
    const instance = { name, service, ready: false, gone: false };
    instances.push(instance);
    return instance;
  };

  it('loses no acknowledged write or event, keeps per-user order, and counts every consumed event once', async () => {
    // All three at once on an empty schema: the migrations run once, under the lock.
    const [a, b] = await Promise.all([start('a'), start('b'), start('c')]);

    // The client's view of the instances: /health/ready every 100 ms.
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await Promise.all(
          instances
            .filter((i) => !i.gone)
            .map(async (i) => {
              i.ready = await fetch(`${i.service.url}/health/ready`, { signal: AbortSignal.timeout(1000) }).then(
                (r) => r.status === 200,
                () => false,
              );
            }),
        );
        await sleep(100);
      }
    })();
    await waitFor(() => instances.every((i) => i.ready), 30_000, 'the instances to be ready');

    let turn = 0;
    const pick = (): Instance | undefined => {
      const ready = instances.filter((i) => i.ready && !i.gone);
      return ready.length === 0 ? undefined : ready[turn++ % ready.length];
    };
    const attempts: Attempt[] = [];
    const send = async (method: string, path: string, token: string, body: unknown, userId: string, seq: number) => {
      let instance = pick();
      while (!instance) {
        await sleep(20);
        instance = pick();
      }
      try {
        const res = await request(`${instance.service.url}${path}`, method, token, body);
        attempts.push({ instance: instance.name, userId, seq, ok: res.status < 300, status: res.status });
        return res.status < 300 ? (res.body as { id: string }) : null;
      } catch (error) {
        attempts.push({ instance: instance.name, userId, seq, ok: false, status: 0, error: (error as Error).message });
        return null;
      }
    };

    const users: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < USERS; i++) {
      const identity = uniqueIdentity('scale');
      const token = await tokenFor(identity.keycloakId);
      const user = await send('POST', '/api/v1/users', token, { ...identity, profile: { fullName: `Scale ${i}` } }, '', -1);
      expect(user).not.toBeNull();
      users.push({ id: user!.id, token });
    }

    // Load: each user's writes one after the other (so acknowledgement order is commit order), all users at once.
    let loading = true;
    const writers = users.map(async ({ id, token }) => {
      for (let seq = 0; loading; seq++) {
        await send('PATCH', `/api/v1/users/${id}`, token, { profile: { bio: `s${seq}` } }, id, seq);
      }
    });
    // Consumed events, a tenth of them sent twice (as a producer retrying would).
    const consumed: Array<{ eventId: string; eventType: string; userId: string; data: Record<string, unknown> }> = [];
    const events = (async () => {
      for (let n = 0; loading; n++) {
        const batch = Array.from({ length: 10 }, (_, i) => {
          const userId = users[(n * 10 + i) % USERS].id;
          const eventType = ['interview.created', 'candidate.added', 'media.uploaded'][i % 3];
          const data =
            eventType === 'media.uploaded'
              ? { fileId: randomUUID(), fileSize: 1000 + i }
              : { interviewId: `i${n}`, ...(eventType === 'candidate.added' ? { candidateId: `c${n}-${i}` } : {}) };
          return { eventId: randomUUID(), eventType, timestamp: new Date().toISOString(), userId, data };
        });
        consumed.push(...batch);
        const sent = n % 10 === 0 ? [...batch, ...batch] : batch;
        await producer.sendBatch({
          acks: -1,
          topicMessages: sent.map((e) => ({ topic: e.eventType, messages: [{ key: e.userId, value: JSON.stringify(e) }] })),
        });
        await sleep(50);
      }
    })();

    // The rolling restart, under load.
    await sleep(4000);
    const killedAt = attempts.length;
    a.service.child.kill('SIGKILL'); // the client notices by its next /health/ready; requests in flight there fail
    await a.service.exited;
    await start('a2');
    await sleep(4000);

    const beforeTerm = attempts.length;
    b.service.child.kill('SIGTERM');
    await waitFor(() => !b.ready, 1000, 'b to report not-ready');
    expect(await b.service.exited).toBe(0);
    b.gone = true;
    await start('b2');
    await sleep(4000);
    loading = false;
    await Promise.all([...writers, events]);
    polling = false;
    await poller;

    // The client: failures only on the killed instance; none at all during the SIGTERM.
    const failed = attempts.filter((x) => !x.ok);
    expect(failed.filter((x) => x.instance !== 'a')).toEqual([]);
    expect(attempts.slice(beforeTerm).filter((x) => !x.ok)).toEqual([]);
    expect(attempts.filter((x) => x.instance === 'b').length).toBeGreaterThan(0);
    expect(killedAt).toBeGreaterThan(0);
    const acknowledged = attempts.filter((x) => x.ok && x.seq >= 0);
    expect(acknowledged.length).toBeGreaterThan(USERS * 5);

    // Kafka: every acknowledged write's event, each user's in commit order (duplicates aside).
    const ids = users.map((u) => u.id);
    await waitFor(
      async () => Number((await sql(`SELECT count(*) AS n FROM ${schema}.outbox WHERE published_at IS NULL`))[0].n) === 0,
      60_000,
      'the outbox to be published',
    );
    const wanted = new Set(acknowledged.map((x) => `${x.userId} s${x.seq}`));
    const bios = new Map<string, number[]>();
    await waitFor(
      () => {
        const seen = new Set<string>();
        bios.clear();
        for (const m of collector.of(ids)) {
          if (m.topic !== 'user.updated' || seen.has(m.headers.ce_id)) continue;
          seen.add(m.headers.ce_id);
          bios.set(m.key, [...(bios.get(m.key) ?? []), Number(String(m.value.data.changes.bio).slice(1))]);
        }
        return [...wanted].every((w) => {
          const [userId, bio] = w.split(' ');
          return bios.get(userId)?.includes(Number(bio.slice(1)));
        });
      },
      60_000,
      'every acknowledged write in Kafka',
    );
    for (const id of ids) {
      const order = bios.get(id)!;
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }

    // Stats: what the distinct consumed events add up to, nothing twice, nothing lost across the rebalances.
    await waitForCommitted(kafka, GROUP, CONSUMED_TOPICS, 90_000);
    const expected = new Map(ids.map((id) => [id, { interviews_created: 0, candidates_total: 0, storage_used: 0 }]));
    for (const e of consumed) {
      const row = expected.get(e.userId)!;
      if (e.eventType === 'interview.created') row.interviews_created++;
      if (e.eventType === 'candidate.added') row.candidates_total++;
      if (e.eventType === 'media.uploaded') row.storage_used += e.data.fileSize as number;
    }
    const rows = await sql<{ id: string; interviews_created: number; candidates_total: number; storage_used: string }>(
      `SELECT id, interviews_created, candidates_total, storage_used FROM ${schema}.users WHERE id = ANY($1)`,
      [ids],
    );
    expect(new Map(rows.map((r) => [r.id, { ...r, storage_used: Number(r.storage_used), id: undefined }]))).toEqual(
      new Map([...expected].map(([id, row]) => [id, { ...row, id: undefined }])),
    );
  }, 180_000);
});
