'use strict';
// The directory at a million users: seeds BENCH_USERS users in SQL into a database of its own, builds the
// indexes, starts the built service (dist/) and a bare baseline server, and measures over HTTP (autocannon,
// BENCH_CONNECTIONS connections) p50/p99 of each query shape the issue names, each beside its baseline in the
// same run; then prints EXPLAIN (ANALYZE, BUFFERS) of each shape's SQL and the verdict on the targets.
// See bench/README.md.   npm run bench:directory

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { SignJWT } = require('jose');
const { Client } = require('pg');
const { BASELINES, ilikePattern } = require('./baseline-server');

const ROOT = path.resolve(__dirname, '../..');
const dist = (file) => require(path.join(ROOT, 'dist/src', file));

function intEnv(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min} (got "${raw}")`);
  return value;
}

const settings = {
  pgServer: (process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, ''),
  database: process.env.BENCH_DATABASE || 'user_service_bench_directory',
  users: intEnv('BENCH_USERS', 1_000_000, 1000),
  seconds: intEnv('BENCH_SECONDS', 10),
  soloSeconds: intEnv('BENCH_SOLO_SECONDS', 3, 0),
  warmup: intEnv('BENCH_WARMUP', 2, 0),
  connections: intEnv('BENCH_CONNECTIONS', 20),
  poolSize: intEnv('BENCH_POOL_SIZE', 10),
  deepestPage: intEnv('BENCH_DEEPEST_PAGE', 5000, 2),
  reseed: process.env.BENCH_RESEED !== '0',
};
if (!settings.database.includes('bench'))
  throw new Error(`BENCH_DATABASE must contain "bench" (got "${settings.database}"): the run wipes it`);
const databaseUrl = `${settings.pgServer}/${settings.database}`;
const secret = crypto.randomBytes(36).toString('base64url');
const PAGES = [1, 100, 1000, 5000].filter((page) => page <= settings.deepestPage);
const FRAGMENTS = { common: 'son', rare: 'lukasz nowak', rareAccented: 'Łukasz Nowak' };
const TARGETS = { p99Ms: 50, deepPageRatio: 1.5, searchSpeedUp: 20 };

// ---------------------------------------------------------------- processes

const children = new Set();
process.on('exit', () => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `node <file>` in an empty directory (no developer .env), ready once GET /health answers 200. */
async function startServer(name, file, env) {
  const port = await freePort();
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-directory-'));
  const child = spawn(process.execPath, [file], {
    cwd,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const output = [];
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => output.push(String(chunk)));
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ;) {
    if (child.exitCode !== null) throw new Error(`${name} exited:\n${output.join('')}`);
    const status = await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) throw new Error(`${name} did not start within 60 s:\n${output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { name, url, stop: () => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM'))) };
}

// ---------------------------------------------------------------- database

async function withDb(url, fn) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function timed(label, fn) {
  const started = Date.now();
  const result = await fn();
  console.log(`  ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** A fresh database: the service's migrations, then the users in one INSERT with the users indexes dropped and rebuilt. */
async function seed() {
  console.log(`Seeding ${settings.users.toLocaleString('en')} users into ${settings.database}`);
  await withDb(`${settings.pgServer}/postgres`, async (db) => {
    await db.query(`DROP DATABASE IF EXISTS ${settings.database} WITH (FORCE)`);
    await db.query(`CREATE DATABASE ${settings.database}`);
  });
  await timed('migrations', async () => {
    const { DataSource } = require('typeorm');
    const config = dist('config/config.js').loadConfig({ DATABASE_URL: databaseUrl, NODE_ENV: 'test' });
    const dataSource = new DataSource({ ...dist('config/database.js').dataSourceOptions(config, null), migrationsRun: false });
    await dataSource.initialize();
    await dataSource.runMigrations();
    await dataSource.destroy();
  });
  await withDb(databaseUrl, async (db) => {
    const { rows: indexes } = await db.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'users' AND schemaname = current_schema() AND indexname <> 'users_pkey'`,
    );
    for (const { indexname } of indexes) await db.query(`DROP INDEX ${indexname}`);
    const insert = fs.readFileSync(path.join(__dirname, 'seed.sql'), 'utf8').replaceAll(':users', String(settings.users));
    await timed('INSERT … SELECT generate_series', () => db.query(insert));
    await db.query(`SET maintenance_work_mem = '512MB'`);
    await timed(`${indexes.length} indexes rebuilt`, async () => {
      for (const { indexdef } of indexes) await db.query(indexdef);
    });
    await timed('VACUUM ANALYZE', () => db.query('VACUUM ANALYZE users'));
  });
}

