'use strict';
// Sharded outbox relay against the single-lock relay it replaced (the baseline, kept below with the same
// publisher and message code from dist/): how fast 1 and 3 relay processes drain a backlog of
// BENCH_BACKLOG (100,000) outbox rows, whether any user's events came out of order, and commit → Kafka
// latency at a steady insert rate. Wipes the database user_service_bench_relay. See bench/events/README.md.
//   npm run bench:relay:scale

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { Client } = require('pg');
const { Kafka, logLevel } = require('kafkajs');

const ROOT = path.resolve(__dirname, '../..');
const num = (name, fallback) => Number(process.env[name] || fallback);
const settings = {
  pgServer: (process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, ''),
  database: 'user_service_bench_relay',
  backlog: num('BENCH_BACKLOG', 100_000),
  users: num('BENCH_USERS', 10_000),
  rate: num('BENCH_RATE', 300),
  steadySeconds: num('BENCH_SECONDS', 15),
  shards: num('BENCH_SHARDS', 8),
  concurrency: num('BENCH_CONCURRENCY', 1),
};
const SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const children = new Set();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

// ------------------------------------------------------------------ the baseline: today's single-lock relay

/** The relay before the shards (one advisory lock for the whole deployment), on the service's own publisher. */
async function baselineRelay() {
  const { loadConfig } = require(path.join(ROOT, 'dist/src/config/config'));
  const { createKafka } = require(path.join(ROOT, 'dist/src/messaging/kafka-client'));
  const { KafkaEventPublisher } = require(path.join(ROOT, 'dist/src/messaging/kafka-event-publisher'));
  const { toOutgoingMessage } = require(path.join(ROOT, 'dist/src/messaging/outbox-message'));
  const { withUserSnapshots } = require(path.join(ROOT, 'dist/src/users/persistence/user-snapshots'));
  const config = loadConfig(process.env);
  const publisher = new KafkaEventPublisher(createKafka(config.kafka, logLevel.NOTHING));
  await publisher.connect();
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  const listener = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  await listener.connect();
  let wanted;
  let signal = null;
  listener.on('notification', () => {
    wanted = true;
    signal?.();
  });
  await listener.query('LISTEN outbox_public');
  const batchSize = config.outbox.batchSize;
  const publishBatch = async () => {
    await db.query('BEGIN');
    try {
      const { rows: locked } = await db.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [7_406_211_001]);
      let rows = [];
      if (locked[0].locked) {
        ({ rows } = await db.query(
          'SELECT id, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
          [batchSize],
        ));
        if (rows.length > 0) {
          const manager = { query: async (text, values) => (await db.query(text, values)).rows };
          await publisher.publish(await withUserSnapshots(manager, rows.map(toOutgoingMessage)));
          await db.query('UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
        }
      }
      await db.query('COMMIT');
      return rows.length;
    } catch (error) {
      await db.query('ROLLBACK');
      throw error;
    }
  };
  process.stdout.write('READY\n');
  for (;;) {
    wanted = false;
    while ((await publishBatch()) === batchSize);
    if (!wanted) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, config.outbox.pollIntervalMs);
        signal = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      signal = null;
    }
  }
}

// ------------------------------------------------------------------ broker, database, relay processes

function brokerBinary() {
  const source = path.join(ROOT, 'test/support/kafka-mock.c');
  const binary = path.join(ROOT, 'node_modules/.cache/kafka-mock/kafka-mock');
  const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : -1);
  if (mtime(binary) < mtime(source)) {
    fs.mkdirSync(path.dirname(binary), { recursive: true });
    const tmp = `${binary}.${process.pid}.tmp`;
    execFileSync('gcc', ['-O1', '-o', tmp, source, '-lrdkafka']);
    fs.renameSync(tmp, binary);
  }
  return binary;
}

