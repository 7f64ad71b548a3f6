// Consumer throughput: events/s applied exactly once by the service's StatsProjector behind its kafkajs
// consumer (built code in dist/), against a baseline that applies each message in its own transaction.
// Both read the same topics on librdkafka's mock broker and write the same PostgreSQL database.
//
//   npm run bench:consumer           BENCH_EVENTS=20000 BENCH_USERS=200 BENCH_ROUNDS=3 (interleaved; medians compared)
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/user_service_bench_consumer (dropped and rebuilt)
'use strict';
require('reflect-metadata');
const { execFileSync, spawn } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const { existsSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const { createInterface } = require('node:readline');
const { Client, Pool } = require('pg');
const { Kafka, logLevel, Partitioners } = require('kafkajs');
const { DataSource } = require('typeorm');

const root = join(__dirname, '..', '..');
const dist = (path) => require(join(root, 'dist', 'src', path));
const { loadConfig } = dist('config/config');
const { dataSourceOptions } = dist('config/database');
const { createKafka } = dist('messaging/kafka-client');
const { KafkaEventConsumer } = dist('messaging/kafka-event-consumer');
const { KafkaEventPublisher } = dist('messaging/kafka-event-publisher');
const { CONSUMED_TOPICS } = dist('users/usage-events/consumed-event');
const { StatsProjector } = dist('users/usage-events/stats-projector');
const { Metrics } = dist('observability/metrics');
const { PgPool } = dist('config/pg-pool');
const { PgUserRepository } = dist('users/persistence/pg-user.repository');

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const USERS = Number(process.env.BENCH_USERS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/user_service_bench_consumer';
const POOL = 10;
// Each side at its best: the service's default (1 partition at a time, see config.ts) for the projector,
// 4 for the baseline, whose short transactions gain from running side by side.
const PROJECTOR_CONCURRENCY = process.env.BENCH_PROJECTOR_CONCURRENCY ?? '1';
const BASELINE_CONCURRENCY = Number(process.env.BENCH_BASELINE_CONCURRENCY ?? 4);
const KAFKA_ENV = {
  KAFKA_SESSION_TIMEOUT_MS: '4000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '300',
  KAFKA_REBALANCE_TIMEOUT_MS: '4000',
  KAFKA_MAX_WAIT_MS: '100',
  KAFKA_PARTITIONS_CONCURRENCY: PROJECTOR_CONCURRENCY,
};

async function main() {
  const broker = await startBroker();
  const db = await prepareDatabase();
  try {
    const kafka = new Kafka({ clientId: 'bench', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const users = await createUsers(db);
    const events = await produce(kafka, users);
    const expected = {
      created: events.filter((e) => e.eventType === 'interview.created').length,
      candidates: events.filter((e) => e.eventType === 'candidate.added').length,
    };
    console.log(
      `${EVENTS} events over ${USERS} users on ${CONSUMED_TOPICS.length} topics × 4 partitions; pool ${POOL}; partitions at a time: projector ${PROJECTOR_CONCURRENCY}, baseline ${BASELINE_CONCURRENCY}`,
    );
    const results = { projector: [], baseline: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, run] of [
        ['projector', runProjector],
        ['baseline', runBaseline],
      ]) {
        await reset(db);
        const seconds = await run(broker, kafka, `${name}-${round}-${Date.now()}`);
        await verify(db, name === 'projector' ? 'user-service' : 'bench-baseline', expected);
        const rate = EVENTS / seconds;
        results[name].push(rate);
        console.log(
          `round ${round} ${name.padEnd(9)} ${seconds.toFixed(2).padStart(7)} s  ${Math.round(rate).toString().padStart(7)} events/s`,
        );
      }
    }
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const p = median(results.projector);
    const b = median(results.baseline);
    console.log(`\nStatsProjector (batch per transaction): ${Math.round(p)} events/s`);
    console.log(`baseline (transaction per event):      ${Math.round(b)} events/s`);
    console.log(`ratio: ${(p / b).toFixed(2)}x`);
  } finally {
    await db.end();
    broker.stop();
  }
}

/** The service's own pieces, built: kafkajs consumer adapter → StatsProjector → PostgreSQL. */
async function runProjector(broker, kafka, groupId) {
  const config = loadConfig({
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: 'x'.repeat(32),
    DATABASE_URL,
    DATABASE_POOL_SIZE: String(POOL),
    KAFKA_BROKERS: broker.brokers.join(','),
    KAFKA_GROUP_ID: groupId,
    ...KAFKA_ENV,
  });
  const dataSource = await new DataSource({ ...dataSourceOptions(config, null), migrationsRun: false }).initialize();
  const publisher = new KafkaEventPublisher(createKafka(config.kafka));
  await publisher.connect();
  const metrics = new Metrics();
  const projector = new StatsProjector(new PgUserRepository(new PgPool(dataSource), metrics), publisher, metrics);
  const consumer = new KafkaEventConsumer(createKafka(config.kafka), { ...config.kafka.consumer, groupId, topics: CONSUMED_TOPICS });
  const clock = new Clock();
  await consumer.start(async (batch) => {
    clock.begin();
    const { applied, duplicates } = await projector.project(batch);
    clock.add(applied + duplicates);
  });
  const seconds = await clock.done();
  await consumer.stop();
  await publisher.disconnect();
  await dataSource.destroy();
  return seconds;
}

/** What one would write first: eachMessage, one transaction per event (inbox row + counter update), autoCommit. */
async function runBaseline(broker, kafka, groupId) {
  const pool = new Pool({ connectionString: DATABASE_URL, max: POOL });
  const consumer = kafka.consumer({ groupId, sessionTimeout: 4000, heartbeatInterval: 300, rebalanceTimeout: 4000, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [...CONSUMED_TOPICS], fromBeginning: true });
  const clock = new Clock();
  const updates = {
    'interview.created': 'interviews_created = interviews_created + 1, interviews_active = interviews_active + 1',
    'interview.completed': 'interviews_active = GREATEST(interviews_active - 1, 0)',
    'interview.deleted': 'interviews_active = GREATEST(interviews_active - 1, 0)',
    'candidate.added': 'candidates_total = candidates_total + 1',
    'media.uploaded': 'storage_used = storage_used + $2',
    'media.deleted': 'storage_used = GREATEST(storage_used - $2, 0)',
  };
  await consumer.run({
    partitionsConsumedConcurrently: BASELINE_CONCURRENCY,
    eachMessage: async ({ topic, message }) => {
      clock.begin();
      const event = JSON.parse(message.value.toString());
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const fresh = await client.query(
          `INSERT INTO processed_events (event_id, service_name, topic) VALUES ($1, 'bench-baseline', $2)
           ON CONFLICT (event_id, service_name) DO NOTHING RETURNING event_id`,
          [event.eventId, topic],
        );
        if (fresh.rowCount === 1) {
          const media = topic.startsWith('media.');
          await client.query(
            `UPDATE users SET ${updates[topic]}, version = version + 1, updated_at = now() WHERE id = $1 AND deleted_at IS NULL`,
            media ? [event.userId, event.data.fileSize] : [event.userId],
          );
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
      clock.add(1);
    },
  });
  const seconds = await clock.done();
  await consumer.disconnect();
  await pool.end();
  return seconds;
}

/** From the first message handled (the mock's 3 s group join is not the consumer's doing) to the last. */
class Clock {
  constructor() {
    this.count = 0;
    this.start = 0;
    this.finished = new Promise((resolve) => (this.resolve = resolve));
  }
  begin() {
    if (!this.start) this.start = performance.now();
  }
  add(n) {
    this.count += n;
    if (this.count >= EVENTS) this.resolve((performance.now() - this.start) / 1000);
  }
  done() {
    return Promise.race([
      this.finished,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`only ${this.count} of ${EVENTS} events after 10 minutes`)), 600_000).unref(),
      ),
    ]);
  }
}