async function describeData(db) {
  const search = dist('users/persistence/user-directory.sql.js');
  const count = async (filters) => (await db.query(search.countStatement(filters, 10_000_000))).rows[0].n;
  const { rows } = await db.query(
    `SELECT count(*)::int AS users, count(*) FILTER (WHERE deleted_at IS NOT NULL)::int AS deleted,
            pg_size_pretty(pg_table_size('users')) AS "table", pg_size_pretty(pg_indexes_size('users')) AS indexes FROM users`,
  );
  const matches = {};
  for (const [name, q] of Object.entries(FRAGMENTS)) if (name !== 'rareAccented') matches[name] = await count({ status: 'active', q });
  console.log(`  ${rows[0].users} users (${rows[0].deleted} deleted), table ${rows[0].table}, indexes ${rows[0].indexes}`);
  console.log(`  q="${FRAGMENTS.common}" matches ${matches.common} users, q="${FRAGMENTS.rare}" ${matches.rare}`);
}

// ---------------------------------------------------------------- measuring

function measure(url, shape, seconds, connections = settings.connections) {
  return autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 60,
    headers: shape.headers ?? {},
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: shape.path() }) }],
  });
}

/** One request after another for BENCH_SOLO_SECONDS: the latency a lone caller sees, without queueing (autocannon counts whole ms). */
async function alone(url, shape) {
  const took = [];
  let bad = 0;
  for (const end = Date.now() + settings.soloSeconds * 1000; Date.now() < end;) {
    const started = performance.now();
    const res = await fetch(url + shape.path(), { headers: shape.headers });
    await res.arrayBuffer();
    took.push(performance.now() - started);
    if (res.status !== 200) bad++;
  }
  took.sort((a, b) => a - b);
  return { p50: took[Math.floor(took.length * 0.5)], p99: took[Math.floor(took.length * 0.99)], bad };
}

/** BENCH_CONNECTIONS at once, then (the service only) alone. */
async function run(server, shape, solo = false) {
  if (settings.warmup > 0) await measure(server.url, shape, settings.warmup);
  const result = await measure(server.url, shape, settings.seconds);
  const single = solo && settings.soloSeconds > 0 ? await alone(server.url, shape) : null;
  const bad = result.non2xx + result.errors + result.timeouts + (single?.bad ?? 0);
  const done = result.requests.total > 0;
  return { p50: done ? result.latency.p50 : NaN, p99: done ? result.latency.p99 : NaN, rps: result.requests.average, solo: single, bad };
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];

/** Follows nextCursor from page 1 down to the deepest page; returns the URL of each measured page. */
async function walk(service, auth) {
  const urls = { 1: '/api/v1/users' };
  let next = '/api/v1/users';
  const started = Date.now();
  for (let page = 2; page <= settings.deepestPage; page++) {
    const res = await fetch(service.url + next, { headers: auth });
    if (res.status !== 200) throw new Error(`page ${page - 1} answered ${res.status}: ${await res.text()}`);
    const { nextCursor } = await res.json();
    next = `/api/v1/users?cursor=${nextCursor}`;
    if (PAGES.includes(page)) urls[page] = next;
  }
  const ms = Date.now() - started;
  console.log(
    `  followed ${settings.deepestPage - 1} cursors in ${(ms / 1000).toFixed(1)} s (${(ms / (settings.deepestPage - 1)).toFixed(1)} ms a page, one client)`,
  );
  return urls;
}

