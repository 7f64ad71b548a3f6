'use strict';
// Baselines for bench/directory/run.js: bare Fastify + pg doing the directory's work the way that breaks at scale.
//   GET /offset?depth=N   the page N rows deep, paged with OFFSET (the service follows a keyset cursor)
//   GET /ilike?q=...      ILIKE '%q%' on name, email and company: no index can answer it (the service: trigram index)
// Same columns, ordering (newest first) and page size (20) as the service. No auth, no validation, no cursor signing.
// Env: DATABASE_URL, PORT, HOST, DATABASE_POOL_SIZE (10).

const path = require('node:path');
const { Pool } = require('pg');
const { USER_COLUMNS } = require(path.resolve(__dirname, '../../dist/src/users/persistence/user.mapper.js'));

const LIVE = `status = 'active' AND deleted_at IS NULL`;
const NEWEST_FIRST = 'ORDER BY created_at DESC, id DESC LIMIT 20';
const BASELINES = {
  offset: `SELECT ${USER_COLUMNS} FROM users WHERE ${LIVE} ${NEWEST_FIRST} OFFSET $1`,
  ilike: `SELECT ${USER_COLUMNS} FROM users WHERE ${LIVE} AND (full_name ILIKE $1 OR email ILIKE $1 OR company_name ILIKE $1) ${NEWEST_FIRST}`,
};
const ilikePattern = (q) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

if (require.main === module) {
  const fastify = require(require.resolve('fastify', { paths: [require.resolve('@nestjs/platform-fastify')] }));
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE || 10) });
  const app = fastify({ logger: false });
  app.get('/offset', async (request) => (await pool.query(BASELINES.offset, [Number(request.query.depth)])).rows);
  app.get('/ilike', async (request) => (await pool.query(BASELINES.ilike, [ilikePattern(String(request.query.q))])).rows);
  app.get('/health', async () => ({ status: 'ok' }));
  app.listen({ port: Number(process.env.PORT || 3100), host: process.env.HOST || '127.0.0.1' }).catch((error) => {
    console.error(error);
    process.exit(1);
  });
  process.on('SIGTERM', () => app.close().then(() => pool.end()));
}

module.exports = { BASELINES, ilikePattern };
