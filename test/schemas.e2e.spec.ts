import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig } from './support/app';
import { sql, TEST_DATABASE_URL } from './support/database';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { KafkaCollector } from './support/kafka-collector';
import { kafkaEnv } from './support/kafka';
import { waitFor } from './support/wait';

/** DATABASE_SCHEMA: two deployments share one database, each in its own schema, and see nothing of each other. */
describe('two deployments in two schemas of one database', () => {
  const run = `${Date.now().toString(36)}${process.pid}`;
  const schemas = [`tenant_a_${run}`, `tenant_b_${run}`];
  let broker: KafkaBroker;
  let collector: KafkaCollector;
  let apps: RunningApp[] = [];
  const notified: string[][] = [[], []];
  let listener: Client;

  beforeAll(async () => {
    broker = await startKafkaBroker();
    collector = await KafkaCollector.start(broker.brokers);
    listener = new Client({ connectionString: TEST_DATABASE_URL });
    await listener.connect();
    listener.on('notification', ({ channel }) => notified[schemas.findIndex((s) => channel === `outbox_${s}`)]?.push(channel));
    for (const schema of schemas) await listener.query(`LISTEN outbox_${schema}`);
    apps = await Promise.all(
      schemas.map((schema) =>
        startApp(
          testConfig({
            DATABASE_SCHEMA: schema,
            DATABASE_MIGRATIONS_RUN: 'true',
            ...kafkaEnv(broker, `group-${schema}`),
            // Only the trigger's NOTIFY on the schema's own channel can wake a relay in time.
            OUTBOX_POLL_INTERVAL_MS: '3600000',
          }),
        ),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await listener?.end();
    await collector?.stop();
    await broker?.stop();
    await sql(`DROP SCHEMA IF EXISTS ${schemas.join(', ')} CASCADE`);
  });

  it('creates each schema with its own tables, migrations table and outbox trigger', async () => {
    const tables = await sql<{ schema: string; tables: string[] }>(
      `SELECT table_schema AS schema, array_agg(table_name::text ORDER BY table_name) AS tables
         FROM information_schema.tables WHERE table_schema = ANY($1) GROUP BY table_schema ORDER BY table_schema`,
      [schemas],
    );
    const all = [
      'audit_log',
      'idempotency_keys',
      'migrations',
      'outbox',
      'processed_events',
      'quota_reservations',
      'signing_keys',
      'typeorm_metadata',
      'users',
    ];
    expect(tables).toEqual(schemas.map((schema) => ({ schema, tables: all })));
    const triggers = await sql<{ schema: string }>(
      `SELECT n.nspname AS schema FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE t.tgname = 'outbox_notify' AND n.nspname = ANY($1) ORDER BY 1`,
      [schemas],
    );
    expect(triggers.map((t) => t.schema)).toEqual(schemas);
  });

  it('keeps users, outbox rows, their NOTIFY and their Kafka events apart', async () => {
    const [a, b] = apps;
    const inA = await createUser(a.url, { prefix: 'schema-a' });
    // The same identity again, in the other deployment: its unique indexes know nothing of the first.
    const sameInB = await call(b.url, 'POST', '/api/v1/users', {
      token: inA.token,
      body: { keycloakId: inA.keycloakId, email: inA.email, profile: { fullName: 'Same Person' } },
    });
    expect(sameInB.status).toBe(201);
    expect(sameInB.body.id).not.toBe(inA.id);

    expect((await call(b.url, 'GET', `/api/v1/users/${inA.id}`, { token: inA.token })).status).toBe(404);
    expect((await call(a.url, 'GET', `/api/v1/users/${sameInB.body.id}`, { token: inA.token })).status).toBe(404);
    for (const [i, id] of [inA.id, sameInB.body.id].entries()) {
      const [own] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${schemas[i]}.outbox WHERE aggregate_id = $1`, [id]);
      const [other] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${schemas[1 - i]}.outbox WHERE aggregate_id = $1`, [id]);
      expect([own.n, other.n]).toEqual([1, 0]);
    }
    const [inPublic] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM public.users WHERE keycloak_id = $1', [inA.keycloakId]);
    expect(inPublic.n).toBe(0);

    // One commit in each schema: one notification on each schema's channel.
    await waitFor(() => notified.every((n) => n.length >= 1), 5000, 'a notification per schema');
    expect(notified.map((n) => n.length)).toEqual([1, 1]);
    // Each relay publishes its own user's event, exactly once: neither drains the other's outbox.
    const events = await collector.waitFor([inA.id, sameInB.body.id], 2);
    expect(events.map((e) => [e.key, e.topic]).sort()).toEqual(
      [
        [inA.id, 'user.created'],
        [sameInB.body.id, 'user.created'],
      ].sort(),
    );
  });

  it('keeps idempotency keys apart', async () => {
    const [a, b] = apps;
    const users = [await createUser(a.url, { prefix: 'schema-a' }), await createUser(b.url, { prefix: 'schema-b' })];
    const key = `key-${randomUUID()}`;
    for (const [i, app] of apps.entries()) {
      const res = await call(app.url, 'POST', `/api/v1/users/${users[i].id}/stats/increment-interviews`, {
        headers: { 'x-internal-token': INTERNAL_TOKEN, 'idempotency-key': key },
      });
      // One shared idempotency_keys table would answer 422 IDEMPOTENCY_KEY_REUSED to the second.
      expect(res.status).toBe(200);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
    }

    for (const [i, app] of apps.entries()) {
      const stats = await call(app.url, 'GET', `/api/v1/users/${users[i].id}/stats`, { token: users[i].token });
      expect(stats.body.interviewsCreated).toBe(1);
    }
  });
});