/** The shapes the issue lists: the service's request, the SQL it runs (for EXPLAIN), and the baseline's. */
async function shapes(db, service, auth) {
  const { rows: sample } = await db.query(`SELECT id, email FROM users TABLESAMPLE SYSTEM (1) WHERE deleted_at IS NULL LIMIT 5000`);
  const emails = sample.map((row) => row.email);
  const ids = sample.map((row) => row.id);
  const since = new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10);
  const urls = await walk(service, auth);
  const list = (query) => ({ query, path: () => `/api/v1/users?${new URLSearchParams(query)}` });
  const shapes = [
    { name: 'email (GET /users/by-email/:email)', email: true, path: () => `/api/v1/users/by-email/${encodeURIComponent(pick(emails))}` },
    {
      name: `q="${FRAGMENTS.common}" (common)`,
      ...list({ q: FRAGMENTS.common }),
      baseline: { path: () => `/ilike?q=${FRAGMENTS.common}`, sql: BASELINES.ilike, values: [ilikePattern(FRAGMENTS.common)] },
      search: true,
    },
    {
      name: `q="${FRAGMENTS.rare}" (rare)`,
      ...list({ q: FRAGMENTS.rare }),
      baseline: {
        path: () => `/ilike?q=${encodeURIComponent(FRAGMENTS.rareAccented)}`,
        sql: BASELINES.ilike,
        values: [ilikePattern(FRAGMENTS.rareAccented)],
      },
      search: true,
    },
    { name: `status+createdFrom+sort=fullName`, ...list({ status: 'active', createdFrom: since, sort: 'fullName' }) },
    ...PAGES.map((page) => ({
      name: `page ${page} (cursor)`,
      page,
      query: Object.fromEntries(new URL(urls[page], service.url).searchParams),
      path: () => urls[page],
      baseline: { path: () => `/offset?depth=${(page - 1) * 20}`, sql: BASELINES.offset, values: [(page - 1) * 20] },
    })),
    { name: 'batch of 100 ids', batch: true, path: () => `/api/v1/users?id=${Array.from({ length: 100 }, () => pick(ids)).join(',')}` },
  ];
  return shapes.map((shape) => ({ ...shape, headers: auth }));
}

/** The statement the service runs for a shape, built by its own code (dist/), for EXPLAIN. */
function serviceStatement(shape, sample) {
  if (shape.email) {
    const { USER_COLUMNS } = dist('users/persistence/user.mapper.js');
    return { text: `SELECT ${USER_COLUMNS} FROM users WHERE email = $1 AND deleted_at IS NULL`, values: [sample.email] };
  }
  const { parseDirectoryParams } = dist('users/directory-params.js');
  const { pageStatement } = dist('users/persistence/user-directory.sql.js');
  const query = shape.batch ? { id: sample.ids.join(',') } : shape.query;
  const { filters, sort, limit, cursor } = parseDirectoryParams(query);
  let after;
  if (cursor) {
    const payload = JSON.parse(Buffer.from(cursor.split('.')[0], 'base64url').toString());
    after = { sortKey: payload.k, id: payload.i, ...(payload.x ? { snapshot: { xids: payload.x, takenAt: payload.t } } : {}) };
  }
  return pageStatement({ filters, sort, limit, after });
}

async function explain(db, label, statement) {
  const { rows } = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values);
  const plan = rows.map((row) => row['QUERY PLAN']).map((line) => (line.length > 240 ? `${line.slice(0, 240)}…` : line));
  console.log(`\n--- ${label}\n${plan.join('\n')}`);
}

// ---------------------------------------------------------------- report

const ms = (value) => (value === undefined ? '' : Number.isNaN(value) ? 'none done' : `${Number(value).toFixed(value < 10 ? 1 : 0)} ms`);