async function verify(db, service, expected) {
  const [{ processed }] = (await db.query('SELECT count(*)::int AS processed FROM processed_events WHERE service_name = $1', [service]))
    .rows;
  const [{ created, candidates }] = (
    await db.query('SELECT sum(interviews_created)::int AS created, sum(candidates_total)::int AS candidates FROM users')
  ).rows;
  if (processed !== EVENTS || created !== expected.created || candidates !== expected.candidates) {
    throw new Error(
      `${service}: not exactly once: ${processed} processed, ${created}/${expected.created} created, ${candidates}/${expected.candidates} candidates`,
    );
  }
}

async function produce(kafka, users) {
  const mix = [
    ['interview.created', 30],
    ['candidate.added', 30],
    ['media.uploaded', 20],
    ['interview.completed', 10],
    ['media.deleted', 5],
    ['interview.deleted', 5],
  ];
  const pick = () => {
    let n = Math.random() * 100;
    for (const [type, weight] of mix) if ((n -= weight) < 0) return type;
    return mix[0][0];
  };
  const events = Array.from({ length: EVENTS }, (_, i) => {
    const eventType = pick();
    const userId = users[i % users.length];
    const data = eventType.startsWith('media.')
      ? { fileId: randomUUID(), fileSize: 1 + Math.floor(Math.random() * 10_000_000) }
      : eventType === 'candidate.added'
        ? { interviewId: randomUUID(), candidateId: randomUUID() }
        : { interviewId: randomUUID() };
    return { eventId: randomUUID(), eventType, timestamp: new Date().toISOString(), userId, data };
  });
  const producer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < events.length; i += 1000) {
    const chunk = events.slice(i, i + 1000);
    await producer.sendBatch({
      acks: -1,
      topicMessages: CONSUMED_TOPICS.map((topic) => ({
        topic,
        messages: chunk.filter((e) => e.eventType === topic).map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
      })).filter((t) => t.messages.length > 0),
    });
  }
  await producer.disconnect();
  return events;
}

