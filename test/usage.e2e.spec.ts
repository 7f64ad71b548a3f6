import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, tokenFor } from './support/app';
import { sql } from './support/database';
import { IdempotencyKeyExpiry } from '../src/users/persistence/idempotency-key-expiry';

describe('stats and quota API', () => {
  let api: RunningApp;
  beforeAll(async () => {
    api = await startApp();
  });
  afterAll(() => api.close());

  const internal = { 'x-internal-token': INTERNAL_TOKEN };

  const increment = (id: string, key?: string) =>
    call(api.url, 'POST', `/api/v1/users/${id}/stats/increment-interviews`, {
      headers: { ...internal, ...(key === undefined ? {} : { 'idempotency-key': key }) },
    });
  const thresholdEvents = async (id: string) =>
    (
      await sql<{ payload: any }>(
        `SELECT payload FROM outbox WHERE aggregate_id = $1 AND event_type = 'user.quota_threshold_reached' ORDER BY id`,
        [id],
      )
    ).map((row) => row.payload.data);

  it('says in /health that nothing is consumed without KAFKA_BROKERS', async () => {
    const res = await call(api.url, 'GET', '/health');
    expect(res.body.kafka).toMatchObject({ status: 'disabled', consumer: 'disabled' });
  });

  it('shows the stats with a formatted size to the owner, admins and services, not to others', async () => {
    const { id, token } = await createUser(api.url);
    await sql('UPDATE users SET storage_used = $2, interviews_created = 3, interviews_active = 2, candidates_total = 7 WHERE id = $1', [
      id,
      String(1.5 * 1024 ** 3),
    ]);
    const own = await call(api.url, 'GET', `/api/v1/users/${id}/stats`, { token });
    expect(own.status).toBe(200);
    expect(own.body).toEqual({
      interviewsCreated: 3,
      interviewsActive: 2,
      candidatesTotal: 7,
      storageUsed: 1610612736,
      storageUsedFormatted: '1.5 GB',
    });
    expect(own.headers.get('etag')).toBe('"1"');
    expect((await call(api.url, 'GET', `/api/v1/users/${id}/stats`, { headers: internal })).status).toBe(200);
    expect((await call(api.url, 'GET', `/api/v1/users/${id}/stats`, { token: await tokenFor('boss', { admin: true }) })).status).toBe(200);
    const other = await call(api.url, 'GET', `/api/v1/users/${id}/stats`, { token: await tokenFor('someone-else') });
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('ACCESS_DENIED');
    const missing = await call(api.url, 'GET', `/api/v1/users/00000000-0000-4000-8000-000000000000/stats`, { headers: internal });
    expect(missing.body.code).toBe('USER_NOT_FOUND');
    expect((await call(api.url, 'GET', `/api/v1/users/nope/stats`, { headers: internal })).body.code).toBe('VALIDATION_FAILED');
  });

  it('answers 304 without a body when If-None-Match names the current version (strong, weak, in a list, or *)', async () => {
    const { id, token } = await createUser(api.url);
    const paths = [`/api/v1/users/${id}/stats`, `/api/v1/users/${id}/quota`];
    const get = (path: string, tag: string) => call(api.url, 'GET', path, { token, headers: { 'if-none-match': tag } });
    for (const path of paths) {
      for (const tag of ['"1"', 'W/"1"', '"7", "1"', '*']) {
        const res = await get(path, tag);
        expect({ path, tag, status: res.status, body: res.body, etag: res.headers.get('etag') }).toEqual({
          path,
          tag,
          status: 304,
          body: undefined,
          etag: '"1"',
        });
      }
      expect((await get(path, '"2"')).status).toBe(200);
    }
    await increment(id);
    for (const path of paths) {
      const res = await get(path, '"1"');
      expect({ path, status: res.status, etag: res.headers.get('etag') }).toEqual({ path, status: 200, etag: '"2"' });
      expect(res.body).toEqual((await call(api.url, 'GET', path, { token })).body);
    }
  });

  it('lets only internal services increment: user and admin tokens get 403', async () => {
    const { id, token } = await createUser(api.url);
    const mine = await call(api.url, 'POST', `/api/v1/users/${id}/stats/increment-interviews`, { token });
    expect(mine.status).toBe(403);
    expect(mine.body.code).toBe('ACCESS_DENIED');
    const admin = await call(api.url, 'POST', `/api/v1/users/${id}/stats/increment-interviews`, {
      token: await tokenFor('boss', { admin: true }),
    });
    expect(admin.status).toBe(403);
    const res = await increment(id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      interviewsCreated: 1,
      interviewsActive: 1,
      candidatesTotal: 0,
      storageUsed: 0,
      storageUsedFormatted: '0 B',
    });
    expect((await increment(id)).body.interviewsCreated).toBe(2);
    const [row] = await sql('SELECT version FROM users WHERE id = $1', [id]);
    expect(row.version).toBe(3);
  });

  it('applies a request with an Idempotency-Key once, also when duplicates arrive together', async () => {
    const { id } = await createUser(api.url);
    const first = await increment(id, 'key-' + id);
    expect(first.status).toBe(200);
    await increment(id); // a change in between: the replay still answers what the first call answered
    const replay = await increment(id, 'key-' + id);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    const concurrent = await Promise.all(Array.from({ length: 8 }, () => increment(id, 'burst-' + id)));
    expect(concurrent.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(concurrent.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(concurrent.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    const [row] = await sql('SELECT interviews_created FROM users WHERE id = $1', [id]);
    expect(row.interviews_created).toBe(3);
  });

  it('forgets a key after IDEMPOTENCY_KEY_TTL_HOURS (24): the same key is then a new call', async () => {
    const { id } = await createUser(api.url);
    expect((await increment(id, 'old-' + id)).body.interviewsCreated).toBe(1);
    expect((await increment(id, 'new-' + id)).body.interviewsCreated).toBe(2);
    await sql(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`, ['old-' + id]);
    await sql(`UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = $1`, ['new-' + id]);

    expect(await api.app.get(IdempotencyKeyExpiry).deleteExpired(1)).toBeGreaterThanOrEqual(1);
    const left = await sql<{ key: string }>('SELECT key FROM idempotency_keys WHERE key = ANY($1)', [['old-' + id, 'new-' + id]]);
    expect(left.map((row) => row.key)).toEqual(['new-' + id]);
    const again = await increment(id, 'old-' + id);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.interviewsCreated).toBe(3);
    expect((await increment(id, 'new-' + id)).headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses a key reused for another user (also concurrently) and a malformed key', async () => {
    const a = await createUser(api.url);
    const b = await createUser(api.url);
    expect((await increment(a.id, 'shared-' + a.id)).status).toBe(200);
    const reused = await increment(b.id, 'shared-' + a.id);
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ statusCode: 422, code: 'IDEMPOTENCY_KEY_REUSED' });

    const race = await Promise.all([increment(a.id, 'race-' + a.id), increment(b.id, 'race-' + a.id)]);
    expect(race.map((r) => r.status).sort()).toEqual([200, 422]);
    const counts = await sql('SELECT interviews_created AS n FROM users WHERE id = ANY($1) ORDER BY n', [[a.id, b.id]]);
    expect(counts.map((r) => r.n)).toEqual(race[0].status === 200 ? [0, 2] : [1, 1]);

    const bad = await increment(a.id, 'has space');
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);
  });

  it('reports the quota, interviews counted as active ones', async () => {
    const { id, token } = await createUser(api.url);
    await sql('UPDATE users SET interviews_created = 12, interviews_active = 4, storage_used = 1073741824 WHERE id = $1', [id]);
    const res = await call(api.url, 'GET', `/api/v1/users/${id}/quota`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      interviews: { used: 4, limit: 10, reserved: 0, remaining: 6 },
      storage: { used: 1073741824, limit: 5368709120, reserved: 0, remaining: 4294967296, usedFormatted: '1 GB', limitFormatted: '5 GB' },
      exceeded: false,
    });
    expect((await call(api.url, 'GET', `/api/v1/users/${id}/quota`, { token: await tokenFor('stranger') })).status).toBe(403);
  });

  it('sets the quota (internal only, If-Match) and records the threshold events it crosses', async () => {
    const { id, token } = await createUser(api.url);
    await sql('UPDATE users SET interviews_active = 4 WHERE id = $1', [id]);
    const put = (body: unknown, headers: Record<string, string> = {}) =>
      call(api.url, 'PUT', `/api/v1/users/${id}/quota`, { headers: { ...internal, ...headers }, body });

    expect((await call(api.url, 'PUT', `/api/v1/users/${id}/quota`, { token, body: { maxInterviews: 1, maxStorage: 1 } })).status).toBe(
      403,
    );
    const res = await put({ maxInterviews: 5, maxStorage: 1000 }, { 'if-match': '"1"' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(res.body).toEqual({
      interviews: { used: 4, limit: 5, reserved: 0, remaining: 1 },
      storage: { used: 0, limit: 1000, reserved: 0, remaining: 1000, usedFormatted: '0 B', limitFormatted: '1000 B' },
      exceeded: false,
    });
    expect(await thresholdEvents(id)).toEqual([{ resource: 'interviews', threshold: 80, used: 4, limit: 5 }]);

    const stale = await put({ maxInterviews: 4, maxStorage: 1000 }, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('VERSION_MISMATCH');
    const full = await put({ maxInterviews: 4, maxStorage: 1000 }, { 'if-match': '"2"' });
    expect(full.body.exceeded).toBe(true);
    expect((await thresholdEvents(id)).map((d) => d.threshold)).toEqual([80, 100]);
  });

  it('answers 400 for bad quota bodies', async () => {
    const { id } = await createUser(api.url);
    const put = (body: unknown) => call(api.url, 'PUT', `/api/v1/users/${id}/quota`, { headers: internal, body });
    const fields = async (body: unknown) => {
      const res = await put(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      return res.body.details.map((d: { field: string }) => d.field);
    };
    expect(await fields({})).toEqual(['maxInterviews', 'maxStorage']);
    expect(await fields({ maxInterviews: 1.5, maxStorage: '10' })).toEqual(['maxInterviews', 'maxStorage']);
    expect(await fields({ maxInterviews: -1, maxStorage: 2 ** 60 })).toEqual(['maxInterviews', 'maxStorage']);
    expect(await fields({ maxInterviews: 1, maxStorage: 1, plan: 'pro' })).toEqual(['plan']);
    expect(await fields([1, 2])).toEqual(['body']);
    const [row] = await sql('SELECT version, max_interviews FROM users WHERE id = $1', [id]);
    expect(row).toEqual({ version: 1, max_interviews: 10 });
  });
});
