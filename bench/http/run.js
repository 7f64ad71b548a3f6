'use strict';
// HTTP benchmark: the real service (dist/src/main.js) against a bare Fastify + pg baseline
// (bench/http/bare-server.js), interleaved rounds with autocannon; only the ratios mean something.
// Then, to price metrics + logging, GET runs against two fresh copies of the service side by side, at the same
// time: "service" as deployed and "service-noobs" (METRICS_ENABLED=false LOG_LEVEL=silent); BENCH_OBSERVABILITY=0
// skips that part.
// See bench/README.md.   npm run bench:http  [-- --profile]

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { Client } = require('pg');
const { SignJWT } = require('jose');
const { summarize } = require('./profile-top');

const ROOT = path.resolve(__dirname, '../..');
const PROFILE_DIR = path.join(__dirname, 'profiles');
// Another build of the service (e.g. an experiment in a copy of dist/) may be measured instead.
const SERVICE_MAIN = path.resolve(ROOT, process.env.BENCH_SERVICE_MAIN || 'dist/src/main.js');
// The build "service-noobs" runs in the side-by-side comparison: by default the same one (with metrics and logs off);
// another build (BENCH_NOOBS_MAIN=<copy of dist>/src/main.js BENCH_NOOBS_ENV=BENCH_AB=1) prices a code change on GET.
const NOOBS_MAIN = path.resolve(ROOT, process.env.BENCH_NOOBS_MAIN || process.env.BENCH_SERVICE_MAIN || 'dist/src/main.js');