async function createUsers(db) {
  const { rows } = await db.query(
    `INSERT INTO users (keycloak_id, email, full_name, max_interviews)
     SELECT 'bench-' || n, 'bench-' || n || '@example.com', 'Bench User ' || n, 1000000 FROM generate_series(1, $1) AS n
     RETURNING id`,
    [USERS],
  );
  return rows.map((r) => r.id);
}

async function reset(db) {
  await db.query('TRUNCATE processed_events, outbox');
  await db.query('UPDATE users SET interviews_created = 0, interviews_active = 0, candidates_total = 0, storage_used = 0, version = 1');
  await db.query('VACUUM ANALYZE users');
}

async function prepareDatabase() {
  const url = new URL(DATABASE_URL);
  const name = url.pathname.slice(1);
  if (!name.includes('bench')) throw new Error(`Refusing to wipe database "${name}": its name must contain "bench"`);
  const admin = new Client({ connectionString: Object.assign(new URL(DATABASE_URL), { pathname: '/postgres' }).toString() });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  await db.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public');
  const config = loadConfig({ DATABASE_URL, NODE_ENV: 'test' });
  const dataSource = await new DataSource({ ...dataSourceOptions(config, null), migrationsRun: false }).initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
  return db;
}

async function startBroker() {
  const binary = join(root, 'node_modules', '.cache', 'kafka-mock', 'kafka-mock');
  if (!existsSync(binary)) {
    mkdirSync(join(binary, '..'), { recursive: true });
    execFileSync('gcc', ['-O1', '-o', binary, join(root, 'test', 'support', 'kafka-mock.c'), '-lrdkafka']);
  }
  const child = spawn(binary, ['1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  if (!line.startsWith('BOOTSTRAP ')) throw new Error(`kafka-mock: ${line}`);
  return { brokers: line.slice('BOOTSTRAP '.length).split(','), stop: () => child.stdin.end('quit\n') };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
