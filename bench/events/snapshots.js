'use strict';
// What user.snapshot adds to a relay batch: the batch's events published as the relay publishes them
// (KafkaEventPublisher, acks=all, librdkafka's mock broker) without snapshots (the baseline) and with them
// (withUserSnapshots: one query on users, one more message per distinct user in the same send), interleaved,
// for batches of 500 events over 1, 100 and 500 distinct users of 100,000. Needs the build (dist/).
//   npm run bench:snapshots

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { Client, Pool } = require('pg');
const { Kafka, logLevel } = require('kafkajs');

const ROOT = path.resolve(__dirname, '../..');
const { KafkaEventPublisher } = require(path.join(ROOT, 'dist/src/messaging/kafka-event-publisher'));
const { toOutgoingMessage } = require(path.join(ROOT, 'dist/src/messaging/outbox-message'));
const { withUserSnapshots } = require(path.join(ROOT, 'dist/src/users/persistence/user-snapshots'));

const PG_SERVER = (process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const DATABASE = 'user_service_bench_snapshots';
const USERS = Number(process.env.BENCH_USERS || 100_000);
const BATCHES = Number(process.env.BENCH_BATCHES || 100);
const BATCH_SIZE = 500;
const children = new Set();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

async function startBroker() {
  const source = path.join(ROOT, 'test/support/kafka-mock.c');
  const binary = path.join(ROOT, 'node_modules/.cache/kafka-mock/kafka-mock');
  const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : -1);
  if (mtime(binary) < mtime(source)) {
    fs.mkdirSync(path.dirname(binary), { recursive: true });
    execFileSync('gcc', ['-O1', '-o', binary, source, '-lrdkafka']);
  }
  const child = spawn(binary, ['1']);
  children.add(child);
  const [line] = await require('node:events').once(readline.createInterface({ input: child.stdout }), 'line');
  if (!line.startsWith('BOOTSTRAP ')) throw new Error(`kafka-mock: ${line}`);
  return line.slice('BOOTSTRAP '.length);
}

async function prepareDatabase() {
  const admin = new Client({ connectionString: `${PG_SERVER}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const url = `${PG_SERVER}/${DATABASE}`;
  execFileSync(process.execPath, [path.join(ROOT, 'dist/scripts/migrate.js')], { env: { ...process.env, DATABASE_URL: url } });
  const pool = new Pool({ connectionString: url, max: 2 });
  await pool.query(
    `INSERT INTO users (keycloak_id, email, full_name) SELECT 'kc-' || g, 'user' || g || '@example.com', 'User ' || g
       FROM generate_series(1, $1) AS g`,
    [USERS],
  );
  await pool.query('VACUUM ANALYZE users');
  return pool;
}

/** A relay batch: 500 user.updated events spread over `distinct` random users. */
async function batchOf(pool, distinct) {
  const { rows } = await pool.query('SELECT id FROM users ORDER BY random() LIMIT $1', [distinct]);
  const ids = rows.map((r) => r.id);
  return Array.from({ length: BATCH_SIZE }, (_, i) => {
    const userId = ids[i % ids.length];
    const payload = {
      eventId: crypto.randomUUID(),
      eventType: 'user.updated',
      timestamp: new Date().toISOString(),
      userId,
      data: { changes: { bio: `bio ${i}` } },
    };
    return toOutgoingMessage({ id: String(i), payload });
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (ms) => `${ms.toFixed(1)} ms`;

async function main() {
  const brokers = await startBroker();
  const pool = await prepareDatabase();
  const publisher = new KafkaEventPublisher(new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING }));
  await publisher.connect();
  const db = { query: (text, values) => pool.query(text, values).then((r) => r.rows) };
  console.log(
    `load average ${require('node:os')
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${USERS} users; ${BATCHES} batches of ${BATCH_SIZE} per shape`,
  );
  for (const distinct of [1, 100, 500]) {
    const times = { baseline: [], snapshots: [], query: [] };
    for (let i = 0; i < BATCHES + 5; i++) {
      const messages = await batchOf(pool, distinct);
      // Alternating which goes first so that neither always meets a warmer broker.
      const order = i % 2 === 0 ? ['baseline', 'snapshots'] : ['snapshots', 'baseline'];
      for (const kind of order) {
        const started = process.hrtime.bigint();
        const sent = kind === 'baseline' ? messages : await withUserSnapshots(db, messages);
        const read = process.hrtime.bigint();
        await publisher.publish(sent);
        if (i < 5) continue;
        times[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
        if (kind === 'snapshots') times.query.push(Number(read - started) / 1e6);
      }
    }
    const [b, s, q] = ['baseline', 'snapshots', 'query'].map((kind) => times[kind].sort((x, y) => x - y));
    console.log(
      `${distinct} distinct users: baseline p50 ${fmt(percentile(b, 50))} p99 ${fmt(percentile(b, 99))} | ` +
        `with snapshots p50 ${fmt(percentile(s, 50))} p99 ${fmt(percentile(s, 99))} (of which the read: p50 ${fmt(percentile(q, 50))}) | ` +
        `p50 ×${(percentile(s, 50) / percentile(b, 50)).toFixed(2)}`,
    );
  }
  await publisher.disconnect();
  await pool.end();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
