import { randomUUID } from 'node:crypto';
import { Kafka, Producer } from 'kafkajs';
import { AppConfig } from '../src/config/config';
import { CONSUMED_TOPICS } from '../src/users/usage-events/consumed-event';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { sql } from './support/database';
import { kafkaEnv, sendEvents, testKafka, testProducer, waitForCommitted } from './support/kafka';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { waitFor } from './support/wait';

/** Quota reservations over HTTP, settled by events consumed from a real (mock) Kafka broker, on the real database. */
const GROUP = 'quota-reservations-e2e';

describe('quota reservations', () => {
  let broker: KafkaBroker;
  let kafka: Kafka;
  let producer: Producer;
  let config: AppConfig;
  let api: RunningApp;

  beforeAll(async () => {
    broker = await startKafkaBroker();
    kafka = testKafka(broker);
    producer = await testProducer(kafka);
    for (const topic of CONSUMED_TOPICS) await broker.createTopic(topic, 4);
    config = testConfig({ ...kafkaEnv(broker, GROUP), RATE_LIMIT_PER_MINUTE: '0' });
    api = await startApp(config);
  });
  afterAll(async () => {
    await producer?.disconnect();
    await api?.close();
    await broker?.stop();
  });

  const internal = { 'x-internal-token': INTERNAL_TOKEN };
  const reservations = (id: string) => `/api/v1/users/${id}/quota/reservations`;
  const reserve = (id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    call(api.url, 'POST', reservations(id), { headers: { ...internal, ...headers }, body });
  const release = (id: string, reservationId: string) =>
    call(api.url, 'DELETE', `${reservations(id)}/${reservationId}`, { headers: internal });
  const quota = async (id: string) => (await call(api.url, 'GET', `/api/v1/users/${id}/quota`, { headers: internal })).body;
  const event = (eventType: string, userId: string, data: Record<string, unknown>) => ({
    eventId: randomUUID(),
    eventType,
    timestamp: new Date().toISOString(),
    userId,
    data,
  });
  const drain = () => waitForCommitted(kafka, GROUP, CONSUMED_TOPICS);
  /** A user with `active` of its 10 interview slots in use. */
  const userWithActive = async (active: number) => {
    const { id } = await createUser(api.url);
    for (let i = 0; i < active; i++) {
      expect((await call(api.url, 'POST', `/api/v1/users/${id}/stats/increment-interviews`, { headers: internal })).status).toBe(200);
    }
    return id;
  };

  it('is for the internal token only: a person, even an admin or the user themself, gets 403', async () => {
    const user = await createUser(api.url);
    const admin = await tokenFor('admin', { admin: true });
    const body = { resource: 'interviews', amount: 1, reference: 'iv-auth' };
    for (const token of [user.token, admin]) {
      const res = await call(api.url, 'POST', reservations(user.id), { token, body });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('ACCESS_DENIED');
      expect((await call(api.url, 'DELETE', `${reservations(user.id)}/${randomUUID()}`, { token })).status).toBe(403);
    }
    expect((await call(api.url, 'POST', reservations(user.id), { body })).status).toBe(401);
  });

  it('refuses malformed requests with 400 VALIDATION_FAILED naming the field, and unknown users with 404', async () => {
    const { id } = await createUser(api.url);
    const field = async (body: Record<string, unknown>) => {
      const res = await reserve(id, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      return res.body.details.map((d: { field: string }) => d.field);
    };
    const ok = { resource: 'interviews', amount: 1, reference: 'iv-1' };
    expect(await field({ ...ok, resource: 'candidates' })).toEqual(['resource']);
    expect(await field({ ...ok, amount: 0 })).toEqual(['amount']);
    expect(await field({ ...ok, amount: 1.5 })).toEqual(['amount']);
    expect(await field({ ...ok, amount: 2 ** 31 })).toEqual(['amount']);
    expect(await field({ ...ok, reference: '' })).toEqual(['reference']);
    expect(await field({ ...ok, reference: 'x'.repeat(256) })).toEqual(['reference']);
    expect(await field({ ...ok, ttlSeconds: 0 })).toEqual(['ttlSeconds']);
    expect(await field({ ...ok, ttlSeconds: 86_401 })).toEqual(['ttlSeconds']);
    expect(await field({ ...ok, extra: true })).toEqual(['extra']);
    expect((await reserve(id, ok, { 'idempotency-key': 'has space' })).status).toBe(400);
    expect((await reserve('not-a-uuid', ok)).status).toBe(400);
    expect((await call(api.url, 'DELETE', `${reservations(id)}/not-a-uuid`, { headers: internal })).status).toBe(400);
    const missing = await reserve(randomUUID(), ok);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('USER_NOT_FOUND');
    expect(await sql('SELECT count(*)::int AS n FROM quota_reservations WHERE user_id = $1', [id])).toEqual([{ n: 0 }]);
  });

  it('lets exactly 3 of 50 concurrent reservations take the last 3 interview slots', async () => {
    const id = await userWithActive(7);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => reserve(id, { resource: 'interviews', amount: 1, reference: `iv-race-${i}` })),
    );
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status !== 201);
    expect(won).toHaveLength(3);
    expect(new Set(lost.map((r) => `${r.status} ${r.body.code}`))).toEqual(new Set(['409 QUOTA_EXCEEDED']));
    expect(lost[0].body.quota).toEqual({ resource: 'interviews', requested: 1, used: 7, reserved: 3, limit: 10, remaining: 0 });
    expect(lost[0].body.message).toContain('0 of 10 remain');
    expect(won.map((r) => r.body.remaining).sort()).toEqual([0, 1, 2]);
    for (const { body } of won) {
      expect(body).toEqual({
        reservationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        resource: 'interviews',
        amount: 1,
        reference: expect.stringMatching(/^iv-race-/),
        expiresAt: expect.any(String),
        remaining: expect.any(Number),
      });
      const ttl = Date.parse(body.expiresAt) - Date.now();
      expect(ttl).toBeGreaterThan(880_000);
      expect(ttl).toBeLessThanOrEqual(901_000);
    }
    expect((await quota(id)).interviews).toEqual({ used: 7, limit: 10, reserved: 3, remaining: 0 });
  });

  it('shows reservations in GET /quota, never answering 304 or letting it be stored while one is live', async () => {
    const id = await userWithActive(0);
    const before = await call(api.url, 'GET', `/api/v1/users/${id}/quota`, { headers: internal });
    const etag = before.headers.get('etag')!;
    expect(before.body.storage).toMatchObject({ used: 0, reserved: 0, remaining: 5 * 1024 ** 3 });
    const held = await reserve(id, { resource: 'storage', amount: 1024, reference: 'file-view' });
    expect(held.status).toBe(201);
    expect(held.body.remaining).toBe(5 * 1024 ** 3 - 1024);
    const during = await call(api.url, 'GET', `/api/v1/users/${id}/quota`, { headers: { ...internal, 'if-none-match': etag } });
    expect(during.status).toBe(200);
    expect(during.headers.get('cache-control')).toBe('no-store');
    expect(during.headers.get('etag')).toBe(etag);
    expect(during.body.storage).toMatchObject({ used: 0, reserved: 1024, remaining: 5 * 1024 ** 3 - 1024 });
    expect((await release(id, held.body.reservationId)).status).toBe(204);
    const after = await call(api.url, 'GET', `/api/v1/users/${id}/quota`, { headers: { ...internal, 'if-none-match': etag } });
    expect(after.status).toBe(304);
  });

  it('settles a reservation when the consumed event carrying its reference arrives: counted once, as used', async () => {
    const id = await userWithActive(7);
    const interview = await reserve(id, { resource: 'interviews', amount: 1, reference: 'iv-settle' });
    const file = await reserve(id, { resource: 'storage', amount: 5000, reference: 'file-settle' });
    expect([interview.status, file.status]).toEqual([201, 201]);
    const created = event('interview.created', id, { interviewId: 'iv-settle' });
    const uploaded = event('media.uploaded', id, { fileId: 'file-settle', fileSize: 4000 });
    // Each delivered twice: the second copy is a duplicate and settles nothing again.
    await sendEvents(producer, [created, created, uploaded, uploaded]);
    await drain();
    const after = await quota(id);
    expect(after.interviews).toEqual({ used: 8, limit: 10, reserved: 0, remaining: 2 });
    // The event's size counts, not the reserved one.
    expect(after.storage).toMatchObject({ used: 4000, reserved: 0 });
    expect(await sql('SELECT count(*)::int AS n FROM quota_reservations WHERE user_id = $1', [id])).toEqual([{ n: 0 }]);
    // Settled: there is nothing left to release.
    expect((await release(id, interview.body.reservationId)).body.code).toBe('RESERVATION_NOT_FOUND');
    // Events that name no reservation change nothing of the others.
    const other = await reserve(id, { resource: 'interviews', amount: 1, reference: 'iv-other' });
    await sendEvents(producer, [
      event('interview.created', id, { interviewId: 'iv-unreserved' }),
      event('interview.completed', id, { interviewId: 'iv-other' }),
      event('media.deleted', id, { fileId: 'file-settle', fileSize: 4000 }),
    ]);
    await drain();
    expect((await quota(id)).interviews).toEqual({ used: 8, limit: 10, reserved: 1, remaining: 1 });
    expect((await release(id, other.body.reservationId)).status).toBe(204);
  });

  it('releases: 204 and the amount is free again; a second release, an unknown id or another user is 404', async () => {
    const id = await userWithActive(9);
    const held = await reserve(id, { resource: 'interviews', amount: 1, reference: 'iv-release' });
    expect(held.body.remaining).toBe(0);
    expect((await reserve(id, { resource: 'interviews', amount: 1, reference: 'iv-release-2' })).status).toBe(409);
    const other = await userWithActive(0);
    const foreign = await release(other, held.body.reservationId);
    expect([foreign.status, foreign.body.code]).toEqual([404, 'RESERVATION_NOT_FOUND']);
    const res = await release(id, held.body.reservationId);
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect((await quota(id)).interviews).toEqual({ used: 9, limit: 10, reserved: 0, remaining: 1 });
    expect((await release(id, held.body.reservationId)).status).toBe(404);
    expect((await release(id, randomUUID())).body.code).toBe('RESERVATION_NOT_FOUND');
    expect((await release(randomUUID(), randomUUID())).body.code).toBe('USER_NOT_FOUND');
    expect((await reserve(id, { resource: 'interviews', amount: 1, reference: 'iv-release-2' })).status).toBe(201);
  });

  it('lets a reservation expire: it stops counting after ttlSeconds, and its reference may be used again', async () => {
    const id = await userWithActive(9);
    const held = await reserve(id, { resource: 'interviews', amount: 1, reference: 'iv-expiry', ttlSeconds: 1 });
    expect(held.status).toBe(201);
    expect((await reserve(id, { resource: 'interviews', amount: 1, reference: 'iv-blocked' })).status).toBe(409);
    await waitFor(async () => (await quota(id)).interviews.reserved === 0, 5000, 'the reservation to expire');
    expect((await quota(id)).interviews).toEqual({ used: 9, limit: 10, reserved: 0, remaining: 1 });
    expect((await release(id, held.body.reservationId)).status).toBe(404);
    const again = await reserve(id, { resource: 'interviews', amount: 1, reference: 'iv-expiry' });
    expect(again.status).toBe(201);
    expect(again.body.reservationId).not.toBe(held.body.reservationId);
    // The lazy purge took the expired row when the reference was reserved again.
    expect(await sql('SELECT count(*)::int AS n FROM quota_reservations WHERE user_id = $1', [id])).toEqual([{ n: 1 }]);
  });

  it('refuses a second live reservation for the same reference with 409 RESERVATION_EXISTS naming the first', async () => {
    const id = await userWithActive(0);
    const first = await reserve(id, { resource: 'storage', amount: 10, reference: 'file-dup' });
    const second = await reserve(id, { resource: 'storage', amount: 10, reference: 'file-dup' });
    expect([second.status, second.body.code, second.body.reservationId]).toEqual([409, 'RESERVATION_EXISTS', first.body.reservationId]);
    // The same reference for the other resource is another reservation.
    expect((await reserve(id, { resource: 'interviews', amount: 1, reference: 'file-dup' })).status).toBe(201);
  });

  it('applies a retried Idempotency-Key once, also concurrently, and refuses the key for another user', async () => {
    const id = await userWithActive(8);
    const key = `reserve-${randomUUID()}`;
    const body = { resource: 'interviews', amount: 1, reference: 'iv-idem' };
    const results = await Promise.all(Array.from({ length: 5 }, () => reserve(id, body, { 'idempotency-key': key })));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(results.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
    expect((await quota(id)).interviews).toMatchObject({ reserved: 1, remaining: 1 });
    // Later, even after another reservation took the last slot, the retry still answers the first receipt.
    expect((await reserve(id, { ...body, reference: 'iv-idem-2' })).status).toBe(201);
    const late = await reserve(id, body, { 'idempotency-key': key });
    expect([late.status, late.body]).toEqual([201, results[0].body]);
    const other = await userWithActive(0);
    const reused = await reserve(other, body, { 'idempotency-key': key });
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    // A refusal is not stored: the key retried once there is room reserves.
    const full = `reserve-${randomUUID()}`;
    expect((await reserve(id, { ...body, reference: 'iv-idem-3' }, { 'idempotency-key': full })).status).toBe(409);
    const [first] = await sql<{ id: string }>('SELECT id FROM quota_reservations WHERE user_id = $1 AND reference = $2', [id, 'iv-idem-2']);
    expect((await release(id, first.id)).status).toBe(204);
    expect((await reserve(id, { ...body, reference: 'iv-idem-3' }, { 'idempotency-key': full })).status).toBe(201);
  });

  it('loses nothing and counts nothing twice across a restart', async () => {
    const id = await userWithActive(7);
    const held = await reserve(id, { resource: 'interviews', amount: 2, reference: 'iv-restart' });
    const key = `restart-${randomUUID()}`;
    const kept = await reserve(id, { resource: 'storage', amount: 100, reference: 'file-restart' }, { 'idempotency-key': key });
    expect([held.status, kept.status]).toEqual([201, 201]);
    await api.close();
    // While the service is down the interview is created: the event waits in Kafka.
    await sendEvents(producer, [event('interview.created', id, { interviewId: 'iv-restart' })]);
    api = await startApp(config);
    const retried = await reserve(id, { resource: 'storage', amount: 100, reference: 'file-restart' }, { 'idempotency-key': key });
    expect(retried.body).toEqual(kept.body);
    await drain();
    const after = await quota(id);
    // 7 + the created interview used; its reservation (2) settled entirely; the storage one still held.
    expect(after.interviews).toEqual({ used: 8, limit: 10, reserved: 0, remaining: 2 });
    expect(after.storage).toMatchObject({ used: 0, reserved: 100 });
  });

  it('is removed when the user is erased', async () => {
    const id = await userWithActive(0);
    expect((await reserve(id, { resource: 'storage', amount: 100, reference: 'file-erase' })).status).toBe(201);
    const admin = await tokenFor('admin', { admin: true });
    expect((await call(api.url, 'POST', `/api/v1/users/${id}/erase`, { token: admin })).status).toBe(200);
    expect(await sql('SELECT count(*)::int AS n FROM quota_reservations WHERE user_id = $1', [id])).toEqual([{ n: 0 }]);
    const res = await reserve(id, { resource: 'storage', amount: 100, reference: 'file-erase' });
    expect([res.status, res.body.code]).toEqual([410, 'USER_ERASED']);
  });
});
