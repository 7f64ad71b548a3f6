'use strict';
// Baseline for bench/http/run.js: bare Fastify + pg Pool doing the same database work as the service
// for GET /api/v1/users/:id and POST /api/v1/users. No auth, no validation, no domain model: it shows
// what the framework-free minimum costs on this machine, so the service is judged by a ratio.
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
const SELECT_BY_ID = `SELECT ${COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL`;

// The service's own statement: the user and its outbox row in one atomic, named statement.
const CREATE_USER = `
  WITH new_user AS (
    INSERT INTO users (id, keycloak_id, email, status, full_name, company_name, phone, bio, avatar_url,
      interviews_created, interviews_active, candidates_total, storage_used, max_interviews, max_storage,
      preferences, version, created_at, updated_at)
    VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, NULL, 0, 0, 0, 0, 10, 5368709120, $8, 1, $9, $9)
  )
  INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at)
  VALUES ($10, 'user', $1, 'user.created', $11, $9)`;

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

app.get('/api/v1/users/:id', async (request, reply) => {
  const { rows } = await pool.query(q('bare_user_by_id', SELECT_BY_ID, [request.params.id], namedGet));
  if (rows.length === 0) return reply.code(404).send({ statusCode: 404, message: 'not found' });
  return rows[0];
});

app.post('/api/v1/users', async (request, reply) => {
  const body = request.body;
  const profile = body.profile || {};
  const id = randomUUID();
  const now = new Date();
  const event = {
    eventId: randomUUID(),
    eventType: 'user.created',
    timestamp: now.toISOString(),
    userId: id,
    data: { keycloakId: body.keycloakId, email: body.email, fullName: profile.fullName },
  };
  await pool.query(
    q(
      'bare_create_user',
      CREATE_USER,
      [
        id,
        body.keycloakId,
        body.email,
        profile.fullName,
        profile.companyName ?? null,
        profile.phone ?? null,
        profile.bio ?? null,
        DEFAULT_PREFERENCES,
        now,
        event.eventId,
        event,
      ],
      namedPost,
    ),
  );
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
