import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditRetention } from '../src/users/jobs/audit-retention';
import { StatsProjector } from '../src/users/usage-events/stats-projector';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { uploadAvatar } from './support/avatars';
import { sql } from './support/database';
import * as images from './support/images';
import { KafkaBroker, startKafkaBroker } from './support/kafka-broker';
import { kafkaEnv } from './support/kafka';

const internal = { 'x-internal-token': INTERNAL_TOKEN };

/** The audit trail: an entry with every change, in its transaction, without personal values; read in keyset pages. */
describe('audit trail', () => {
  let dataDir: string;
  let broker: KafkaBroker;
  let api: RunningApp;
  let admin: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'user-service-audit-'));
    broker = await startKafkaBroker();
    // Kafka only so that the StatsProjector (and its dead-letter publisher) exists; batches are handed to it directly.
    api = await startApp(testConfig({ DATA_DIR: dataDir, LIFECYCLE_JOB_BATCH_SIZE: '2', ...kafkaEnv(broker, 'audit-e2e') }));
    admin = await tokenFor('kc-audit-admin', { admin: true });
  });
  afterAll(async () => {
    await api?.close();
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const path = (id: string, rest = '') => `/api/v1/users/${id}${rest}`;
  const trail = async (id: string) => {
    const res = await call(api.url, 'GET', path(id, '/audit?limit=100'), { token: admin });
    expect(res.status).toBe(200);
    return (res.body.data as any[]).reverse();
  };

  it('records every command with its actor and trace id, old and new values, and personal fields by name only', async () => {
    const marker = randomBytes(5).toString('hex');
    const secrets = { fullName: `Audit ${marker}`, phone: '+44 20 7946 0958', bio: `Private bio ${marker}`, companyName: `Firm ${marker}` };
    const trace = (step: string) => ({ 'x-request-id': `audit-${marker}-${step}` });
    const user = await createUser(api.url, { profile: { fullName: secrets.fullName }, headers: trace('create') });
    const { id, token } = user;
    const steps: Array<[string, () => Promise<{ status: number }>]> = [
      [
        'patch',
        () =>
          call(api.url, 'PATCH', path(id), {
            token,
            headers: trace('patch'),
            body: { profile: { phone: secrets.phone, bio: secrets.bio } },
          }),
      ],
      [
        'put',
        () =>
          call(api.url, 'PUT', path(id, '/profile'), {
            token,
            headers: trace('put'),
            body: { fullName: secrets.fullName, companyName: secrets.companyName },
          }),
      ],
      ['prefs', () => call(api.url, 'PATCH', path(id, '/preferences'), { token, headers: trace('prefs'), body: { language: 'de-DE' } })],
      ['avatar', async () => uploadAvatar(api.url, id, await images.jpeg(300, 300, 9), { token, headers: trace('avatar') })],
      ['unavatar', () => call(api.url, 'DELETE', path(id, '/avatar'), { token, headers: trace('unavatar') })],
      ['count', () => call(api.url, 'POST', path(id, '/stats/increment-interviews'), { headers: { ...internal, ...trace('count') } })],
      [
        'quota',
        () =>
          call(api.url, 'PUT', path(id, '/quota'), {
            headers: { ...internal, ...trace('quota') },
            body: { maxInterviews: 25, maxStorage: 1000 },
          }),
      ],
      ['suspend', () => call(api.url, 'POST', path(id, '/suspend'), { token: admin, headers: trace('suspend'), body: { reason: 'Spam' } })],
      ['reactivate', () => call(api.url, 'POST', path(id, '/reactivate'), { headers: { ...internal, ...trace('reactivate') } })],
      ['hold', () => call(api.url, 'PUT', path(id, '/legal-hold'), { token: admin, headers: trace('hold'), body: { reason: 'Case 9' } })],
      ['unhold', () => call(api.url, 'DELETE', path(id, '/legal-hold'), { token: admin, headers: trace('unhold') })],
      ['delete', () => call(api.url, 'DELETE', path(id), { token, headers: trace('delete') })],
      ['restore', () => call(api.url, 'POST', path(id, '/restore'), { token: admin, headers: trace('restore') })],
    ];
    for (const [step, run] of steps) expect({ step, status: (await run()).status }).toEqual({ step, status: 200 });

    const entries = await trail(id);
    const me = `user:${user.keycloakId}`;
    const adminActor = 'admin:kc-audit-admin';
    expect(entries.map((e) => [e.action, e.actor, e.traceId])).toEqual([
      ['created', me, `audit-${marker}-create`],
      ['profile.updated', me, `audit-${marker}-patch`],
      ['profile.replaced', me, `audit-${marker}-put`],
      ['preferences.updated', me, `audit-${marker}-prefs`],
      ['avatar.replaced', me, `audit-${marker}-avatar`],
      ['avatar.removed', me, `audit-${marker}-unavatar`],
      ['usage.recorded', 'service', `audit-${marker}-count`],
      ['quota.changed', 'service', `audit-${marker}-quota`],
      ['suspended', adminActor, `audit-${marker}-suspend`],
      ['reactivated', 'service', `audit-${marker}-reactivate`],
      ['legal_hold.placed', adminActor, `audit-${marker}-hold`],
      ['legal_hold.released', adminActor, `audit-${marker}-unhold`],
      ['deleted', me, `audit-${marker}-delete`],
      ['restored', adminActor, `audit-${marker}-restore`],
    ]);
    // The person's own view leaves out the legal hold: telling them could prejudice the proceedings it serves.
    const own = await call(api.url, 'GET', path(id, '/audit?limit=100'), { token });
    expect(own.body.data.map((e: any) => e.action)).toEqual(
      entries
        .map((e) => e.action)
        .filter((a) => !a.startsWith('legal_hold.'))
        .reverse(),
    );
    const ownExport = await call(api.url, 'GET', path(id, '/export'), { token });
    expect(ownExport.body.auditTrail.some((e: any) => e.action.startsWith('legal_hold.'))).toBe(false);
    expect((await call(api.url, 'GET', path(id, '/export'), { token: admin })).body.auditTrail).toHaveLength(entries.length);
    const changesOf = (action: string) => entries.find((e) => e.action === action).changes;
    expect(changesOf('profile.updated')).toEqual([{ field: 'profile.phone' }, { field: 'profile.bio' }]);
    expect(changesOf('profile.replaced')).toEqual([{ field: 'profile.companyName' }, { field: 'profile.phone' }, { field: 'profile.bio' }]);
    expect(changesOf('preferences.updated')).toEqual([{ field: 'preferences.language', old: 'en', new: 'de-DE' }]);
    expect(changesOf('avatar.replaced')).toEqual([{ field: 'profile.avatarUrl' }]);
    expect(changesOf('usage.recorded')).toEqual([
      { field: 'stats.interviewsCreated', old: 0, new: 1 },
      { field: 'stats.interviewsActive', old: 0, new: 1 },
    ]);
    expect(changesOf('quota.changed')).toEqual([
      { field: 'quota.maxInterviews', old: 10, new: 25 },
      { field: 'quota.maxStorage', old: 5368709120, new: 1000 },
    ]);
    expect(changesOf('suspended')).toEqual([
      { field: 'status', old: 'active', new: 'suspended' },
      { field: 'suspension.reason', old: null, new: 'Spam' },
    ]);
    expect(changesOf('legal_hold.placed')).toEqual([{ field: 'legalHold.reason', old: null, new: 'Case 9' }]);
    expect(changesOf('restored')).toEqual([{ field: 'status', old: 'deleted', new: 'active' }]);
    expect(changesOf('created')).toEqual(
      expect.arrayContaining([
        { field: 'keycloakId' },
        { field: 'email' },
        { field: 'profile.fullName' },
        { field: 'status', new: 'active' },
      ]),
    );

    // In the database as the API shows it: no value of a personal field anywhere in the user's trail (the Keycloak id
    // is in the actor of the person's own changes, `user:<sub>`, as who made them, never among the changed values).
    const stored = JSON.stringify(await sql('SELECT * FROM audit_log WHERE user_id = $1', [id]));
    for (const secret of [user.email, ...Object.values(secrets)])
      expect({ secret, found: stored.includes(secret) }).toEqual({ secret, found: false });
    const changes = JSON.stringify(await sql('SELECT changes FROM audit_log WHERE user_id = $1', [id]));
    expect(changes).not.toContain(user.keycloakId);
  });

  it('writes nothing when the change fails: the entry lives and dies with the change', async () => {
    const { id, token } = await createUser(api.url);
    const before = await sql('SELECT count(*)::int AS n FROM audit_log WHERE user_id = $1', [id]);
    expect(
      (await call(api.url, 'PATCH', path(id), { token, headers: { 'if-match': '"9"' }, body: { profile: { bio: 'x' } } })).status,
    ).toBe(412);
    expect((await call(api.url, 'PATCH', path(id), { token, body: { profile: { phone: 'not a phone' } } })).status).toBe(400);
    // A change that changes nothing is no entry either.
    expect((await call(api.url, 'PATCH', path(id, '/preferences'), { token, body: { language: 'en' } })).status).toBe(200);
    expect(await sql('SELECT count(*)::int AS n FROM audit_log WHERE user_id = $1', [id])).toEqual(before);
  });

  it('records one entry per user for a consumed batch, by event:<topic>, with the producer trace id', async () => {
    const [a, b] = await Promise.all([createUser(api.url), createUser(api.url)]);
    const traceId = randomBytes(16).toString('hex');
    const message = (userId: string, headers: Record<string, string> = {}) => ({
      topic: 'interview.created',
      partition: 0,
      offset: '0',
      key: Buffer.from(userId),
      value: Buffer.from(
        JSON.stringify({ eventId: randomUUID(), eventType: 'interview.created', userId, data: { interviewId: randomUUID() } }),
      ),
      headers,
    });
    const batch = [message(a.id, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }), message(b.id), message(a.id), message(a.id)];
    expect(await api.app.get(StatsProjector).project(batch)).toEqual({ applied: 4, duplicates: 0, deadLetters: 0 });

    const [entryA] = (await trail(a.id)).filter((e) => e.action === 'usage.recorded');
    expect(entryA).toMatchObject({
      actor: 'event:interview.created',
      traceId,
      changes: [
        { field: 'stats.interviewsCreated', old: 0, new: 3 },
        { field: 'stats.interviewsActive', old: 0, new: 3 },
      ],
    });
    expect((await trail(a.id)).filter((e) => e.action === 'usage.recorded')).toHaveLength(1);
    const entriesB = (await trail(b.id)).filter((e) => e.action === 'usage.recorded');
    expect(entriesB).toEqual([expect.objectContaining({ actor: 'event:interview.created', traceId: null })]);
    // A redelivered batch changes nothing, and writes no entry.
    await api.app.get(StatsProjector).project(batch);
    expect((await trail(a.id)).filter((e) => e.action === 'usage.recorded')).toHaveLength(1);
  });

  describe('GET /users/:id/audit', () => {
    let id: string;
    let token: string;
    beforeAll(async () => {
      ({ id, token } = await createUser(api.url));
      for (let i = 0; i < 6; i++) await call(api.url, 'PATCH', path(id), { token, body: { profile: { bio: `bio ${i}` } } });
    });

    it('pages newest first by keyset: limit, nextCursor and a Link to the next page, until nextCursor is null', async () => {
      const seen: string[] = [];
      let next: string | null = path(id, '/audit?limit=3');
      let pages = 0;
      while (next) {
        const res: { status: number; headers: Headers; body: any } = await call(api.url, 'GET', next, { token });
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.data.map((e: any) => e.id));
        const link: string | null = res.headers.get('link');
        if (res.body.nextCursor) {
          expect(link).toBe(`<${path(id, `/audit?limit=3&cursor=${res.body.nextCursor}`)}>; rel="next"`);
          next = link!.slice(1, link!.indexOf('>'));
          // Entries written while paging do not shift the pages.
          if (pages === 0) await call(api.url, 'PATCH', path(id), { token, body: { profile: { bio: 'while paging' } } });
        } else {
          expect(link).toBeNull();
          next = null;
        }
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
      expect([...seen].sort((x, y) => Number(y) - Number(x))).toEqual(seen);
      const first = await call(api.url, 'GET', path(id, '/audit'), { token });
      expect(first.body.data).toHaveLength(8);
      expect(first.body.data[0].changes).toEqual([{ field: 'profile.bio' }]);
    });

    it('refuses bad parameters and cursors with 400 in the error format', async () => {
      const other = await createUser(api.url);
      const otherCursor = (await call(api.url, 'GET', path(other.id, '/audit?limit=1'), { token: admin })).body.nextCursor;
      for (const [query, code] of [
        ['limit=0', 'VALIDATION_FAILED'],
        ['limit=101', 'VALIDATION_FAILED'],
        ['limit=ten', 'VALIDATION_FAILED'],
        ['order=asc', 'VALIDATION_FAILED'],
        ['cursor=garbage', 'INVALID_CURSOR'],
        [`cursor=${Buffer.from('{"u":"x","before":"1; DROP TABLE users"}').toString('base64url')}`, 'INVALID_CURSOR'],
        [`cursor=${otherCursor}`, 'INVALID_CURSOR'],
      ]) {
        const res = await call(api.url, 'GET', path(id, `/audit?${query}`), { token });
        expect({ query, status: res.status, code: res.body.code }).toEqual({ query, status: 400, code });
      }
      expect((await call(api.url, 'GET', path('00000000-0000-4000-8000-000000000000', '/audit'), { token: admin })).status).toBe(404);
    });
  });

  it(`deletes entries older than AUDIT_RETENTION_DAYS (365) in batches, and keeps the rest`, async () => {
    const { id } = await createUser(api.url);
    await sql(
      `INSERT INTO audit_log (user_id, at, actor, action, changes)
       SELECT $1, now() - make_interval(days => 366 + n), 'service', 'usage.recorded', '[]' FROM generate_series(1, 5) AS n`,
      [id],
    );
    await sql(
      `INSERT INTO audit_log (user_id, at, actor, action, changes) VALUES ($1, now() - interval '364 days', 'service', 'quota.changed', '[]')`,
      [id],
    );
    expect(await api.app.get(AuditRetention).run()).toBeGreaterThanOrEqual(5);
    expect((await sql('SELECT action FROM audit_log WHERE user_id = $1 ORDER BY id', [id])).map((r) => r.action)).toEqual([
      'created',
      'quota.changed',
    ]);
  });
});
