'use strict';
// Baseline for bench/http/run.js: bare Fastify + pg Pool doing the same database work as the service
// for GET /api/v1/users/:id, /by-keycloak/:keycloakId and /by-email/:email, POST /api/v1/users and
// PATCH /api/v1/users/:id, with the service's own statements. No auth, no validation, no domain model: it
// shows what the framework-free minimum costs on this machine, so the service is judged by a ratio.
//
// Env: DATABASE_URL, PORT, HOST, DATABASE_POOL_SIZE (10),
//      BARE_STATEMENTS = named (default: prepared statements, as the service's reader and create use) | unnamed.

const { randomUUID } = require('node:crypto');
const { Pool } = require('pg');

function loadFastify() {
  try {
    // The copy @nestjs/platform-fastify uses, whether hoisted or nested.
    return require(require.resolve('fastify', { paths: [require.resolve('@nestjs/platform-fastify')] }));
  } catch {
    return require('fastify');
  }
}

const fastify = loadFastify();
const statements = process.env.BARE_STATEMENTS || 'named';
const namedGet = statements !== 'unnamed';
const namedPost = statements !== 'unnamed';

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_SIZE || 10),
});

// The same text as src/users/persistence/pg-user.reader.ts, with the column list of user.mapper.ts.
const COLUMNS = `id, keycloak_id AS "keycloakId", email, status, full_name AS "fullName", company_name AS "companyName",
  phone, bio, avatar_url AS "avatarUrl", avatar_keys AS "avatarKeys",
  interviews_created AS "interviewsCreated",
  interviews_active AS "interviewsActive", candidates_total AS "candidatesTotal", storage_used AS "storageUsed",
  max_interviews AS "maxInterviews", max_storage AS "maxStorage", preferences, version,
  created_at AS "createdAt", updated_at AS "updatedAt", deleted_at AS "deletedAt", erased_at AS "erasedAt",
  suspension_reason AS "suspensionReason", suspended_at AS "suspendedAt", suspended_until AS "suspendedUntil",
  legal_hold_reason AS "legalHoldReason", legal_hold_at AS "legalHoldAt"`;
const SELECT_BY = (column) => `SELECT ${COLUMNS} FROM users WHERE ${column} = $1 AND deleted_at IS NULL`;

// The service's own write statements (src/users/persistence/pg-user.repository.ts and change-log.ts): the row,
// its audit entries and its outbox events in one statement.
const ROW_COLUMNS = [
  'id', 'keycloak_id', 'email', 'status', 'full_name', 'company_name', 'phone', 'bio', 'avatar_url', 'avatar_keys',
  'interviews_created', 'interviews_active', 'candidates_total', 'storage_used', 'max_interviews', 'max_storage',
  'preferences', 'version', 'created_at', 'updated_at', 'deleted_at', 'erased_at', 'suspension_reason', 'suspended_at',
  'suspended_until', 'legal_hold_reason', 'legal_hold_at',
]; // prettier-ignore
const N = ROW_COLUMNS.length;
const placeholders = (from, count) => Array.from({ length: count }, (_, i) => `$${from + i}`).join(', ');
const outboxInsert = (events) => `
  INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at)
  SELECT (e->>'eventId')::uuid, 'user', (e->>'userId')::uuid, e->>'eventType', e, (e->>'timestamp')::timestamptz
  FROM jsonb_array_elements(${events}::jsonb) AS e`;
const auditInsert = (entries) => `
  INSERT INTO audit_log (user_id, at, actor, trace_id, action, changes)
  SELECT (a->>'userId')::uuid, (a->>'at')::timestamptz, a->>'actor', a->>'traceId', a->>'action', a->'changes'
  FROM jsonb_array_elements(${entries}::jsonb) AS a`;
const CREATE_USER = `
  WITH new_user AS (INSERT INTO users (${ROW_COLUMNS.join(', ')}) VALUES (${placeholders(1, N)})),
    audit AS (${auditInsert(`$${N + 2}`)})
  ${outboxInsert(`$${N + 1}`)}`;
const SAVE_USER_WITH_EVENTS = `WITH audit AS (${auditInsert(`$${N + 1}`)}), events AS (${outboxInsert(`$${N + 2}`)})
  UPDATE users SET (${ROW_COLUMNS.slice(1).join(', ')}) = (${placeholders(2, N - 1)}) WHERE id = $1`;
const LOCK_USER = `SELECT ${COLUMNS} FROM users WHERE id = $1 FOR UPDATE`;

const DEFAULT_PREFERENCES = {
  language: 'en',
  timezone: 'UTC',
  notifications: { email: true, productNews: false, interviewReminders: true },
};

function q(name, text, values, named) {
  return named ? { name, text, values } : { text, values };
}

const app = fastify({ logger: false });