function report(results) {
  const rows = results.map(({ shape, service, baseline }) => [
    shape.name,
    ms(service.p50),
    ms(service.p99),
    Math.round(service.rps),
    service.solo ? `${ms(service.solo.p50)} / ${ms(service.solo.p99)}` : '',
    baseline ? (shape.search ? 'ILIKE, no index' : `OFFSET ${(shape.page - 1) * 20}`) : '',
    ms(baseline?.p50),
    ms(baseline?.p99),
    baseline ? `${(baseline.p50 / service.p50).toFixed(1)}x` : '',
  ]);
  const header = ['shape', 'p50', 'p99', 'req/s', '1 conn p50 / p99', 'baseline', 'p50', 'p99', 'baseline p50 / service p50'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nservice with ${settings.connections} connections (p50, p99, req/s), then alone; baseline with ${settings.connections}:`);
  console.log(`\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));

  const verdicts = [];
  const slow = results.filter((r) => r.service.p99 > TARGETS.p99Ms).map((r) => `${r.shape.name} ${ms(r.service.p99)}`);
  verdicts.push([`every directory query p99 <= ${TARGETS.p99Ms} ms`, slow.length === 0, slow.join(', ') || 'all within']);
  const page = (n) => results.find((r) => r.shape.page === n)?.service;
  const deepest = Math.max(...PAGES);
  if (page(1) && page(deepest)) {
    const p50 = page(deepest).p50 / page(1).p50;
    const p99 = page(deepest).p99 / page(1).p99;
    verdicts.push([
      `page ${deepest} within ${TARGETS.deepPageRatio}x of page 1`,
      p50 <= TARGETS.deepPageRatio,
      `p50 ${p50.toFixed(2)}x, p99 ${p99.toFixed(2)}x`,
    ]);
  }
  for (const r of results.filter((r) => r.shape.search)) {
    const speedUp = r.baseline.p50 / r.service.p50;
    verdicts.push([
      `${r.shape.name} >= ${TARGETS.searchSpeedUp}x faster than ILIKE`,
      speedUp >= TARGETS.searchSpeedUp,
      `${speedUp.toFixed(1)}x (p50), ${(r.baseline.p99 / r.service.p99).toFixed(1)}x (p99)`,
    ]);
  }
  console.log('\nTargets:');
  for (const [target, met, detail] of verdicts) console.log(`  ${met ? 'MET   ' : 'MISSED'} ${target}: ${detail}`);
  const bad = results.filter((r) => r.service.bad || r.baseline?.bad);
  if (bad.length) console.log(`\n*** INVALID: non-2xx, errors or timeouts in: ${bad.map((r) => r.shape.name).join(', ')} ***`);
}

// ---------------------------------------------------------------- main

async function main() {
  console.log(
    `bench:directory — ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (a shared machine: compare within this run only)`,
  );
  if (settings.reseed) await seed();
  const token = await new SignJWT({ realm_access: { roles: ['admin'] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-directory-admin')
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
  const auth = { authorization: `Bearer ${token}` };
  const pool = { DATABASE_POOL_SIZE: String(settings.poolSize) };
  const service = await startServer('service', path.join(ROOT, 'dist/src/main.js'), {
    ...pool,
    AUTH_JWT_SECRET: secret,
    DATABASE_MIGRATIONS_RUN: 'false',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0', // one admin token sends everything
  });
  const baseline = await startServer('baseline', path.join(__dirname, 'baseline-server.js'), pool);

  await withDb(databaseUrl, async (db) => {
    await describeData(db);
    const all = await shapes(db, service, auth);
    const results = [];
    for (const shape of all) {
      process.stdout.write(`  measuring ${shape.name} …`);
      const measured = { shape, service: await run(service, shape, true) };
      if (shape.baseline) measured.baseline = await run(baseline, shape.baseline);
      console.log(` p99 ${ms(measured.service.p99)}${measured.baseline ? `, baseline p99 ${ms(measured.baseline.p99)}` : ''}`);
      results.push(measured);
    }
    console.log("\nEXPLAIN (ANALYZE, BUFFERS) of each shape (the service's SQL, built by dist/, then the baseline's):");
    const { rows: sample } = await db.query(
      `SELECT array_agg(id) AS ids, min(email) AS email FROM (SELECT id, email FROM users WHERE deleted_at IS NULL ORDER BY random() LIMIT 100) AS s`,
    );
    const example = { email: sample[0].email, ids: sample[0].ids };
    for (const shape of all) {
      await explain(db, shape.name, serviceStatement(shape, example));
      if (shape.baseline) await explain(db, `${shape.name}: baseline`, { text: shape.baseline.sql, values: shape.baseline.values });
    }
    report(results);
  });
  console.log(
    `\nload average now ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  await Promise.all([service.stop(), baseline.stop()]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
