'use strict';
// Outbox relay benchmark: commit → Kafka latency at a steady write rate, with LISTEN/NOTIFY and with
// polling only (the baseline), then the highest write rate this machine sustains and how the outbox
// backlog behaves. The built service (dist/src/main.js) runs as a child process against librdkafka's
// mock broker and the database user_service_bench_events (wiped). See bench/events/README.md.
//   npm run bench:relay

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');
const { Client } = require('pg');
const { SignJWT } = require('jose');
const { Kafka, logLevel } = require('kafkajs');

const ROOT = path.resolve(__dirname, '../..');
const num = (name, fallback) => Number(process.env[name] || fallback);
const settings = {
  pgServer: (process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, ''),
  database: 'user_service_bench_events',
  users: num('BENCH_USERS', 100),
  rate: num('BENCH_RATE', 500),
  steadySeconds: num('BENCH_SECONDS', 20),
  baselineSeconds: num('BENCH_BASELINE_SECONDS', 10),
  maxSeconds: num('BENCH_MAX_SECONDS', 15),
  maxConnections: num('BENCH_CONNECTIONS', 64),
};
const SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';
const children = new Set();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}
function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50)} ms  p99 ${percentile(s, 99)} ms  max ${s[s.length - 1]} ms  (n=${s.length})`;
}

// ------------------------------------------------------------------ broker, database, service

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
  const child = spawn(brokerBinary(), ['1']);
  children.add(child);
  const [line] = await Promise.race([
    require('node:events').once(readline.createInterface({ input: child.stdout }), 'line'),
    sleep(10_000).then(() => ['timeout']),
  ]);
  if (!line.startsWith('BOOTSTRAP ')) throw new Error(`kafka-mock: ${line}`);
  return line.slice('BOOTSTRAP '.length);
}

async function resetDatabase() {
  const admin = new Client({ connectionString: `${settings.pgServer}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${settings.database} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${settings.database}`);
  await admin.end();
  return `${settings.pgServer}/${settings.database}`;
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startService(databaseUrl, brokers) {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      AUTH_JWT_SECRET: SECRET,
      RATE_LIMIT_PER_MINUTE: '0', // one token sends every PATCH
      KAFKA_BROKERS: brokers,
      OUTBOX_POLL_INTERVAL_MS: '1000',
    },
  });
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
    const ok = await fetch(`${url}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return url;
  }
  throw new Error('service did not start');
}

// ------------------------------------------------------------------ HTTP load

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function request(url, method, pathname, token, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`${url}${pathname}`, {
      method,
      agent,
      headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json' } : {}) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () =>
        res.statusCode < 300 ? resolve(text && JSON.parse(text)) : reject(new Error(`${method} ${pathname}: ${res.statusCode} ${text}`)),
      );
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** One PATCH per write; its bio names the phase and sequence number so the consumer can match it. */
function writer(url, token, userIds, phase) {
  let seq = 0;
  const sent = [];
  const httpMs = [];
  return {
    sent,
    httpMs,
    async write() {
      const n = seq++;
      const id = userIds[n % userIds.length];
      sent.push(n);
      const start = Date.now();
      await request(url, 'PATCH', `/api/v1/users/${id}`, token, { profile: { bio: `${phase}-${n}` } });
      httpMs.push(Date.now() - start);
    },
  };
}

/** Open loop: `rate` writes a second in 10 ms ticks, whatever the responses do. */
async function steady(w, rate, seconds) {
  const start = Date.now();
  const inFlight = new Set();
  let due = 0;
  while (Date.now() - start < seconds * 1000) {
    const target = Math.floor(((Date.now() - start) / 1000) * rate);
    for (; due < target; due++) {
      const p = w.write().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await sleep(10);
  }
  await Promise.all(inFlight);
  return (Date.now() - start) / 1000; // includes the responses still due when sending stopped
}

/** Closed loop: `connections` writers back to back. */
async function flat(w, connections, seconds) {
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) await w.write();
    }),
  );
}

// ------------------------------------------------------------------ measurement