async function startBroker() {
  const child = spawn(brokerBinary(), ['1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  const lines = readline.createInterface({ input: child.stdout });
  const replies = [];
  lines.on('line', (line) => replies.shift()?.(line));
  const nextLine = () => new Promise((resolve) => replies.push(resolve));
  const line = await nextLine();
  if (!line.startsWith('BOOTSTRAP ')) throw new Error(`kafka-mock: ${line}`);
  // The mock keeps about 5 MB a partition and drops older messages: enough partitions that a whole run stays readable.
  createTopic = async (topic) => {
    const reply = nextLine();
    child.stdin.write(`create ${topic} 32\n`);
    if ((await reply) !== 'OK') throw new Error(`kafka-mock: cannot create ${topic}`);
  };
  return line.slice('BOOTSTRAP '.length);
}
let createTopic;

async function resetDatabase() {
  const admin = new Client({ connectionString: `${settings.pgServer}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${settings.database} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${settings.database}`);
  await admin.end();
  const url = `${settings.pgServer}/${settings.database}`;
  execFileSync(process.execPath, ['dist/scripts/migrate.js'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
  return url;
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const env = (databaseUrl, brokers) => ({
  PATH: process.env.PATH,
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  DATABASE_URL: databaseUrl,
  DATABASE_MIGRATIONS_RUN: 'false',
  AUTH_JWT_SECRET: SECRET,
  KAFKA_BROKERS: brokers,
  KAFKA_GROUP_ID: 'bench-relay-scale',
  OUTBOX_SHARDS: String(settings.shards),
  OUTBOX_CONCURRENCY: String(settings.concurrency),
  SHUTDOWN_DRAIN_MS: '0',
});

/** `kind` sharded: the built service; baseline: this file's single-lock relay. Resolves once it runs. */
async function startRelay(kind, databaseUrl, brokers) {
  const port = await freePort();
  const args = kind === 'sharded' ? ['dist/src/main.js'] : [__filename, '--baseline-relay'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...env(databaseUrl, brokers), PORT: String(port) },
  });
  children.add(child);
  const lines = readline.createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} relay exited with ${code}`)));
    if (kind === 'baseline') lines.on('line', (line) => line === 'READY' && resolve());
    else
      void (async () => {
        for (;;) {
          const ok = await fetch(`http://127.0.0.1:${port}/health/live`).then(
            (r) => r.ok,
            () => false,
          );
          if (ok) return resolve();
          await sleep(100);
        }
      })();
  });
  return child;
}

async function stopRelays(relays) {
  await Promise.all(
    relays.map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      return exited;
    }),
  );
  relays.forEach((child) => children.delete(child));
}

