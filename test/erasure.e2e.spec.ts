import { randomBytes } from 'node:crypto';
import { Client } from 'minio';
import { DeletionPurge } from '../src/users/jobs/deletion-purge';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { uploadAvatar } from './support/avatars';
import { outboxOf, pendingOf, sql } from './support/database';
import * as images from './support/images';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { FAST_KAFKA_ENV, KafkaCollector } from './support/kafka-collector';
import { clientFor, listObjects, S3Server, startS3Server } from './support/s3-server';
import { waitFor } from './support/wait';

const BUCKET = 'avatars';
const internal = { 'x-internal-token': INTERNAL_TOKEN };

/** Every row of every table of the service's schema, as text (what pg_dump --data-only would print, row by row). */
async function dumpAllTables(): Promise<string> {
  const tables = await sql<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
  );
  expect(tables.map((t) => t.name)).toEqual(
    expect.arrayContaining(['users', 'outbox', 'audit_log', 'idempotency_keys', 'processed_events', 'quota_reservations']),
  );
  const rows = await Promise.all(tables.map(({ name }) => sql<{ row: string }>(`SELECT t::text AS row FROM "${name}" AS t`)));
  return rows
    .flat()
    .map((r) => r.row)
    .join('\n');
}

async function objectContents(s3: Client, keys: string[]): Promise<string> {
  const bodies = await Promise.all(
    keys.map(async (key) => {
      const chunks: Buffer[] = [];
      for await (const chunk of await s3.getObject(BUCKET, key)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('latin1');
    }),
  );
  return keys.join('\n') + bodies.join('\n');
}

/** Erasure end to end: PostgreSQL, the S3 store (s3rver) and Kafka (the mock broker), all over TCP. */
describe('erasure', () => {
  let s3server: S3Server;
  let s3: Client;
  let broker: KafkaBroker;
  let collector: KafkaCollector;
  let api: RunningApp;
  let admin: string;

  const env = () => ({
    MINIO_ENDPOINT: s3server.endPoint,
    MINIO_PORT: String(s3server.port),
    MINIO_ACCESS_KEY: s3server.accessKey,
    MINIO_SECRET_KEY: s3server.secretKey,
    MINIO_BUCKET: BUCKET,
    MINIO_TIMEOUT_MS: '2000',
    KAFKA_BROKERS: broker.brokers.join(','),
    ...FAST_KAFKA_ENV,
    OUTBOX_BACKOFF_MAX_MS: '300',
    OUTBOX_POLL_INTERVAL_MS: '200',
  });

  beforeAll(async () => {
    s3server = await startS3Server({ buckets: [BUCKET] });
    s3 = clientFor(s3server);
    broker = await startKafkaBroker();
    collector = await KafkaCollector.start(broker.brokers);
    api = await startApp(testConfig(env()));
    admin = await tokenFor('kc-erasure-admin', { admin: true });
  });
  afterAll(async () => {
    await api?.close();
    await collector?.stop();
    await broker?.stop();
    await s3server?.dispose();
  });

  const path = (id: string, rest = '') => `/api/v1/users/${id}${rest}`;

  it('leaves no email, name, phone, bio or Keycloak id in any table or in the object store; unpublished events go out first', async () => {
    const marker = randomBytes(6).toString('hex');
    const secrets = {
      fullName: `Zelda Q${marker}`,
      phone: `+1 555 ${parseInt(marker.slice(0, 6), 16) % 10_000_000}`,
      bio: `Bio ${marker}`,
    };
    const user = await createUser(api.url, { prefix: `kc-erase-${marker}`, profile: { ...secrets, companyName: `Acme ${marker}` } });
    const { id, token } = user;
    const needles = [user.email, user.keycloakId, secrets.fullName, secrets.phone, secrets.bio, `Acme ${marker}`];

    // An avatar, preferences, an idempotency record, audit entries, and events Kafka has.
    expect((await uploadAvatar(api.url, id, await images.jpeg(400, 400, 11), { token })).status).toBe(200);
    expect(
      (await call(api.url, 'PATCH', path(id, '/preferences'), { token, body: { language: 'fr-FR', timezone: 'Europe/Paris' } })).status,
    ).toBe(200);
    const key = `erase-${marker}`;
    expect(
      (await call(api.url, 'POST', path(id, '/stats/increment-interviews'), { headers: { ...internal, 'idempotency-key': key } })).status,
    ).toBe(200);
    // A stray object under the user's prefix (an upload that failed half-way): the store is listed, not the row trusted.
    await s3.putObject(BUCKET, `users/${id}/${'0'.repeat(64)}/64.jpg`, await images.jpeg(64, 64, 12));
    await waitFor(async () => (await pendingOf([id])) === 0, 20_000, 'the first events to be published');
    // A quota reservation, whose reference another service chose (it could be anything).
    const reservation = await call(api.url, 'POST', path(id, '/quota/reservations'), {
      headers: internal,
      body: { resource: 'storage', amount: 1000, reference: `upload-${marker}` },
    });
    expect(reservation.status).toBe(201);
    needles.push(`upload-${marker}`);
    expect(await sql('SELECT count(*)::int AS n FROM idempotency_keys WHERE user_id = $1', [id])).toEqual([{ n: 1 }]);
    expect((await sql('SELECT count(*)::int AS n FROM audit_log WHERE user_id = $1', [id]))[0].n).toBeGreaterThanOrEqual(4);

    // Kafka is away: the next change and the erasure's own events stay in the outbox, unpublished.
    await broker.down();
    expect((await call(api.url, 'PATCH', path(id), { token, body: { profile: { bio: `Late bio ${marker}` } } })).status).toBe(200);
    needles.push(`Late bio ${marker}`);
    const erased = await call(api.url, 'POST', path(id, '/erase'), { token: admin });
    expect(erased.status).toBe(200);
    expect(await listObjects(s3, BUCKET, `users/${id}/`)).toEqual([]);
    // The published events are gone at once; the unpublished ones wait for Kafka.
    expect((await outboxOf(id)).map((r) => [r.event_type, r.published_at])).toEqual([
      ['user.updated', null],
      ['user.deleted', null],
      ['user.erased', null],
    ]);

    await broker.up();
    await waitFor(async () => (await pendingOf([id])) === 0, 30_000, 'the unpublished events to be published');
    const received = await collector.waitFor([id], 6);
    const topics = new Set(received.map((m) => m.topic));
    for (const topic of ['user.created', 'user.avatar_uploaded', 'user.updated', 'user.deleted', 'user.erased'])
      expect(topics).toContain(topic);
    expect(received.find((m) => m.topic === 'user.erased')!.value.data).toEqual({ userId: id });

    // The purge job's second half: events of erased users leave the outbox once published.
    const result = await api.app.get(DeletionPurge).run();
    expect(result.scrubbed).toBeGreaterThanOrEqual(2);
    expect((await outboxOf(id)).map((r) => r.event_type)).toEqual(['user.erased']);

    const dump = await dumpAllTables();
    expect(dump).toContain(id); // the row is still there: references resolve to an erased user
    for (const needle of needles) expect({ needle, found: dump.includes(needle) }).toEqual({ needle, found: false });
    const store = await objectContents(s3, await listObjects(s3, BUCKET, ''));
    for (const needle of [...needles, id]) expect({ needle, found: store.includes(needle) }).toEqual({ needle, found: false });

    const [row] = await sql('SELECT * FROM users WHERE id = $1', [id]);
    expect(row).toMatchObject({
      status: 'erased',
      keycloak_id: null,
      email: null,
      full_name: null,
      company_name: null,
      phone: null,
      bio: null,
      avatar_url: null,
      avatar_keys: [],
      erased_at: expect.any(Date),
    });
    expect(await sql('SELECT count(*)::int AS n FROM idempotency_keys WHERE user_id = $1', [id])).toEqual([{ n: 0 }]);
    expect(await sql('SELECT count(*)::int AS n FROM quota_reservations WHERE user_id = $1', [id])).toEqual([{ n: 0 }]);
    expect(await sql('SELECT action, actor FROM audit_log WHERE user_id = $1', [id])).toEqual([
      { action: 'erased', actor: 'admin:kc-erasure-admin' },
    ]);
    // A retry of the idempotent call is a new call on an erased user now.
    const retry = await call(api.url, 'POST', path(id, '/stats/increment-interviews'), {
      headers: { ...internal, 'idempotency-key': key },
    });
    expect({ status: retry.status, code: retry.body.code }).toEqual({ status: 410, code: 'USER_ERASED' });
  }, 90_000);

  describe('the purge job', () => {
    const deletedDaysAgo = (ids: string[], days: number) =>
      sql(`UPDATE users SET deleted_at = now() - make_interval(days => $2) WHERE id = ANY($1)`, [ids, days]);
    const statusOf = async (id: string) => (await sql('SELECT status FROM users WHERE id = $1', [id]))[0].status;

    it('erases users deleted longer ago than DELETION_GRACE_DAYS, not those under a legal hold or still within the window', async () => {
      const [due, held, recent] = await Promise.all([createUser(api.url), createUser(api.url), createUser(api.url)]);
      expect((await uploadAvatar(api.url, due.id, await images.jpeg(300, 300, 21), { token: due.token })).status).toBe(200);
      await call(api.url, 'PUT', path(held.id, '/legal-hold'), { token: admin, body: { reason: 'Case 7' } });
      for (const u of [due, held, recent]) expect((await call(api.url, 'DELETE', path(u.id), { token: u.token })).status).toBe(200);
      await deletedDaysAgo([due.id, held.id], 31);
      await deletedDaysAgo([recent.id], 29);

      const result = await api.app.get(DeletionPurge).run();
      expect(result).toMatchObject({ failed: 0 });
      expect(result.erased).toBeGreaterThanOrEqual(1);
      expect([await statusOf(due.id), await statusOf(held.id), await statusOf(recent.id)]).toEqual(['erased', 'deleted', 'deleted']);
      expect(await listObjects(s3, BUCKET, `users/${due.id}/`)).toEqual([]);
      expect(await sql('SELECT actor, action FROM audit_log WHERE user_id = $1', [due.id])).toEqual([
        { actor: 'system:purge', action: 'erased' },
      ]);
      expect((await call(api.url, 'GET', path(due.id), { token: admin })).status).toBe(410);
    });

    it('erases each user once when two instances purge at the same time', async () => {
      const other = await startApp(testConfig({ ...env(), LIFECYCLE_JOB_BATCH_SIZE: '2' }));
      try {
        const users = await Promise.all(Array.from({ length: 9 }, () => createUser(api.url)));
        for (const u of users) await call(api.url, 'DELETE', path(u.id), { token: u.token });
        await deletedDaysAgo(
          users.map((u) => u.id),
          40,
        );
        const [a, b] = await Promise.all([api.app.get(DeletionPurge).run(), other.app.get(DeletionPurge).run()]);
        expect(a.erased + b.erased).toBeGreaterThanOrEqual(users.length);
        for (const u of users) {
          const erasedEvents = (await outboxOf(u.id)).filter((r) => r.event_type === 'user.erased');
          expect({ id: u.id, status: await statusOf(u.id), erasedEvents: erasedEvents.length }).toEqual({
            id: u.id,
            status: 'erased',
            erasedEvents: 1,
          });
        }
      } finally {
        await other.close();
      }
    });

    it('leaves a user whose objects the store will not delete, counts the failure, and erases it on a later run', async () => {
      const u = await createUser(api.url);
      expect((await uploadAvatar(api.url, u.id, await images.jpeg(300, 300, 31), { token: u.token })).status).toBe(200);
      await call(api.url, 'DELETE', path(u.id), { token: u.token });
      await deletedDaysAgo([u.id], 31);
      const failures = async () =>
        Number(/^user_service_purge_failures_total (\d+)/m.exec(await (await fetch(`${api.url}/metrics`)).text())![1]);
      const before = await failures();

      await s3server.stop();
      try {
        const result = await api.app.get(DeletionPurge).run();
        expect(result.failed).toBeGreaterThanOrEqual(1);
        expect(await statusOf(u.id)).toBe('deleted');
        // An admin's erase fails whole, too: 503, nothing saved.
        const res = await call(api.url, 'POST', path(u.id, '/erase'), { token: admin });
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
        expect(await statusOf(u.id)).toBe('deleted');
      } finally {
        await s3server.start();
      }
      expect(await failures()).toBe(before + 1);
      await api.app.get(DeletionPurge).run();
      expect(await statusOf(u.id)).toBe('erased');
      expect(await listObjects(s3, BUCKET, `users/${u.id}/`)).toEqual([]);
    });
  });
});