async function main() {
  console.log('building…');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const brokers = await startBroker();
  const databaseUrl = await resetDatabase();
  const url = await startService(databaseUrl, brokers);
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const token = await new SignJWT({ realm_access: { roles: ['admin'] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-admin')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(SECRET));

  const userIds = [];
  for (let i = 0; i < settings.users; i++) {
    const kc = `bench-${i}`;
    const user = await request(url, 'POST', '/api/v1/users', token, {
      keycloakId: kc,
      email: `${kc}@example.com`,
      profile: { fullName: `Bench User ${i}` },
    });
    userIds.push(user.id);
  }
  await request(url, 'PATCH', `/api/v1/users/${userIds[0]}`, token, { profile: { bio: 'warm-up' } });

  // phase → sequence number → { timestamp (event), kafka (CreateTime), received }
  const seen = new Map();
  const kafka = new Kafka({ clientId: 'bench-relay', brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `bench-relay-${Date.now()}`,
    maxWaitTimeInMs: 100,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: 'user.updated', fromBeginning: true });
  let warm = false;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const received = Date.now();
      for (const m of batch.messages) {
        const event = JSON.parse(String(m.value));
        const bio = event.data.changes.bio;
        if (bio === 'warm-up') warm = true;
        const match = /^(\w+)-(\d+)$/.exec(bio ?? '');
        if (!match) continue;
        if (!seen.has(match[1])) seen.set(match[1], new Map());
        const phase = seen.get(match[1]);
        if (!phase.has(match[2])) phase.set(match[2], { event: Date.parse(event.timestamp), kafka: Number(m.timestamp), received });
      }
    },
  });
  for (const deadline = Date.now() + 30_000; !warm; await sleep(50))
    if (Date.now() > deadline) throw new Error('consumer never got the warm-up event');

  const pending = async () => (await db.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).rows[0].n;
  async function collect(phase, w, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while ((seen.get(phase)?.size ?? 0) < w.sent.length && Date.now() < deadline) await sleep(20);
    const got = [...(seen.get(phase) ?? new Map()).values()];
    return { got, lost: w.sent.length - got.length };
  }
  async function report(label, w, seconds, { got, lost }) {
    const { rows } = await db.query(
      `SELECT (extract(epoch FROM published_at - created_at) * 1000)::int AS ms FROM outbox
       WHERE event_type = 'user.updated' AND payload->'data'->'changes'->>'bio' LIKE $1`,
      [`${label.split(':')[0]}-%`],
    );
    console.log(
      `\n${label}: ${w.sent.length} writes in ${seconds.toFixed(1)} s (${Math.round(w.sent.length / seconds)}/s), ${lost} events missing`,
    );
    if (w.sent.length / seconds < 0.9 * settings.rate && !label.startsWith('max'))
      console.log(
        `  !! the service could not keep up with ${settings.rate}/s: the figures below include its queueing (busy machine? lower BENCH_RATE)`,
      );
    console.log(`  HTTP PATCH response time:                             ${summary(w.httpMs)}`);
    console.log(`  commit → marked published (outbox published_at − created_at): ${summary(rows.map((r) => r.ms))}`);
    console.log(`  commit → Kafka (broker CreateTime − event timestamp): ${summary(got.map((g) => g.kafka - g.event))}`);
    console.log(`  commit → consumer (receive time − event timestamp):   ${summary(got.map((g) => g.received - g.event))}`);
  }

  console.log(
    `\nload average before the run: ${require('node:os')
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (2 cores; other work on the machine skews every figure)`,
  );
  console.log(`${settings.users} users, broker ${brokers}, database ${settings.database}`);
  await steady(writer(url, token, userIds, 'warmup'), settings.rate, 3); // JIT, pools, partitions: not measured
  const notify = writer(url, token, userIds, 'notify');
  const notifySeconds = await steady(notify, settings.rate, settings.steadySeconds);
  await report(`notify: LISTEN/NOTIFY, steady ${settings.rate}/s`, notify, notifySeconds, await collect('notify', notify));

  await db.query('DROP TRIGGER outbox_notify ON outbox'); // the relay now only polls (every 1000 ms)
  const poll = writer(url, token, userIds, 'poll');
  const pollSeconds = await steady(poll, settings.rate, settings.baselineSeconds);
  await report(`poll: baseline, polling only (1000 ms), steady ${settings.rate}/s`, poll, pollSeconds, await collect('poll', poll));
  await db.query('CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()');

  const max = writer(url, token, userIds, 'max');
  let backlogMax = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      backlogMax = Math.max(backlogMax, await pending());
      await sleep(100);
    }
  })();
  await flat(max, settings.maxConnections, settings.maxSeconds);
  const stopped = Date.now();
  const backlogAtStop = await pending();
  while ((await pending()) > 0) await sleep(5);
  const drainMs = Date.now() - stopped;
  sampling = false;
  await sampler;
  const maxResult = await collect('max', max);
  await report(`max: maximum rate, ${settings.maxConnections} connections back to back`, max, settings.maxSeconds, maxResult);
  console.log(
    `  outbox backlog: max ${backlogMax} rows (sampled every 100 ms), ${backlogAtStop} when the load stopped, drained ${drainMs} ms after it stopped`,
  );

  await consumer.disconnect();
  await db.end();
  children.forEach((c) => c.kill('SIGTERM'));
  agent.destroy();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
