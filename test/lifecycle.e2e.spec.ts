import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeletionPurge } from '../src/users/jobs/deletion-purge';
import { SuspensionExpiry } from '../src/users/jobs/suspension-expiry';
import { UserRepository } from '../src/users/persistence/user.repository';
import { call, createUser, CreatedUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig, tokenFor, uniqueIdentity } from './support/app';
import { uploadAvatar } from './support/avatars';
import { outboxOf, sql } from './support/database';
import * as images from './support/images';
import { waitFor } from './support/wait';

const internal = { 'x-internal-token': INTERNAL_TOKEN };
const DAY_MS = 86_400_000;

/** Suspension, restore, legal holds and erasure over HTTP, with the jobs run by hand (or by their timer where said). */
describe('account lifecycle', () => {
  let dataDir: string;
  let api: RunningApp;
  let admin: string;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'user-service-lifecycle-'));
    api = await startApp(testConfig({ DATA_DIR: dataDir }));
    admin = await tokenFor('kc-lifecycle-admin', { admin: true });
  });
  afterAll(async () => {
    await Promise.allSettled([api, ...apps].map((a) => a?.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const newUser = () => createUser(api.url, { profile: { fullName: 'Life Cycle' } });
  const path = (id: string, rest = '') => `/api/v1/users/${id}${rest}`;
  const suspend = (
    id: string,
    body: Record<string, unknown>,
    auth: { token?: string; headers?: Record<string, string> } = { token: admin },
  ) => call(api.url, 'POST', path(id, '/suspend'), { ...auth, body });
  const inFuture = (ms: number) => new Date(Date.now() + ms).toISOString();
  const events = async (id: string) => (await outboxOf(id)).map((row) => row.event_type);

  function expectError(res: { status: number; body: any }, status: number, code: string) {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(res.body).toMatchObject({
      statusCode: status,
      timestamp: expect.any(String),
      path: expect.any(String),
      traceId: expect.any(String),
    });
  }

  describe('suspend and reactivate', () => {
    it('suspends with an until and without, shows the suspension on the record and publishes user.suspended', async () => {
      const a = await newUser();
      const until = inFuture(DAY_MS);
      const res = await suspend(a.id, { reason: 'Repeated spam to candidates', until });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe('"2"');
      expect(res.body).toMatchObject({
        id: a.id,
        status: 'suspended',
        suspension: { reason: 'Repeated spam to candidates', since: expect.any(String), until },
        version: 2,
      });
      const own = await call(api.url, 'GET', path(a.id), { token: a.token });
      expect(own.body).toMatchObject({ status: 'suspended', suspension: { until } });

      const b = await newUser();
      const open = await suspend(b.id, { reason: 'Fraud check' }, { headers: internal });
      expect(open.status).toBe(200);
      expect(open.body.suspension).toMatchObject({ reason: 'Fraud check', until: null });

      const [suspendedA] = (await outboxOf(a.id)).filter((row) => row.event_type === 'user.suspended');
      expect(suspendedA.payload.data).toEqual({ reason: 'Repeated spam to candidates', until });
      expect((await outboxOf(b.id)).at(-1)!.payload.data).toEqual({ reason: 'Fraud check', until: null });
    });

    it('refuses an until in the past, a malformed until, a missing reason, and suspending twice', async () => {
      const a = await newUser();
      const past = await suspend(a.id, { reason: 'Spam', until: new Date(Date.now() - 1000).toISOString() });
      expectError(past, 400, 'VALIDATION_FAILED');
      expect(past.body.details).toEqual([{ field: 'until', message: 'must be a time in the future' }]);
      expectError(await suspend(a.id, { reason: 'Spam', until: 'tomorrow' }), 400, 'VALIDATION_FAILED');
      expectError(await suspend(a.id, { until: inFuture(DAY_MS) }), 400, 'VALIDATION_FAILED');
      expectError(await suspend(a.id, { reason: ' ' }), 400, 'VALIDATION_FAILED');
      expectError(await suspend(a.id, { reason: 'Spam', extra: 1 }), 400, 'VALIDATION_FAILED');
      expect((await call(api.url, 'GET', path(a.id), { token: a.token })).body.status).toBe('active');

      expect((await suspend(a.id, { reason: 'Spam' })).status).toBe(200);
      expectError(await suspend(a.id, { reason: 'Again' }), 409, 'INVALID_STATE_TRANSITION');
      expect(await events(a.id)).toEqual(['user.created', 'user.suspended']);
    });

    it('reactivates a suspended user (user.reactivated, expired false); an active one is 409', async () => {
      const a = await newUser();
      expectError(await call(api.url, 'POST', path(a.id, '/reactivate'), { token: admin }), 409, 'INVALID_STATE_TRANSITION');
      await suspend(a.id, { reason: 'Spam' });
      const res = await call(api.url, 'POST', path(a.id, '/reactivate'), { headers: { ...internal, 'if-match': '"2"' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'active', suspension: null, version: 3 });
      expect((await outboxOf(a.id)).at(-1)).toMatchObject({ event_type: 'user.reactivated', payload: { data: { expired: false } } });
      expectError(await call(api.url, 'POST', path(a.id, '/reactivate'), { token: admin }), 409, 'INVALID_STATE_TRANSITION');
    });

    it("a suspended person may read, export and delete their account, but every other write is 403 ACCOUNT_SUSPENDED; admins', services' and consumed events' changes go through", async () => {
      const a = await newUser();
      await suspend(a.id, { reason: 'Spam' });
      const token = a.token;
      const writes = [
        await call(api.url, 'PATCH', path(a.id), { token, body: { profile: { bio: 'still here' } } }),
        await call(api.url, 'PUT', path(a.id, '/profile'), { token, body: { fullName: 'New Name' } }),
        await call(api.url, 'PATCH', path(a.id, '/preferences'), { token, body: { language: 'de' } }),
        await uploadAvatar(api.url, a.id, await images.jpeg(300, 300, 3), { token }),
        await call(api.url, 'DELETE', path(a.id, '/avatar'), { token }),
      ];
      for (const res of writes) expectError(res, 403, 'ACCOUNT_SUSPENDED');
      expect(writes[0].body.message).toContain('suspended');

      for (const rest of ['', '/preferences', '/stats', '/quota', '/audit', '/export']) {
        expect({ rest, status: (await call(api.url, 'GET', path(a.id, rest), { token })).status }).toEqual({ rest, status: 200 });
      }
      // Someone else is refused as before: not their account.
      const other = await newUser();
      expectError(await call(api.url, 'PATCH', path(a.id), { token: other.token, body: { profile: { bio: 'x' } } }), 403, 'ACCESS_DENIED');

      expect((await call(api.url, 'PATCH', path(a.id), { token: admin, body: { profile: { bio: 'by support' } } })).status).toBe(200);
      const quota = await call(api.url, 'PUT', path(a.id, '/quota'), { headers: internal, body: { maxInterviews: 20, maxStorage: 1000 } });
      expect(quota.status).toBe(200);
      // A consumed event (what StatsProjector hands the repository) is applied to a suspended user.
      const consumed = { eventId: `lifecycle-${a.id}`, eventType: 'interview.created', userId: a.id };
      const applied = await api.app.get(UserRepository).recordUsageOnce(
        [consumed],
        (fresh, users) => fresh.filter((event) => users.get(event.userId)?.recordInterviewCreated()).length,
        async () => undefined,
      );
      expect(applied).toEqual({ result: 1, duplicates: [] });

      const deleted = await call(api.url, 'DELETE', path(a.id), { token });
      expect(deleted.status).toBe(200);
      expect((await sql('SELECT status, suspended_at IS NOT NULL AS still FROM users WHERE id = $1', [a.id]))[0]).toEqual({
        status: 'deleted',
        still: true,
      });
    });
  });

  describe('suspensions that end by themselves', () => {
    const dueNow = (ids: string[]) => sql(`UPDATE users SET suspended_until = now() - interval '1 second' WHERE id = ANY($1)`, [ids]);

    it('end once, with user.reactivated {expired: true}, when two instances run the job at the same time', async () => {
      const env = { DATA_DIR: dataDir, LIFECYCLE_JOB_BATCH_SIZE: '3' };
      const [one, two] = await Promise.all([startApp(testConfig(env)), startApp(testConfig(env))]);
      apps.push(one, two);
      const users = await Promise.all(Array.from({ length: 14 }, () => newUser()));
      for (const u of users) expect((await suspend(u.id, { reason: 'Cooling off', until: inFuture(DAY_MS) })).status).toBe(200);
      const notYet = await newUser();
      await suspend(notYet.id, { reason: 'Later', until: inFuture(DAY_MS) });
      await dueNow(users.map((u) => u.id));

      const [a, b] = await Promise.all([one.app.get(SuspensionExpiry).run(), two.app.get(SuspensionExpiry).run()]);
      expect(a + b).toBeGreaterThanOrEqual(users.length);
      // Again, on both: nothing is due any more.
      await Promise.all([one.app.get(SuspensionExpiry).run(), two.app.get(SuspensionExpiry).run()]);

      for (const u of users) {
        const rows = await outboxOf(u.id);
        const reactivated = rows.filter((row) => row.event_type === 'user.reactivated');
        expect({ id: u.id, reactivated: reactivated.map((r) => r.payload.data) }).toEqual({ id: u.id, reactivated: [{ expired: true }] });
        const view = await call(api.url, 'GET', path(u.id), { token: u.token });
        expect(view.body).toMatchObject({ status: 'active', suspension: null, version: 3 });
      }
      const entries = await sql<{ actor: string; n: number }>(
        `SELECT actor, count(*)::int AS n FROM audit_log WHERE user_id = ANY($1) AND action = 'reactivated' GROUP BY actor`,
        [users.map((u) => u.id)],
      );
      expect(entries).toEqual([{ actor: 'system:suspension-expiry', n: users.length }]);
      expect((await call(api.url, 'GET', path(notYet.id), { token: notYet.token })).body.status).toBe('suspended');
    });

    it('end on their own on an instance whose timer runs the jobs (LIFECYCLE_JOB_INTERVAL_MS)', async () => {
      // Closed at the end: its purge would otherwise run behind the later tests' backs.
      const timed = await startApp(testConfig({ DATA_DIR: dataDir, LIFECYCLE_JOB_INTERVAL_MS: '200' }));
      try {
        const u = await newUser();
        await suspend(u.id, { reason: 'Short break', until: inFuture(1500) });
        expect((await call(api.url, 'GET', path(u.id), { token: u.token })).body.status).toBe('suspended');
        const active = async () => (await call(api.url, 'GET', path(u.id), { token: u.token })).body.status === 'active';
        await waitFor(active, 10_000, 'suspension to end');
        expect(await events(u.id)).toEqual(['user.created', 'user.suspended', 'user.reactivated']);
      } finally {
        await timed.close();
      }
    });
  });

  describe('restore', () => {
    const restore = (id: string, token = admin) => call(api.url, 'POST', path(id, '/restore'), { token });

    it('brings a soft-deleted user back under the same id within the grace window (user.restored)', async () => {
      const a = await newUser();
      expect((await call(api.url, 'DELETE', path(a.id), { token: a.token })).status).toBe(200);
      expectError(await call(api.url, 'GET', path(a.id), { token: a.token }), 404, 'USER_NOT_FOUND');
      await sql(`UPDATE users SET deleted_at = now() - interval '29 days' WHERE id = $1`, [a.id]);

      const res = await restore(a.id);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: a.id, keycloakId: a.keycloakId, email: a.email, status: 'active', version: 3 });
      expect((await call(api.url, 'GET', path(a.id), { token: a.token })).status).toBe(200);
      expect((await outboxOf(a.id)).at(-1)).toMatchObject({
        event_type: 'user.restored',
        payload: { data: { keycloakId: a.keycloakId, status: 'active' } },
      });
      expectError(await restore(a.id), 409, 'INVALID_STATE_TRANSITION');
      expectError(await restore('00000000-0000-4000-8000-000000000000'), 404, 'USER_NOT_FOUND');
    });

    it('is 409 GRACE_PERIOD_EXPIRED once DELETION_GRACE_DAYS (30) have passed', async () => {
      const a = await newUser();
      await call(api.url, 'DELETE', path(a.id), { token: a.token });
      await sql(`UPDATE users SET deleted_at = now() - interval '30 days 1 minute' WHERE id = $1`, [a.id]);
      expectError(await restore(a.id), 409, 'GRACE_PERIOD_EXPIRED');
      expect((await sql('SELECT status FROM users WHERE id = $1', [a.id]))[0].status).toBe('deleted');
    });

    it('is 409 when the email or the Keycloak id was taken meanwhile, and changes nothing', async () => {
      const a = await newUser();
      await call(api.url, 'DELETE', path(a.id), { token: a.token });
      const sameEmail = await call(api.url, 'POST', '/api/v1/users', {
        headers: internal,
        body: { keycloakId: uniqueIdentity().keycloakId, email: a.email, profile: { fullName: 'Email Taker' } },
      });
      expect(sameEmail.status).toBe(201);
      expectError(await restore(a.id), 409, 'EMAIL_TAKEN');
      await call(api.url, 'DELETE', path(sameEmail.body.id), { headers: internal });

      const sameKeycloak = await call(api.url, 'POST', '/api/v1/users', {
        headers: internal,
        body: { keycloakId: a.keycloakId, email: uniqueIdentity().email, profile: { fullName: 'Id Taker' } },
      });
      expect(sameKeycloak.status).toBe(201);
      expectError(await restore(a.id), 409, 'KEYCLOAK_ID_TAKEN');
      expect((await sql('SELECT status, version FROM users WHERE id = $1', [a.id]))[0]).toEqual({ status: 'deleted', version: 2 });
      expect(await events(a.id)).toEqual(['user.created', 'user.deleted']);

      await call(api.url, 'DELETE', path(sameKeycloak.body.id), { headers: internal });
      expect((await restore(a.id)).status).toBe(200);
    });

    it('brings a user deleted while suspended back suspended', async () => {
      const a = await newUser();
      await suspend(a.id, { reason: 'Spam', until: inFuture(DAY_MS) });
      await call(api.url, 'DELETE', path(a.id), { token: a.token });
      const res = await restore(a.id);
      expect(res.body).toMatchObject({ status: 'suspended', suspension: { reason: 'Spam' } });
      expect((await outboxOf(a.id)).at(-1)!.payload.data).toEqual({ keycloakId: a.keycloakId, status: 'suspended' });
    });
  });

  describe('legal hold and erase', () => {
    const erase = (id: string, token = admin) => call(api.url, 'POST', path(id, '/erase'), { token });
    const hold = (id: string) => call(api.url, 'GET', path(id, '/legal-hold'), { token: admin });

    it('a legal hold makes erase 409 LEGAL_HOLD until it is released; it shows on GET and changes the version, not the outbox', async () => {
      const a = await newUser();
      expect((await hold(a.id)).body).toEqual({ legalHold: null });
      const placed = await call(api.url, 'PUT', path(a.id, '/legal-hold'), { token: admin, body: { reason: 'Litigation, case 114' } });
      expect(placed.status).toBe(200);
      expect(placed.body).toEqual({ legalHold: { reason: 'Litigation, case 114', since: expect.any(String) } });
      expect(placed.headers.get('etag')).toBe('"2"');
      expect((await hold(a.id)).body).toEqual(placed.body);
      expectError(await call(api.url, 'PUT', path(a.id, '/legal-hold'), { token: admin, body: {} }), 400, 'VALIDATION_FAILED');

      expectError(await erase(a.id), 409, 'LEGAL_HOLD');
      // Deleting is fine under a hold (nothing is lost), and the hold stays.
      expect((await call(api.url, 'DELETE', path(a.id), { token: a.token })).status).toBe(200);
      expectError(await erase(a.id), 409, 'LEGAL_HOLD');
      expect((await hold(a.id)).body.legalHold.reason).toBe('Litigation, case 114');
      expect(await events(a.id)).toEqual(['user.created', 'user.deleted']);

      const released = await call(api.url, 'DELETE', path(a.id, '/legal-hold'), { token: admin });
      expect(released.body).toEqual({ legalHold: null });
      expect((await call(api.url, 'DELETE', path(a.id, '/legal-hold'), { token: admin })).headers.get('etag')).toBe(
        released.headers.get('etag'),
      );
      expect((await erase(a.id)).status).toBe(200);
    });

    it('erase deletes first when needed; afterwards the id answers 410 USER_ERASED to everyone and everything', async () => {
      const a = await newUser();
      const res = await erase(a.id);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: a.id, status: 'erased', erasedAt: expect.any(String) });
      expect(await events(a.id)).toEqual(['user.created', 'user.deleted', 'user.erased']);
      expect((await outboxOf(a.id)).at(-1)!.payload.data).toEqual({ userId: a.id });

      for (const [method, rest, token] of [
        ['GET', '', admin],
        ['GET', '', a.token],
        ['GET', '/stats', admin],
        ['GET', '/export', admin],
        ['GET', '/legal-hold', admin],
        ['PATCH', '', admin],
        ['POST', '/erase', admin],
        ['POST', '/restore', admin],
        ['POST', '/suspend', admin],
      ] as const) {
        const body = method === 'PATCH' ? { profile: { bio: 'x' } } : rest === '/suspend' ? { reason: 'x' } : undefined;
        const answer = await call(api.url, method, path(a.id, rest), { token, body });
        expect({ method, rest, status: answer.status, code: answer.body?.code }).toEqual({
          method,
          rest,
          status: 410,
          code: 'USER_ERASED',
        });
      }
      expectError(await call(api.url, 'GET', `/api/v1/users/by-keycloak/${a.keycloakId}`, { token: admin }), 404, 'USER_NOT_FOUND');
      // The email and Keycloak id are free, and a new account under them is a new user.
      const again = await call(api.url, 'POST', '/api/v1/users', {
        token: a.token,
        body: { keycloakId: a.keycloakId, email: a.email, profile: { fullName: 'Born Again' } },
      });
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(a.id);
    });

    it('erases the avatar files of the embedded store; without Kafka the purge deletes the events at once (nothing would publish them)', async () => {
      const a = await newUser();
      expect((await uploadAvatar(api.url, a.id, await images.jpeg(300, 300, 5), { token: a.token })).status).toBe(200);
      expect(existsSync(join(dataDir, 'avatars', 'users', a.id))).toBe(true);
      await erase(a.id);
      expect(existsSync(join(dataDir, 'avatars', 'users', a.id))).toBe(false);
      expect((await outboxOf(a.id)).map((r) => [r.event_type, r.published_at])).toEqual([
        ['user.created', null],
        ['user.avatar_uploaded', null],
        ['user.deleted', null],
        ['user.erased', null],
      ]);
      expect((await api.app.get(DeletionPurge).run()).scrubbed).toBeGreaterThanOrEqual(3);
      expect(await events(a.id)).toEqual(['user.erased']);
    });

    it("an admin reads an erased user's trail: the erasure alone, by whom", async () => {
      const a = await newUser();
      await call(api.url, 'PATCH', path(a.id), { token: a.token, body: { profile: { bio: 'Bio' } } });
      await erase(a.id);
      const trail = await call(api.url, 'GET', path(a.id, '/audit'), { token: admin });
      expect(trail.status).toBe(200);
      expect(trail.body).toEqual({
        data: [
          {
            id: expect.any(String),
            at: expect.any(String),
            actor: 'admin:kc-lifecycle-admin',
            traceId: expect.any(String),
            action: 'erased',
            changes: [],
          },
        ],
        nextCursor: null,
      });
    });
  });

  describe('access rules of the new endpoints', () => {
    let owner: CreatedUser;
    let other: string;
    beforeAll(async () => {
      owner = await newUser();
      other = await tokenFor(uniqueIdentity().keycloakId);
    });

    const ROUTES: Array<{ method: string; rest: string; body?: unknown; person: 'refused' | 'own'; service: boolean }> = [
      { method: 'POST', rest: '/suspend', body: { reason: 'x' }, person: 'refused', service: true },
      { method: 'POST', rest: '/reactivate', person: 'refused', service: true },
      { method: 'POST', rest: '/restore', person: 'refused', service: false },
      { method: 'POST', rest: '/erase', person: 'refused', service: false },
      { method: 'GET', rest: '/legal-hold', person: 'refused', service: false },
      { method: 'PUT', rest: '/legal-hold', body: { reason: 'x' }, person: 'refused', service: false },
      { method: 'DELETE', rest: '/legal-hold', person: 'refused', service: false },
      { method: 'GET', rest: '/audit', person: 'own', service: true },
      { method: 'GET', rest: '/export', person: 'own', service: true },
    ];

    it.each(ROUTES)('$method $rest', async ({ method, rest, body, person, service }) => {
      const as = (auth: { token?: string; headers?: Record<string, string> }) =>
        call(api.url, method, path(owner.id, rest), { ...auth, body });
      const before = await sql('SELECT status, version FROM users WHERE id = $1', [owner.id]);
      expectError(await as({}), 401, 'UNAUTHENTICATED');
      expectError(await as({ token: other }), 403, 'ACCESS_DENIED');
      const own = await as({ token: owner.token });
      if (person === 'refused') expectError(own, 403, 'ACCESS_DENIED');
      else expect(own.status).toBe(200);
      expect(await sql('SELECT status, version FROM users WHERE id = $1', [owner.id])).toEqual(before);

      const byService = await as({ headers: internal });
      if (service) expect(byService.status).toBe(rest === '/reactivate' ? 409 : 200);
      else expectError(byService, 403, 'ACCESS_DENIED');
      if (rest === '/suspend') expect((await call(api.url, 'POST', path(owner.id, '/reactivate'), { token: admin })).status).toBe(200);
    });
  });
});