app.get('/health', async () => ({ status: 'ok' }));

for (const [path, param, column] of [
  ['/api/v1/users/:id', 'id', 'id'],
  ['/api/v1/users/by-keycloak/:keycloakId', 'keycloakId', 'keycloak_id'],
  ['/api/v1/users/by-email/:email', 'email', 'email'],
]) {
  const text = SELECT_BY(column);
  const name = `bare_user_by_${column}`;
  app.get(path, async (request, reply) => {
    const { rows } = await pool.query(q(name, text, [request.params[param]], namedGet));
    if (rows.length === 0) return reply.code(404).send({ statusCode: 404, message: 'not found' });
    return rows[0];
  });
}

/** The statement parameters of a row as LOCK_USER reads it, in ROW_COLUMNS order (as the service's rowValues). */
function rowValues(row) {
  return [
    row.id, row.keycloakId, row.email, row.status, row.fullName, row.companyName, row.phone, row.bio, row.avatarUrl,
    row.avatarKeys, row.interviewsCreated, row.interviewsActive, row.candidatesTotal, row.storageUsed, row.maxInterviews,
    row.maxStorage, JSON.stringify(row.preferences), row.version, row.createdAt, row.updatedAt, row.deletedAt, row.erasedAt,
    row.suspensionReason, row.suspendedAt, row.suspendedUntil, row.legalHoldReason, row.legalHoldAt,
  ]; // prettier-ignore
}

const PROFILE_FIELDS = ['fullName', 'companyName', 'phone', 'bio'];

// The same locked read-modify-write as the service: BEGIN, SELECT ... FOR UPDATE, the UPDATE with its audit entry
// and outbox event, COMMIT, on one pooled connection.
app.patch('/api/v1/users/:id', async (request, reply) => {
  const patch = (request.body && request.body.profile) || {};
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(q('bare_lock_user', LOCK_USER, [request.params.id], true));
    const row = rows[0];
    if (!row || row.status !== 'active') {
      await client.query('ROLLBACK');
      return reply.code(404).send({ statusCode: 404, message: 'not found' });
    }
    const changes = {};
    for (const field of PROFILE_FIELDS) {
      if (patch[field] !== undefined && patch[field] !== row[field]) changes[field] = row[field] = patch[field];
    }
    const now = new Date();
    row.version += 1;
    row.updatedAt = now;
    const at = now.toISOString();
    const audit = [{ userId: row.id, at, actor: 'service', traceId: String(request.id), action: 'profile.updated', changes }];
    const events = [{ eventId: randomUUID(), eventType: 'user.updated', timestamp: at, userId: row.id, data: { changes } }];
    const values = [...rowValues(row), JSON.stringify(audit), JSON.stringify(events)];
    await client.query(q('bare_save_user_with_events', SAVE_USER_WITH_EVENTS, values, true));
    await client.query('COMMIT');
    client.release();
    return row;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    client.release(true);
    throw error;
  }
});

app.post('/api/v1/users', async (request, reply) => {
  const body = request.body;
  const profile = body.profile || {};
  const id = randomUUID();
  const now = new Date();
  const at = now.toISOString();
  const data = { keycloakId: body.keycloakId, email: body.email, fullName: profile.fullName };
  const events = [{ eventId: randomUUID(), eventType: 'user.created', timestamp: at, userId: id, data }];
  const audit = [{ userId: id, at, actor: 'service', traceId: String(request.id), action: 'created', changes: data }];
  const row = [
    id, body.keycloakId, body.email, 'active', profile.fullName, profile.companyName ?? null, profile.phone ?? null,
    profile.bio ?? null, null, [], 0, 0, 0, '0', 10, '5368709120', JSON.stringify(DEFAULT_PREFERENCES), 1, now, now,
    null, null, null, null, null, null, null,
  ]; // prettier-ignore
  await pool.query(q('bare_create_user', CREATE_USER, [...row, JSON.stringify(events), JSON.stringify(audit)], namedPost));
  return reply.code(201).send({
    id,
    keycloakId: body.keycloakId,
    email: body.email,
    status: 'active',
    profile: { fullName: profile.fullName, companyName: null, phone: null, bio: null, avatarUrl: null },
    stats: { interviewsCreated: 0, interviewsActive: 0, candidatesTotal: 0, storageUsed: 0 },
    quota: { maxInterviews: 10, maxStorage: 5368709120 },
    preferences: DEFAULT_PREFERENCES,
    version: 1,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  });
});

async function shutdown() {
  try {
    await app.close();
    await pool.end();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

app
  .listen({ port: Number(process.env.PORT || 3099), host: process.env.HOST || '127.0.0.1' })
  .then((address) => console.log(`bare-server (fastify ${app.version}, statements=${statements}) on ${address}`))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
