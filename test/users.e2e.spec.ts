import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, tokenFor, uniqueIdentity } from './support/app';
import { outboxOf, sql } from './support/database';

describe('users API', () => {
  let api: RunningApp;
  beforeAll(async () => {
    api = await startApp();
  });
  afterAll(() => api.close());

  const newUser = () => createUser(api.url, { profile: { fullName: 'Ann Smith' } });

  it('creates a user with defaults, normalised email, an ETag and a user.created outbox row', async () => {
    const identity = uniqueIdentity();
    const token = await tokenFor(identity.keycloakId);
    const res = await call(api.url, 'POST', '/api/v1/users', {
      token,
      body: { keycloakId: identity.keycloakId, email: `  ${identity.email.toUpperCase()} `, profile: { fullName: 'Ann Smith' } },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('location')).toBe(`/api/v1/users/${res.body.id}`);
    expect(res.body).toMatchObject({
      keycloakId: identity.keycloakId,
      email: identity.email,
      status: 'active',
      profile: { fullName: 'Ann Smith', companyName: null, phone: null, bio: null, avatarUrl: null },
      stats: { interviewsCreated: 0, interviewsActive: 0, candidatesTotal: 0, storageUsed: 0 },
      quota: { maxInterviews: 10, maxStorage: 5368709120 },
      preferences: { language: 'en', timezone: 'UTC', notifications: { email: true, productNews: false, interviewReminders: true } },
      version: 1,
    });
    const outbox = await outboxOf(res.body.id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0].event_type).toBe('user.created');
    expect(outbox[0].published_at).toBeNull();
    expect(outbox[0].payload).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      eventType: 'user.created',
      timestamp: res.body.createdAt,
      userId: res.body.id,
      data: { keycloakId: identity.keycloakId, email: identity.email, fullName: 'Ann Smith' },
    });
  });

  it('reads a user by id and by Keycloak id, with ETag and 304 on If-None-Match', async () => {
    const { user, token, keycloakId } = await newUser();
    const byId = await call(api.url, 'GET', `/api/v1/users/${user.id}`, { token });
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(user);
    expect(byId.headers.get('etag')).toBe('"1"');

    const byKeycloak = await call(api.url, 'GET', `/api/v1/users/by-keycloak/${keycloakId}`, { token });
    expect(byKeycloak.status).toBe(200);
    expect(byKeycloak.body.id).toBe(user.id);

    for (const path of [`/api/v1/users/${user.id}`, `/api/v1/users/by-keycloak/${keycloakId}`, `/api/v1/users/${user.id}/preferences`]) {
      for (const tag of ['"1"', 'W/"1"', '*']) {
        const cached = await call(api.url, 'GET', path, { token, headers: { 'if-none-match': tag } });
        expect({ path, tag, status: cached.status, body: cached.body }).toEqual({ path, tag, status: 304, body: undefined });
      }
      expect((await call(api.url, 'GET', path, { token, headers: { 'if-none-match': '"2"' } })).status).toBe(200);
    }
  });

  it('answers 409 for a taken email (in any case) or Keycloak id', async () => {
    const { email, keycloakId } = await newUser();
    const other = uniqueIdentity();
    const internal = { 'x-internal-token': INTERNAL_TOKEN };

    const sameEmail = await call(api.url, 'POST', '/api/v1/users', {
      headers: internal,
      body: { keycloakId: other.keycloakId, email: email.toUpperCase(), profile: { fullName: 'Bob' } },
    });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body).toMatchObject({ statusCode: 409, code: 'EMAIL_TAKEN', error: 'Conflict' });

    const sameKeycloak = await call(api.url, 'POST', '/api/v1/users', {
      headers: internal,
      body: { keycloakId, email: other.email, profile: { fullName: 'Bob' } },
    });
    expect(sameKeycloak.status).toBe(409);
    expect(sameKeycloak.body.code).toBe('KEYCLOAK_ID_TAKEN');
  });

  it('PATCH merges: absent unchanged, null clears, version and user.updated follow real changes only', async () => {
    const { user, token } = await newUser();
    const path = `/api/v1/users/${user.id}`;
    const first = await call(api.url, 'PATCH', path, { token, body: { profile: { companyName: 'Acme', phone: '+1 555 0100' } } });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"2"');
    expect(first.body.profile).toMatchObject({ fullName: 'Ann Smith', companyName: 'Acme', phone: '+1 555 0100' });

    const cleared = await call(api.url, 'PATCH', path, { token, body: { profile: { phone: null } } });
    expect(cleared.body.profile).toMatchObject({ companyName: 'Acme', phone: null });
    expect(cleared.body.version).toBe(3);

    const noop = await call(api.url, 'PATCH', path, { token, body: { profile: { companyName: 'Acme' } } });
    expect(noop.status).toBe(200);
    expect(noop.body.version).toBe(3);

    const events = await outboxOf(user.id);
    expect(events.map((e) => e.event_type)).toEqual(['user.created', 'user.updated', 'user.updated']);
    expect(events[1].payload.data).toEqual({ changes: { companyName: 'Acme', phone: '+1 555 0100' } });
    expect(events[2].payload.data).toEqual({ changes: { phone: null } });
  });

  it('PUT /profile replaces the profile, clearing what is left out', async () => {
    const { user, token } = await newUser();
    await call(api.url, 'PATCH', `/api/v1/users/${user.id}`, { token, body: { profile: { companyName: 'Acme', bio: 'Hello' } } });
    const res = await call(api.url, 'PUT', `/api/v1/users/${user.id}/profile`, {
      token,
      body: { fullName: 'Ann B. Smith', phone: '12345' },
    });
    expect(res.status).toBe(200);
    expect(res.body.profile).toEqual({ fullName: 'Ann B. Smith', companyName: null, phone: '12345', bio: null, avatarUrl: null });
    const missingName = await call(api.url, 'PUT', `/api/v1/users/${user.id}/profile`, { token, body: { phone: '12345' } });
    expect(missingName.status).toBe(400);
    expect(missingName.body.details).toContainEqual({ field: 'fullName', message: expect.any(String) });
  });

  it('honours If-Match: 412 on a stale version, success on the current one', async () => {
    const { user, token } = await newUser();
    const path = `/api/v1/users/${user.id}`;
    const stale = await call(api.url, 'PATCH', path, { token, headers: { 'if-match': '"7"' }, body: { profile: { bio: 'x' } } });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('VERSION_MISMATCH');
    const garbage = await call(api.url, 'PATCH', path, { token, headers: { 'if-match': 'nonsense' }, body: { profile: { bio: 'x' } } });
    expect(garbage.status).toBe(412);
    const ok = await call(api.url, 'PATCH', path, { token, headers: { 'if-match': '"1"' }, body: { profile: { bio: 'x' } } });
    expect(ok.status).toBe(200);
    const staleDelete = await call(api.url, 'DELETE', path, { token, headers: { 'if-match': '"1"' } });
    expect(staleDelete.status).toBe(412);
    const stalePut = await call(api.url, 'PUT', `${path}/profile`, { token, headers: { 'if-match': '"1"' }, body: { fullName: 'Zed' } });
    expect(stalePut.status).toBe(412);
    expect((await call(api.url, 'GET', path, { token })).body.profile.fullName).toBe('Ann Smith');
  });

  it('never loses one of many concurrent PATCHes', async () => {
    const { user, token } = await newUser();
    const fields = ['companyName', 'phone', 'bio'] as const;
    const values = { companyName: 'Acme', phone: '555 0100', bio: 'Bio' };
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call(api.url, 'PATCH', `/api/v1/users/${user.id}`, {
          token,
          body: { profile: { [fields[i % 3]]: `${values[fields[i % 3]]} ${i}` } },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    const versions = results.map((r) => r.body.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
    const final = await call(api.url, 'GET', `/api/v1/users/${user.id}`, { token });
    expect(final.body.version).toBe(13);
    // Each field ends with the value of the last PATCH that touched it, and every PATCH left an event.
    const events = await outboxOf(user.id);
    expect(events.filter((e) => e.event_type === 'user.updated')).toHaveLength(12);
    for (const field of fields) {
      const last = events.filter((e) => field in (e.payload.data.changes ?? {})).pop()!;
      expect(final.body.profile[field]).toBe(last.payload.data.changes[field]);
    }
  });

  it('concurrent PATCHes with the same If-Match: exactly one wins, the others get 412', async () => {
    const { user, token } = await newUser();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(api.url, 'PATCH', `/api/v1/users/${user.id}`, { token, headers: { 'if-match': '"1"' }, body: { profile: { bio: `b${i}` } } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412, 412, 412]);
  });

  it('soft-deletes: 404 everywhere afterwards, user.deleted recorded, email and Keycloak id free again', async () => {
    const { user, token, email, keycloakId } = await newUser();
    const del = await call(api.url, 'DELETE', `/api/v1/users/${user.id}`, { token });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ message: 'User deleted successfully' });

    for (const [method, path, body] of [
      ['GET', `/api/v1/users/${user.id}`],
      ['GET', `/api/v1/users/by-keycloak/${keycloakId}`],
      ['PATCH', `/api/v1/users/${user.id}`, { profile: { bio: 'x' } }],
      ['PUT', `/api/v1/users/${user.id}/profile`, { fullName: 'Zed' }],
      ['DELETE', `/api/v1/users/${user.id}`],
      ['GET', `/api/v1/users/${user.id}/preferences`],
      ['PATCH', `/api/v1/users/${user.id}/preferences`, { language: 'de' }],
    ] as const) {
      const res = await call(api.url, method, path, { token, body });
      expect({ method, path, status: res.status, code: res.body.code }).toEqual({
        method,
        path,
        status: 404,
        code: 'USER_NOT_FOUND',
      });
    }
    const events = await outboxOf(user.id);
    expect(events.at(-1)!.payload).toMatchObject({ eventType: 'user.deleted', data: { keycloakId, deletedAt: expect.any(String) } });
    const [row] = await sql('SELECT status, deleted_at FROM users WHERE id = $1', [user.id]);
    expect(row.status).toBe('deleted');
    expect(row.deleted_at).toBeInstanceOf(Date);

    const again = await call(api.url, 'POST', '/api/v1/users', { token, body: { keycloakId, email, profile: { fullName: 'Ann Again' } } });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(user.id);
  });

  it('reads and patches preferences with validation and a user.updated event', async () => {
    const { user, token } = await newUser();
    const path = `/api/v1/users/${user.id}/preferences`;
    const initial = await call(api.url, 'GET', path, { token });
    expect(initial.status).toBe(200);
    expect(initial.body).toEqual({
      preferences: { language: 'en', timezone: 'UTC', notifications: { email: true, productNews: false, interviewReminders: true } },
      version: 1,
    });
    const updated = await call(api.url, 'PATCH', path, {
      token,
      body: { language: 'de-de', timezone: 'Europe/Berlin', notifications: { productNews: true } },
    });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('"2"');
    expect(updated.body.preferences).toEqual({
      language: 'de-DE',
      timezone: 'Europe/Berlin',
      notifications: { email: true, productNews: true, interviewReminders: true },
    });
    const events = await outboxOf(user.id);
    expect(events.at(-1)!.payload.data).toEqual({
      changes: { preferences: { language: 'de-DE', timezone: 'Europe/Berlin', notifications: { productNews: true } } },
    });

    const bad = await call(api.url, 'PATCH', path, {
      token,
      body: { language: 'not a tag', timezone: 'Nowhere/City', notifications: { email: 'yes', sms: true } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['notifications.email', 'notifications.sms']);
    const badValues = await call(api.url, 'PATCH', path, { token, body: { language: 'not a tag', timezone: 'Nowhere/City' } });
    expect(badValues.body.details.map((d: { field: string }) => d.field)).toEqual(['language', 'timezone']);
    expect((await call(api.url, 'GET', path, { token })).body.preferences.language).toBe('de-DE');
  });
});