// ------------------------------------------------------------------ measurement

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/** Reads a topic from the beginning until `count` distinct events arrived; checks each user's order (payload data.seq). */
async function readTopic(brokers, topic, count) {
  const kafka = new Kafka({ clientId: 'bench-reader', brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${Date.now()}`,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    rebalanceTimeout: 6000,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 10 << 20,
  });
  const seen = new Set();
  const lastSeq = new Map();
  const latencies = [];
  let violations = 0;
  let duplicates = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const event = JSON.parse(String(m.value));
        if (seen.has(event.eventId)) {
          duplicates++;
          continue;
        }
        seen.add(event.eventId);
        const seq = event.data.seq;
        if ((lastSeq.get(event.userId) ?? -1) > seq) violations++;
        lastSeq.set(event.userId, seq);
        latencies.push(Number(m.timestamp) - Date.parse(event.timestamp));
      }
    },
  });
  const deadline = Date.now() + 300_000;
  while (seen.size < count && Date.now() < deadline) await sleep(100);
  if (seen.size < count) console.log(`  !! ${topic}: only ${seen.size} of ${count} events read within 300 s`);
  await consumer.disconnect();
  return { received: seen.size, violations, duplicates, latencies: latencies.sort((a, b) => a - b) };
}

/** BENCH_BACKLOG rows for BENCH_USERS users, each user's numbered 0, 1, 2... in id order. */
async function insertBacklog(db, topic) {
  await db.query(
    `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at)
     SELECT id, 'user', u, $1::text, jsonb_build_object('eventId', id, 'eventType', $1::text, 'timestamp', now(), 'userId', u,
                                                  'data', jsonb_build_object('seq', n)), now()
       FROM (SELECT gen_random_uuid() AS id, n, users.u
               FROM generate_series(0, $2 - 1) n,
                    LATERAL (SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n % $3), 12, '0'))::uuid AS u) users) rows
      ORDER BY n`,
    [topic, settings.backlog, settings.users],
  );
}

async function clearOutbox(db) {
  await db.query('TRUNCATE outbox');
  await db.query('VACUUM ANALYZE outbox');
}

async function drainBacklog(db, brokers, databaseUrl, kind, instances) {
  const topic = `bench.${kind}.${instances}`;
  await createTopic(topic);
  await clearOutbox(db);
  // Running first, so that they all see the backlog at once: one statement, committed (and notified) at once.
  const relays = await Promise.all(Array.from({ length: instances }, () => startRelay(kind, databaseUrl, brokers)));
  await sleep(1000);
  await insertBacklog(db, topic);
  const committed = Date.now();
  for (;;) {
    const { rows } = await db.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    if (rows[0].n === 0) break;
    await sleep(200);
  }
  const { rows } = await db.query(`SELECT extract(epoch FROM max(published_at)) * 1000 - $1 AS ms FROM outbox`, [committed]);
  await stopRelays(relays);
  const read = await readTopic(brokers, topic, settings.backlog);
  const ms = Number(rows[0].ms);
  return { kind, instances, ms, perSecond: Math.round(settings.backlog / (ms / 1000)), ...read };
}

async function steady(db, brokers, databaseUrl, kind, instances) {
  const topic = `bench.${kind}.steady.${instances}`;
  await createTopic(topic);
  await clearOutbox(db);
  const relays = await Promise.all(Array.from({ length: instances }, () => startRelay(kind, databaseUrl, brokers)));
  await sleep(1000);
  const writers = 8;
  const perWriter = settings.rate / writers;
  const clients = await Promise.all(
    Array.from({ length: writers }, async () => {
      const c = new Client({ connectionString: databaseUrl });
      await c.connect();
      return c;
    }),
  );
  const start = Date.now();
  let sent = 0;
  await Promise.all(
    clients.map(async (c, w) => {
      for (let i = 0; Date.now() - start < settings.steadySeconds * 1000; i++) {
        const due = start + (i / perWriter) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
        const user = `00000000-0000-4000-8000-${(w * 1000 + (i % 50)).toString(16).padStart(12, '0')}`;
        // now() is the statement's (autocommit) transaction start: commit time within a millisecond or so.
        await c.query(
          `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload)
           SELECT id, 'user', $2::uuid, $1::text, jsonb_build_object('eventId', id, 'eventType', $1::text,
             'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'userId', $2::uuid, 'data', jsonb_build_object('seq', $3::int))
             FROM (SELECT gen_random_uuid() AS id) e`,
          [topic, user, i],
        );
        sent++;
      }
    }),
  );
  const seconds = (Date.now() - start) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  const read = await readTopic(brokers, topic, sent);
  await stopRelays(relays);
  return { kind, instances, sent, rate: Math.round(sent / seconds), ...read };
}

async function main() {
  console.log('building…');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const brokers = await startBroker();
  const databaseUrl = await resetDatabase();
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(`load average before the run: ${load()} (${os.cpus().length} cores, shared with other work: compare within this run only)`);
  console.log(
    `backlog ${settings.backlog} rows over ${settings.users} users; OUTBOX_SHARDS=${settings.shards}, ` +
      `OUTBOX_CONCURRENCY=${settings.concurrency}; batches of 500\n`,
  );

  const drains = [];
  for (const [kind, instances] of [
    ['baseline', 1],
    ['sharded', 1],
    ['baseline', 3],
    ['sharded', 3],
  ]) {
    const r = await drainBacklog(db, brokers, databaseUrl, kind, instances);
    drains.push(r);
    console.log(
      `drain ${kind.padEnd(8)} ×${instances}: ${String(r.perSecond).padStart(6)} events/s (${(r.ms / 1000).toFixed(1)} s), ` +
        `${r.received} received, ${r.duplicates} duplicates, ${r.violations} order violations   [load ${load()}]`,
    );
  }
  const rate = (kind, n) => drains.find((d) => d.kind === kind && d.instances === n).perSecond;
  console.log(
    `\nsharded ×3 / sharded ×1: ${(rate('sharded', 3) / rate('sharded', 1)).toFixed(2)}×   ` +
      `baseline ×3 / baseline ×1: ${(rate('baseline', 3) / rate('baseline', 1)).toFixed(2)}×   ` +
      `sharded ×3 / baseline ×3: ${(rate('sharded', 3) / rate('baseline', 3)).toFixed(2)}×\n`,
  );

  for (const [kind, instances] of [
    ['baseline', 3],
    ['sharded', 3],
  ]) {
    const r = await steady(db, brokers, databaseUrl, kind, instances);
    const l = r.latencies;
    console.log(
      `steady ${kind.padEnd(8)} ×${instances}, ${r.rate} inserts/s: commit → Kafka p50 ${percentile(l, 50)} ms, p99 ${percentile(l, 99)} ms, ` +
        `max ${l[l.length - 1]} ms; ${r.received}/${r.sent} received, ${r.violations} order violations   [load ${load()}]`,
    );
  }
  await db.end();
}

if (process.argv.includes('--baseline-relay')) {
  baselineRelay().catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