function intEnv(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min} (got "${raw}")`);
  return value;
}

/** What is measured: every endpoint of the issue's goal (issue 13). BENCH_ENDPOINTS=get-id,patch picks some. */
const ENDPOINTS = {
  'get-id': 'GET /api/v1/users/:id',
  'get-keycloak': 'GET /api/v1/users/by-keycloak/:keycloakId',
  'get-email': 'GET /api/v1/users/by-email/:email',
  post: 'POST /api/v1/users',
  patch: 'PATCH /api/v1/users/:id',
};
function endpointsFrom(list) {
  if (!list) return Object.keys(ENDPOINTS);
  const chosen = list.split(',').map((x) => x.trim());
  const unknown = chosen.filter((x) => !ENDPOINTS[x]);
  if (unknown.length > 0) throw new Error(`BENCH_ENDPOINTS: unknown ${unknown.join(', ')} (known: ${Object.keys(ENDPOINTS).join(', ')})`);
  return chosen;
}
const settings = {
  pgServer: (process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, ''),
  database: process.env.BENCH_DATABASE || 'user_service_bench',
  users: intEnv('BENCH_USERS', 100_000),
  seconds: intEnv('BENCH_SECONDS', 10),
  rounds: intEnv('BENCH_ROUNDS', 5, 0), // 0: only the metrics + logging comparison
  warmup: intEnv('BENCH_WARMUP', 2, 0),
  connections: intEnv('BENCH_CONNECTIONS', 50),
  poolSize: intEnv('BENCH_POOL_SIZE', 10),
  bareStatements: process.env.BENCH_BARE_STATEMENTS || 'named',
  // The side-by-side GET runs of the service with and without metrics and logs.
  observability: process.env.BENCH_OBSERVABILITY !== '0',
  observabilityRuns: intEnv('BENCH_OBSERVABILITY_RUNS', 12),
  observabilityWarmup: intEnv('BENCH_OBSERVABILITY_WARMUP', 20, 0),
  // The endpoint of the side-by-side runs: GET by id, unless a code change on another route is priced.
  sideBySide: process.env.BENCH_SIDE_BY_SIDE_ENDPOINT || 'get-id',
  endpoints: endpointsFrom(process.env.BENCH_ENDPOINTS),
  /** People with their own token: the GETs and PATCHes go to one of them, with that person's token (the ownership rule). */
  tokenUsers: intEnv('BENCH_TOKEN_USERS', 2000),
  profile: process.argv.includes('--profile'),
  verbose: process.argv.includes('--verbose') || process.env.BENCH_VERBOSE === '1',
};
if (!['named', 'unnamed'].includes(settings.bareStatements)) {
  throw new Error(`BENCH_BARE_STATEMENTS must be named or unnamed (got "${settings.bareStatements}")`);
}
/** Issue 13: service rps >= 0.85x bare, node CPU per request <= 1.3x, p99 <= 2x (medians of the per-round ratios). */
const TARGETS = { rps: 0.85, cpu: 1.3, p99: 2 };
/** Most that metrics + logging may cost on GET, as a share of service-noobs rps. */
const OBSERVABILITY_TARGET = 0.1;
const NOOBS = 'service-noobs';
const NAME_WIDTH = 7;
const databaseUrl = `${settings.pgServer}/${settings.database}`;
const secret = crypto.randomBytes(36).toString('base64url'); // 48 chars
const internalToken = crypto.randomBytes(24).toString('base64url');
const runId = Date.now().toString(36);

// ---------------------------------------------------------------- child processes

const children = new Set();

function killAll(signal = 'SIGTERM') {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}
process.on('exit', () => killAll('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    killAll('SIGTERM');
    setTimeout(() => process.exit(130), 300).unref();
  });
}

let scratch = null;

/**
 * The servers' working directory: an empty one, so that a developer's ./.env (which the service reads at start-up)
 * cannot change what is measured. Removed on exit.
 */
function scratchDir() {
  if (!scratch) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'user-service-bench-'));
    process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
  }
  return scratch;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `node <args>` and resolves once GET /health answers 200. */
async function startServer(name, nodeArgs, extraEnv) {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: String(settings.poolSize),
    ...extraEnv,
  };
  const child = spawn(process.execPath, nodeArgs, { cwd: scratchDir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const output = [];
  const collect = (stream) => (chunk) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 200) output.shift();
      if (settings.verbose) console.log(`  [${name}${stream}] ${line}`);
    }
  };
  child.stdout.on('data', collect(''));
  child.stderr.on('data', collect(' err'));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));

  const deadline = Date.now() + 90_000;
  for (;;) {
    const status = await Promise.race([
      exited.then(() => 'exited'),
      fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.status,
        () => 0,
      ),
    ]);
    if (status === 'exited') {
      throw new Error(`${name} exited during start-up:\n${output.join('\n')}`);
    }
    if (status === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer GET /health with 200 within 90 s:\n${output.join('\n')}`);
    }
    await sleep(250);
  }
  return {
    name,
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function serviceArgs(profileName, main = SERVICE_MAIN) {
  const args = [];
  if (profileName) {
    args.push(
      '--cpu-prof',
      `--cpu-prof-dir=${PROFILE_DIR}`,
      `--cpu-prof-name=${profileName}`,
      '-r',
      path.join(__dirname, 'profile-exit.js'),
    );
  }
  args.push(main);
  return args;
}

/** BENCH_SERVICE_ENV="A=1,B=2": extra environment for the service only (feature switches of an experiment). */
function extraServiceEnv(variable = 'BENCH_SERVICE_ENV') {
  const env = {};
  for (const pair of (process.env[variable] || '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`${variable}: expected KEY=VALUE pairs, got "${pair}"`);
    env[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  return env;
}

function startService(profileName) {
  return startServer('service', serviceArgs(profileName), serviceEnv());
}

/** The same build with per-request timing (HTTP and database) and all logging off: what observability costs. */
function startServiceNoObservability() {
  return startServer(NOOBS, serviceArgs(undefined, NOOBS_MAIN), { ...serviceEnv(), ...noobsEnv() });
}

/**
 * What service-noobs changes. BENCH_NOOBS_ENV="A=1,B=" replaces it, to price something else side by side
 * (e.g. tracing: BENCH_SERVICE_ENV=OTEL_EXPORTER_OTLP_ENDPOINT=http://... BENCH_NOOBS_ENV=OTEL_EXPORTER_OTLP_ENDPOINT=).
 */
function noobsEnv() {
  return process.env.BENCH_NOOBS_ENV ? extraServiceEnv('BENCH_NOOBS_ENV') : { METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' };
}

function serviceEnv() {
  return {
    AUTH_JWT_SECRET: secret,
    INTERNAL_API_TOKEN: internalToken,
    // As deployed: JSON logs at the default level (info: the activity line of each POST and PATCH) and the
    // rate limiter on, with a limit the bench's few thousand callers never reach (so it counts but never answers 429).
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: '1000000',
    ...extraServiceEnv(),
  };
}

function startBare(profileName) {
  const args = [];
  if (profileName) {
    args.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${profileName}`);
  }
  args.push(path.join(__dirname, 'bare-server.js'));
  return startServer('bare', args, { BARE_STATEMENTS: settings.bareStatements });
}

// ---------------------------------------------------------------- CPU accounting (Linux /proc)

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of a process in ms, or null when /proc is not there. */
function processCpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/**
 * pid -> CPU ms of the PostgreSQL processes working for this benchmark: the backends connected to the bench
 * database and the shared background processes (WAL writer, checkpointer...). Other databases' backends (other
 * people's tests on the same server) are left out, and so count as "other processes".
 */
async function postgresCpuMs(db) {
  if (!fs.existsSync('/proc/self/stat')) return null;
  const { rows } = await db.query('SELECT pid FROM pg_stat_activity WHERE (datname = $1 OR datname IS NULL) AND pid <> pg_backend_pid()', [
    settings.database,
  ]);
  const byPid = new Map();
  for (const { pid } of rows) {
    const ms = processCpuMs(pid);
    if (ms !== null) byPid.set(pid, ms);
  }
  return byPid;
}

/** CPU spent between two snapshots by the processes alive at the second (backends come and go with pool idle timeouts). */
function postgresDelta(before, after) {
  if (!before || !after) return null;
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** Machine-wide CPU ms from /proc/stat: user+system (what processes are charged), irq+softirq, steal, total. */
function machineCpuMs() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map((x) => Number(x) || 0);
    const total = user + nice + system + idle + iowait + irq + softirq + steal;
    return {
      processes: (user + nice + system) * TICK_MS,
      irq: (irq + softirq) * TICK_MS,
      steal: steal * TICK_MS,
      busy: (total - idle - iowait) * TICK_MS,
      total: total * TICK_MS,
    };
  } catch {
    return null;
  }
}

async function cpuSnapshot(server, db) {
  const postgres = await postgresCpuMs(db);
  const self = process.cpuUsage();
  return {
    server: processCpuMs(server.pid),
    postgres,
    loadgen: (self.user + self.system) / 1000,
    machine: machineCpuMs(),
  };
}

/**
 * CPU µs per request of the server, PostgreSQL and this process (autocannon); machine busy %, and the share of
 * the machine used by anything else (other people's jobs on a shared box make a run unreliable).
 */
function cpuPerRequest(before, after, requests) {
  const per = (ms) => (ms === null || requests === 0 ? null : (ms * 1000) / requests);
  const server = before.server === null || after.server === null ? null : after.server - before.server;
  const pg = postgresDelta(before.postgres, after.postgres);
  const loadgen = after.loadgen - before.loadgen;
  let machineBusy = null;
  let otherLoad = null;
  let steal = null;
  if (before.machine && after.machine) {
    const d = (key) => after.machine[key] - before.machine[key];
    const total = d('total');
    machineBusy = (100 * d('busy')) / total;
    steal = (100 * d('steal')) / total;
    // user+system time not charged to the server, PostgreSQL or autocannon: somebody else's jobs.
    if (server !== null && pg !== null) otherLoad = Math.max(0, (100 * (d('processes') - server - pg - loadgen)) / total);
  }
  return { server: per(server), postgres: per(pg), loadgen: per(loadgen), machineBusy, otherLoad, steal };
}

// ---------------------------------------------------------------- database

async function resetDatabase() {
  if (!/bench/i.test(settings.database)) {
    throw new Error(`Refusing to use database "${settings.database}": its name must contain "bench" (it is wiped)`);
  }
  if (!/^[a-z_][a-z0-9_]*$/i.test(settings.database)) throw new Error(`Bad database name "${settings.database}"`);
  const admin = new Client({ connectionString: `${settings.pgServer}/postgres` });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [settings.database]);
    if (rowCount === 0) {
      await admin.query(`CREATE DATABASE "${settings.database}"`);
      console.log(`created database ${settings.database}`);
    }
  } finally {
    await admin.end();
  }
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query('DROP SCHEMA IF EXISTS public CASCADE');
    await db.query('CREATE SCHEMA public');
  } finally {
    await db.end();
  }
}

const PREFERENCES = '{"language":"en","timezone":"UTC","notifications":{"email":true,"productNews":false,"interviewReminders":true}}';

async function seed(db) {
  const started = Date.now();
  await db.query(
    `INSERT INTO users (keycloak_id, email, full_name, preferences)
     SELECT 'kc-' || i, 'u' || i || '@bench.test', 'Bench User ' || i, $2::jsonb
     FROM generate_series(1, $1::int) AS i`,
    [settings.users, PREFERENCES],
  );
  await db.query('VACUUM ANALYZE users');
  await db.query('VACUUM ANALYZE outbox');
  const { rows } = await db.query({ text: 'SELECT id, keycloak_id, email FROM users WHERE deleted_at IS NULL', rowMode: 'array' });
  console.log(`seeded ${settings.users} users in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return rows.map(([id, keycloakId, email]) => ({ id, keycloakId, email }));
}

// ---------------------------------------------------------------- load

function sign(claims, subject) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
}

/**
 * Who calls: BENCH_TOKEN_USERS random seeded people, each with a token of their own (sub = their Keycloak id,
 * their `email` claim, no admin role), so that every GET and PATCH passes the ownership rule for real; POST comes
 * from another service (X-Internal-Token), as after a Keycloak registration.
 */
async function fixtureFor(users) {
  const people = [];
  const pool = [...users];
  for (let i = 0; i < Math.min(settings.tokenUsers, pool.length); i++) {
    const j = i + Math.floor(Math.random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
    const user = pool[i];
    people.push({ ...user, authorization: `Bearer ${await sign({ email: user.email }, user.keycloakId)}` });
  }
  return { people };
}

let postCounter = 0;
let patchCounter = 0;

/** One request of an endpoint: method, path, headers and body. The same bytes go to both servers: the bare one ignores the auth headers. */
function requestOf(kind, fixture) {
  if (kind === 'post') {
    const uniq = `${runId}-${++postCounter}`;
    return {
      method: 'POST',
      path: '/api/v1/users',
      headers: { 'content-type': 'application/json', 'x-internal-token': internalToken },
      body: `{"keycloakId":"b-${uniq}","email":"b-${uniq}@bench.test","profile":{"fullName":"Bench User"}}`,
    };
  }
  const person = fixture.people[Math.floor(Math.random() * fixture.people.length)];
  const headers = { authorization: person.authorization };
  switch (kind) {
    case 'get-id':
      return { method: 'GET', path: `/api/v1/users/${person.id}`, headers };
    case 'get-keycloak':
      return { method: 'GET', path: `/api/v1/users/by-keycloak/${encodeURIComponent(person.keycloakId)}`, headers };
    case 'get-email':
      return { method: 'GET', path: `/api/v1/users/by-email/${encodeURIComponent(person.email)}`, headers };
    case 'patch':
      // A new bio each time: every PATCH changes the row, bumps the version and writes an audit entry and an event.
      return {
        method: 'PATCH',
        path: `/api/v1/users/${person.id}`,
        headers: { ...headers, 'content-type': 'application/json' },
        body: `{"profile":{"bio":"Bench bio ${runId}-${++patchCounter}"}}`,
      };
    default:
      throw new Error(`unknown endpoint ${kind}`);
  }
}

function requestsFor(kind, fixture) {
  return {
    requests: [
      {
        setupRequest(request) {
          const next = requestOf(kind, fixture);
          request.method = next.method;
          request.path = next.path;
          request.headers = next.headers;
          request.body = next.body;
          return request;
        },
      },
    ],
  };
}

function load(server, kind, fixture, seconds, connections = settings.connections) {
  return autocannon({ url: server.url, connections, duration: seconds, ...requestsFor(kind, fixture) });
}

/** One warm-up (discarded) and one measured autocannon run; records the CLOCK_MONOTONIC window. */
async function measure(server, kind, fixture, db, label) {
  await db.query('CHECKPOINT'); // no checkpoint of the previous run's writes inside this one
  let warmupBad = 0;
  if (settings.warmup > 0) {
    const warm = await load(server, kind, fixture, settings.warmup);
    warmupBad = warm.non2xx + warm.errors + warm.timeouts;
  }
  const before = await cpuSnapshot(server, db);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const r = await load(server, kind, fixture, settings.seconds);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const cpu = cpuPerRequest(before, await cpuSnapshot(server, db), r.requests.total);
  const result = {
    server: server.name,
    kind,
    rps: r['2xx'] / r.duration,
    p99: r.latency.p99,
    p50: r.latency.p50,
    requests: r.requests.total,
    bad: r.non2xx + r.errors + r.timeouts,
    warmupBad,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats || {}).map(([code, s]) => [code, s.count])),
    fromUs,
    toUs,
    cpu,
  };
  const flag =
    result.bad || warmupBad
      ? `  <-- ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts, warm-up ${warmupBad} bad; status ${JSON.stringify(result.statusCodes)}`
      : '';
  console.log(
    `  ${label.padEnd(9)} ${kind.padEnd(12)} ${server.name.padEnd(NAME_WIDTH)} ${result.rps.toFixed(0).padStart(6)} rps  p50 ${String(result.p50).padStart(4)} ms  p99 ${String(result.p99).padStart(4)} ms  CPU/req: server ${us(cpu.server)} µs, postgres ${us(cpu.postgres)} µs, autocannon ${us(cpu.loadgen)} µs; machine ${pct(cpu.machineBusy)} busy, ${pct(cpu.otherLoad)} other processes${cpu.steal > 1 ? `, ${pct(cpu.steal)} stolen` : ''}${flag}`,
  );
  if (cpu.otherLoad !== null && cpu.otherLoad > OTHER_LOAD_LIMIT) {
    console.log(`            ^ other processes used ${cpu.otherLoad.toFixed(0)}% of the machine during this run: treat it with suspicion`);
  }
  return result;
}

const EXPECTED_STATUS = { 'get-id': 200, 'get-keycloak': 200, 'get-email': 200, post: 201, patch: 200 };

/** One request of each endpoint to each server, answered as expected, before anything is measured. */
async function sanityCheck(servers, fixture, kinds = settings.endpoints) {
  for (const server of servers) {
    const seen = [];
    for (const kind of kinds) {
      const { method, path: target, headers, body } = requestOf(kind, fixture);
      const response = await fetch(`${server.url}${target}`, { method, headers, body });
      const text = await response.text();
      if (response.status !== EXPECTED_STATUS[kind])
        throw new Error(`${server.name}: ${method} ${target} answered ${response.status}: ${text}`);
      seen.push(`${kind} ${response.status} (${text.length} B)`);
    }
    console.log(`  ${server.name}: ${seen.join(', ')}`);
  }
}

/** The service times the GET just sent (HTTP and database histograms); service-noobs must not (else the switch is off). */
async function checkTiming(server, expected) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const http = /^user_service_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/users\/:id"/m.test(text);
  const database = /^user_service_database_query_duration_seconds_count\{[^}]*operation="user_by_id"/m.test(text);
  if (http !== expected || database !== expected) {
    throw new Error(
      `${server.name}: GET /metrics ${http ? 'has' : 'lacks'} the GET /api/v1/users/:id request series and ` +
        `${database ? 'has' : 'lacks'} the user_by_id query series (expected ${expected ? 'both' : 'neither'})`,
    );
  }
  console.log(`  ${server.name}: request and query timing ${expected ? 'recorded' : 'off'}`);
}

// ---------------------------------------------------------------- metrics + logging overhead

/**
 * GET against several servers at the same time, the connections split between them. Run one after the other,
 * the same server moves 20-40% from one 10 s run to the next on these machines (other tenants, GC phases);
 * side by side, whatever the machine does hits both alike, and the one that costs more CPU per request serves
 * fewer requests.
 */
async function sideBySide(servers, fixture, db, seconds) {
  const connections = Math.max(1, Math.round(settings.connections / servers.length));
  const before = {
    servers: servers.map((s) => processCpuMs(s.pid)),
    postgres: await postgresCpuMs(db),
    loadgen: process.cpuUsage(),
    machine: machineCpuMs(),
  };
  const runs = await Promise.all(servers.map((server) => load(server, settings.sideBySide, fixture, seconds, connections)));
  const after = {
    servers: servers.map((s) => processCpuMs(s.pid)),
    postgres: await postgresCpuMs(db),
    loadgen: process.cpuUsage(before.loadgen),
    machine: machineCpuMs(),
  };
  const serverMs = servers.map((_, i) =>
    after.servers[i] === null || before.servers[i] === null ? null : after.servers[i] - before.servers[i],
  );
  let otherLoad = null;
  const pg = postgresDelta(before.postgres, after.postgres);
  if (before.machine && after.machine && pg !== null && !serverMs.includes(null)) {
    const d = (key) => after.machine[key] - before.machine[key];
    const loadgen = (after.loadgen.user + after.loadgen.system) / 1000;
    otherLoad = Math.max(0, (100 * (d('processes') - serverMs.reduce((a, b) => a + b, 0) - pg - loadgen)) / d('total'));
  }
  return servers.map((server, i) => {
    const r = runs[i];
    return {
      server: server.name,
      rps: r['2xx'] / r.duration,
      p99: r.latency.p99,
      bad: r.non2xx + r.errors + r.timeouts,
      cpu: serverMs[i] === null || r.requests.total === 0 ? null : (serverMs[i] * 1000) / r.requests.total,
      otherLoad,
    };
  });
}

/**
 * What metrics + logging cost on GET: two fresh processes of the same build, started together so that they have
 * the same history (heap growth, JIT), loaded side by side: the service as deployed and service-noobs
 * (METRICS_ENABLED=false: no request or query timing; LOG_LEVEL=silent). Returns one [service, noobs] pair per run.
 */
async function measureObservability(fixture, db) {
  const [service, noobs] = await Promise.all([startService(), startServiceNoObservability()]);
  try {
    await sanityCheck([service, noobs], fixture, [...new Set(['get-id', settings.sideBySide])]); // GET: checkTiming looks for its series
    await checkTiming(service, serviceEnv().METRICS_ENABLED !== 'false');
    await checkTiming(noobs, { ...serviceEnv(), ...noobsEnv() }.METRICS_ENABLED !== 'false');
    if (settings.observabilityWarmup > 0) {
      const warm = await sideBySide([service, noobs], fixture, db, settings.observabilityWarmup);
      console.log(
        `  warm-up   ${settings.sideBySide} side by side ${settings.observabilityWarmup} s: ${warm.map((r) => `${r.server} ${r.rps.toFixed(0)} rps`).join(', ')}`,
      );
    }
    const pairs = [];
    for (let run = 1; run <= settings.observabilityRuns; run++) {
      // Who gets its load started first alternates.
      const order = run % 2 === 1 ? [service, noobs] : [noobs, service];
      const results = await sideBySide(order, fixture, db, settings.seconds);
      const pair = ['service', NOOBS].map((name) => results.find((r) => r.server === name));
      console.log(
        `  run ${String(run).padEnd(5)} ${settings.sideBySide} side by side: ` +
          pair.map((r) => `${r.server} ${r.rps.toFixed(0)} rps, p99 ${r.p99} ms, ${us(r.cpu).trim()} µs CPU/req`).join(' | ') +
          `; ${pct(pair[0].otherLoad)} other processes` +
          (pair.some((r) => r.bad > 0) ? `  <-- ${pair.map((r) => `${r.server} ${r.bad} failed`).join(', ')}` : ''),
      );
      pairs.push(pair);
    }
    return pairs;
  } finally {
    await Promise.all([service.stop(), noobs.stop()]);
  }
}

/** Student's t for a two-sided 95% interval, by degrees of freedom (1.96 beyond 30). */
const T95 = [
  NaN,
  12.71,
  4.3,
  3.18,
  2.78,
  2.57,
  2.45,
  2.36,
  2.31,
  2.26,
  2.23,
  2.2,
  2.18,
  2.16,
  2.14,
  2.13,
  2.12,
  2.11,
  2.1,
  2.09,
  2.09,
  2.08,
  2.07,
  2.07,
  2.06,
  2.06,
  2.06,
  2.05,
  2.05,
  2.05,
  2.04,
];

/** Mean and 95% confidence interval of a sample (t distribution). */
function meanInterval(values) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, low: NaN, high: NaN };
  const sd = Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = (T95[n - 1] ?? 1.96) * (sd / Math.sqrt(n));
  return { mean, low: mean - half, high: mean + half };
}

function printObservabilityOverhead(pairs) {
  const rpsRatios = pairs.map(([service, noobs]) => service.rps / noobs.rps);
  const cpuRatios = pairs.map(([service, noobs]) => service.cpu / noobs.cpu).filter(Number.isFinite);
  const rps = meanInterval(rpsRatios);
  // The median is the headline (one odd run moves it least); the mean's interval says how sure that is.
  const overhead = 1 - median(rpsRatios);
  const failed = pairs.flat().some((r) => r.bad > 0);
  const verdict = failed ? 'INVALID' : overhead <= OBSERVABILITY_TARGET ? 'PASS' : 'OVER';
  const percent = (x) => `${(100 * x).toFixed(1)}%`;
  const sure =
    1 - rps.low <= OBSERVABILITY_TARGET
      ? 'the whole interval is within the target'
      : 'the interval reaches past the target: add runs (BENCH_OBSERVABILITY_RUNS) to narrow it';
  console.log(
    `\nmetrics+logging overhead on GET: ${percent(overhead)} fewer requests served (median of ${pairs.length} side-by-side runs; ` +
      `mean ${percent(1 - rps.mean)}, 95% interval ${percent(1 - rps.high)} to ${percent(1 - rps.low)}), ` +
      `target <= ${(100 * OBSERVABILITY_TARGET).toFixed(0)}%: ${verdict}; ${sure}`,
  );
  console.log(`  service/${NOOBS} rps per run: ${rpsRatios.map((x) => x.toFixed(3)).join(' ')}`);
  if (cpuRatios.length > 1) {
    const cpu = meanInterval(cpuRatios);
    console.log(
      `  node CPU per request, service vs ${NOOBS}: ${cpu.mean >= 1 ? '+' : ''}${percent(cpu.mean - 1)} (95% interval ${percent(cpu.low - 1)} to ${percent(cpu.high - 1)}; ` +
        `per run ${cpuRatios.map((x) => x.toFixed(3)).join(' ')}; medians ${us(median(pairs.map(([s]) => s.cpu ?? NaN))).trim()} vs ` +
        `${us(median(pairs.map(([, n]) => n.cpu ?? NaN))).trim()} µs)`,
    );
  }
  if (process.env.BENCH_NOOBS_ENV) console.log(`  ${NOOBS} here = the service with ${process.env.BENCH_NOOBS_ENV} (BENCH_NOOBS_ENV)`);
  console.log(
    `  ${NOOBS} = the same build with METRICS_ENABLED=false (no HTTP request or database query timing) and LOG_LEVEL=silent;\n` +
      '  the service logs at info, the production default (a GET logs no line: only failures and slow requests do).\n' +
      `  Both run at once with ${Math.round(settings.connections / 2)} connections each, after a ${settings.observabilityWarmup} s side-by-side warm-up.\n` +
      '  Two identical servers measured this way differ by up to ±20% in a single 10 s run (GC phases, the other tenants of\n' +
      '  the host): read the median and the interval, not one run.',
  );
  return verdict;
}

// ---------------------------------------------------------------- report

const OTHER_LOAD_LIMIT = 15;

function pct(value) {
  return value === null || value === undefined ? '?%' : `${value.toFixed(0)}%`;
}

function us(value) {
  return value === null || value === undefined ? '?' : value.toFixed(0).padStart(4);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function printGrid(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

/**
 * Per endpoint: the ratios service/bare of each round (each round's two runs are a minute apart at most: pairing
 * them cancels most machine drift) and their medians, against the targets; then the absolute figures of each side.
 */
function printTable(results) {
  const ratioRows = [];
  const absoluteRows = [];
  const verdicts = [];
  for (const kind of Object.keys(ENDPOINTS)) {
    const of = (name) => results.filter((r) => r.kind === kind && r.server === name);
    const service = of('service');
    const bare = of('bare');
    if (service.length === 0 || bare.length === 0) continue;
    const perRound = (pick) => service.map((r, i) => pick(r) / pick(bare[i]));
    const rps = perRound((r) => r.rps);
    const cpu = perRound((r) => r.cpu.server ?? NaN);
    const p99 = perRound((r) => r.p99);
    const [rpsRatio, cpuRatio, p99Ratio] = [rps, cpu, p99].map((list) => median(list.filter(Number.isFinite)));
    const failed = [...service, ...bare].some((r) => r.bad > 0 || r.warmupBad > 0);
    const short = [
      ...(rpsRatio >= TARGETS.rps ? [] : ['rps']),
      ...(cpuRatio <= TARGETS.cpu ? [] : ['cpu']),
      ...(p99Ratio <= TARGETS.p99 ? [] : ['p99']),
    ];
    const verdict = failed ? 'INVALID' : short.length === 0 ? 'PASS' : `SHORT (${short.join(', ')})`;
    verdicts.push(`${kind} ${verdict}`);
    const fixed = (list) => list.map((x) => (Number.isFinite(x) ? x.toFixed(2) : '?')).join(' ');
    ratioRows.push([
      ENDPOINTS[kind],
      rpsRatio.toFixed(2),
      fixed(rps),
      Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(2)}x` : '?',
      fixed(cpu),
      `${p99Ratio.toFixed(2)}x`,
      verdict,
    ]);
    for (const [name, list] of [
      ['service', service],
      ['bare', bare],
    ]) {
      absoluteRows.push([
        name === 'service' ? ENDPOINTS[kind] : '',
        name,
        median(list.map((r) => r.rps)).toFixed(0),
        list.map((r) => r.rps.toFixed(0)).join(' '),
        median(list.map((r) => r.p50)).toFixed(0),
        median(list.map((r) => r.p99)).toFixed(0),
        us(median(list.map((r) => r.cpu.server ?? NaN))).trim(),
        us(median(list.map((r) => r.cpu.postgres ?? NaN))).trim(),
        String(list.reduce((n, r) => n + r.bad + r.warmupBad, 0)),
      ]);
    }
  }
  printGrid(
    [
      'endpoint',
      'rps svc/bare',
      'per round',
      'node CPU/req svc/bare',
      'per round',
      'p99 svc/bare',
      `result (>= ${TARGETS.rps}, <= ${TARGETS.cpu}x, <= ${TARGETS.p99}x)`,
    ],
    ratioRows,
  );
  console.log('');
  printGrid(
    ['endpoint', 'server', 'median rps', 'rps per round', 'p50 ms', 'p99 ms', 'node CPU µs/req', 'pg CPU µs/req', 'non-2xx+err'],
    absoluteRows,
  );
  return verdicts;
}

/** True when other jobs used more than OTHER_LOAD_LIMIT% of the machine in some measured run. */
function reportOtherLoad(otherLoads) {
  const loads = otherLoads.filter((x) => x !== null);
  if (loads.length === 0) return false;
  const max = Math.max(...loads);
  console.log(
    `CPU used by other processes (other jobs on the machine) during measured runs: median ${median(loads).toFixed(0)}%, max ${max.toFixed(0)}%` +
      (max > OTHER_LOAD_LIMIT ? ` -- above ${OTHER_LOAD_LIMIT}%: the machine was shared, rerun when it is quiet if the ratios matter` : ''),
  );
  return max > OTHER_LOAD_LIMIT;
}

function warnIfInvalid(results) {
  const bad = results.filter((r) => r.bad > 0 || r.warmupBad > 0);
  if (bad.length === 0) return;
  const banner = '!'.repeat(78);
  console.log(`\n${banner}\n!!! INVALID RUN: requests failed (non-2xx, socket errors or timeouts) — do not use these numbers\n${banner}`);
  for (const r of bad) {
    console.log(
      `!!! ${r.kind} ${r.server}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts (warm-up: ${r.warmupBad}); status codes ${JSON.stringify(r.statusCodes)}`,
    );
  }
  console.log(banner);
}

/** The service against bare, GET then POST, in interleaved rounds (who goes first alternates). */
async function measureRounds(service, fixture, db) {
  const bare = await startBare();
  try {
    console.log(`service on ${service.url}, bare on ${bare.url}`);
    await sanityCheck([service, bare], fixture);
    const results = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const order = round % 2 === 1 ? [service, bare] : [bare, service];
      for (const kind of settings.endpoints) {
        for (const server of order) results.push(await measure(server, kind, fixture, db, `round ${round}`));
      }
    }
    return results;
  } finally {
    await bare.stop();
  }
}

function printRounds(results) {
  const verdicts = printTable(results);
  const shared = results.some((r) => r.cpu.otherLoad !== null && r.cpu.otherLoad > OTHER_LOAD_LIMIT);
  console.log(
    `\ntargets (issue 13, informational): rps >= ${TARGETS.rps}x bare, node CPU per request <= ${TARGETS.cpu}x, p99 <= ${TARGETS.p99}x: ` +
      verdicts.join(', ') +
      (shared ? '  (UNRELIABLE: other jobs loaded the machine, see below; the node CPU column still holds)' : ''),
  );
  console.log(
    'Ratios: median over rounds of (service / bare of the same round); "per round" lists them in round order.\n' +
      'Absolute columns: medians over rounds (p50/p99 as autocannon reports them, whole ms).\n' +
      "node CPU = utime+stime of the server process per request; pg CPU = the bench database's backends + WAL\n" +
      'writer/checkpointer etc. per request. The CPU columns move far less than rps from minute to minute.',
  );
}

// ---------------------------------------------------------------- main

async function main() {
  const cpus = os.cpus();
  console.log(
    `HTTP benchmark: user-service vs bare Fastify + pg${settings.observability ? ` (GET also vs ${NOOBS}: metrics and logs off)` : ''}`,
  );
  console.log(
    `date ${new Date().toISOString()}  node ${process.version}  ${cpus.length} CPUs (${cpus[0]?.model?.trim()})  ${os.platform()} ${os.release()}`,
  );
  console.log(
    `database ${settings.database}, ${settings.users} users, ${settings.connections} connections, ` +
      `${settings.seconds} s per run after ${settings.warmup} s warm-up, ${settings.profile ? '1 profiled round' : `${settings.rounds} rounds`}, ` +
      `pg pool ${settings.poolSize}, bare statements: ${settings.bareStatements}`,
  );
  console.log(
    'baseline: bench/http/bare-server.js does the same SQL (GETs: the same SELECT by id, Keycloak id or email; POST: the\n' +
      "  service's one statement inserting the user, its audit entry and its outbox event; PATCH: BEGIN, SELECT ... FOR UPDATE,\n" +
      "  the service's UPDATE with audit and outbox inserts, COMMIT) with NO auth, NO validation, NO domain model.\n" +
      `  endpoints: ${settings.endpoints.join(', ')}; ${settings.tokenUsers} people with their own tokens send the GETs and PATCHes.\n` +
      `  autocannon runs in this process on the same ${cpus.length} CPUs as the servers and PostgreSQL: compare ratios, not absolute rps.\n`,
  );
  if (!fs.existsSync(SERVICE_MAIN)) throw new Error(`${SERVICE_MAIN} is missing: run \`npm run build\``);
  if (process.env.BENCH_SERVICE_MAIN) console.log(`service entry: ${SERVICE_MAIN}`);
  if (process.env.BENCH_SERVICE_ENV) console.log(`extra service environment: ${process.env.BENCH_SERVICE_ENV}`);

  await resetDatabase();
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    let service = await startService(); // runs the migrations
    const fixture = await fixtureFor(await seed(db));

    if (!settings.profile) {
      const results = settings.rounds > 0 ? await measureRounds(service, fixture, db) : [];
      await service.stop();
      let observability = null;
      if (settings.observability) {
        console.log(`\nmetrics + logging: fresh service and ${NOOBS} side by side`);
        observability = await measureObservability(fixture, db);
      }
      console.log('');
      if (results.length > 0) printRounds(results);
      if (observability) printObservabilityOverhead(observability);
      reportOtherLoad([...results.map((r) => r.cpu.otherLoad), ...(observability ?? []).map(([service]) => service.otherLoad)]);
      warnIfInvalid(results);
      return;
    }

    // --profile: one round of each endpoint, each against fresh processes under --cpu-prof.
    await service.stop();
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    const results = [];
    const reports = [];
    for (const kind of settings.endpoints) {
      const stamp = `${runId}-${kind}`;
      const serviceFile = `service-${stamp}.cpuprofile`;
      const bareFile = `bare-${stamp}.cpuprofile`;
      service = await startService(serviceFile);
      const bare = await startBare(bareFile);
      await sanityCheck([service, bare], fixture, [kind]);
      const s = await measure(service, kind, fixture, db, 'profiled');
      const b = await measure(bare, kind, fixture, db, 'profiled');
      results.push(s, b);
      await service.stop();
      await bare.stop();
      reports.push({ kind, result: s, file: path.join(PROFILE_DIR, serviceFile), top: 25, inclusive: 20 });
      reports.push({ kind, result: b, file: path.join(PROFILE_DIR, bareFile), top: 12, inclusive: 0 });
    }
    console.log('\n(profiled numbers: the profiler itself costs CPU, so the table is indicative only)');
    printTable(results);
    reportOtherLoad(results.map((r) => r.cpu.otherLoad));
    warnIfInvalid(results);
    for (const { kind, result, file, top, inclusive } of reports) {
      console.log(`\n=== ${kind} ${result.server} CPU profile (measured window only) ===`);
      if (!fs.existsSync(file)) {
        console.log(`  missing ${file}`);
        continue;
      }
      console.log(
        summarize(file, {
          top,
          inclusive,
          inclusivePackages: 'service|nestjs|class-',
          fromUs: result.fromUs,
          toUs: result.toUs,
          requests: result.requests,
        }).text,
      );
      console.log(
        `  more: node bench/http/profile-top.js ${path.relative(ROOT, file)} --from-us ${result.fromUs} --to-us ${result.toUs} ` +
          `--requests ${result.requests} --top 40 --inclusive 80`,
      );
    }
    console.log(`\nprofiles: ${path.relative(ROOT, PROFILE_DIR)}/*-${runId}-*.cpuprofile (open in Chrome DevTools or speedscope)`);
  } finally {
    await db.end().catch(() => {});
    killAll('SIGTERM');
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`\nbench failed: ${settings.verbose ? error.stack : error.message || error}`);
    killAll('SIGTERM');
    process.exit(1);
  },
);
