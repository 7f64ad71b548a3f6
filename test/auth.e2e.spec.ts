import { SignJWT } from 'jose';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, TEST_SECRET, testConfig, tokenFor, uniqueIdentity } from './support/app';

describe('authentication and authorization', () => {
  let api: RunningApp;
  let owner: { id: string; keycloakId: string; token: string };

  beforeAll(async () => {
    api = await startApp();
    owner = await createUser(api.url);
  });
  afterAll(() => api.close());

  /** Every route, as a request that would succeed for the owner. */
  const routes = () =>
    [
      ['GET', `/api/v1/users/${owner.id}`],
      ['GET', `/api/v1/users/by-keycloak/${owner.keycloakId}`],
      ['PATCH', `/api/v1/users/${owner.id}`, { profile: { bio: 'hi' } }],
      ['PUT', `/api/v1/users/${owner.id}/profile`, { fullName: 'Owner' }],
      ['GET', `/api/v1/users/${owner.id}/preferences`],
      ['PATCH', `/api/v1/users/${owner.id}/preferences`, { language: 'en' }],
    ] as const;

  async function expectEverywhere(headers: Record<string, string>, status: number, code: string) {
    for (const [method, path, body] of routes()) {
      const res = await call(api.url, method, path, { headers, body });
      expect({ method, path, status: res.status, code: res.body?.code }).toEqual({ method, path, status, code });
    }
  }

  it('rejects anonymous callers with 401 and a WWW-Authenticate header', async () => {
    await expectEverywhere({}, 401, 'UNAUTHENTICATED');
    const res = await call(api.url, 'GET', `/api/v1/users/${owner.id}`);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', path: `/api/v1/users/${owner.id}` });
  });

  it('rejects a token signed with another key, an expired token, a malformed one and alg=none', async () => {
    const forged = await tokenFor(owner.keycloakId, { secret: 'another-secret-that-is-long-enough-0123456789' });
    await expectEverywhere({ authorization: `Bearer ${forged}` }, 401, 'UNAUTHENTICATED');

    const expired = await tokenFor(owner.keycloakId, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const res = await call(api.url, 'GET', `/api/v1/users/${owner.id}`, { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('Token has expired');

    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: owner.keycloakId, exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url')}.`;
    for (const token of [none, 'not.a.jwt', 'garbage']) {
      expect((await call(api.url, 'GET', `/api/v1/users/${owner.id}`, { token })).status).toBe(401);
    }
    expect((await call(api.url, 'GET', `/api/v1/users/${owner.id}`, { headers: { authorization: 'Basic abc' } })).status).toBe(401);
  });

  it('rejects a token without exp or sub', async () => {
    const key = new TextEncoder().encode(TEST_SECRET);
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(owner.keycloakId).sign(key);
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key);
    for (const token of [noExp, noSub]) {
      expect((await call(api.url, 'GET', `/api/v1/users/${owner.id}`, { token })).status).toBe(401);
    }
  });

  it('rejects a token whose sub is not a non-empty string, or whose roles are not a list of strings, on every route', async () => {
    const key = new TextEncoder().encode(TEST_SECRET);
    const signed = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key);
    for (const sub of [{ id: owner.keycloakId }, [owner.keycloakId], 42, null, '', '  ']) {
      const token = await signed({ sub });
      await expectEverywhere({ authorization: `Bearer ${token}` }, 401, 'UNAUTHENTICATED');
      const res = await call(api.url, 'GET', `/api/v1/users/${owner.id}`, { token });
      expect(res.body.message).toBe('Token rejected: sub must be a non-empty string');
    }
    for (const realmAccess of [{ roles: 'admin' }, { roles: [1] }, { roles: ['admin', { name: 'x' }] }, 'admin', ['admin']]) {
      const token = await signed({ sub: owner.keycloakId, realm_access: realmAccess });
      await expectEverywhere({ authorization: `Bearer ${token}` }, 401, 'UNAUTHENTICATED');
      const res = await call(api.url, 'GET', `/api/v1/users/${owner.id}`, { token });
      expect(res.body.message).toBe('Token rejected: realm_access.roles must be a list of strings');
    }
    // Neither rejection is remembered as a person: the same subject with good claims still works.
    expect(
      (await call(api.url, 'GET', `/api/v1/users/${owner.id}`, { token: await signed({ sub: owner.keycloakId, realm_access: {} }) }))
        .status,
    ).toBe(200);
  });

  it('forbids another user with 403 on every route, and on creating a profile for someone else', async () => {
    const stranger = await tokenFor('someone-else');
    await expectEverywhere({ authorization: `Bearer ${stranger}` }, 403, 'ACCESS_DENIED');
    const other = uniqueIdentity();
    const res = await call(api.url, 'POST', '/api/v1/users', { token: stranger, body: { ...other, profile: { fullName: 'Not Me' } } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('ACCESS_DENIED');
  });

  it('lets the owner, an admin and an internal service through', async () => {
    const admin = await tokenFor('the-admin', { admin: true });
    for (const headers of <Record<string, string>[]>[
      { authorization: `Bearer ${owner.token}` },
      { authorization: `Bearer ${admin}` },
      { 'x-internal-token': INTERNAL_TOKEN },
    ]) {
      for (const [method, path, body] of routes()) {
        const res = await call(api.url, method, path, { headers, body });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 200 });
      }
    }
    const other = uniqueIdentity();
    const byAdmin = await call(api.url, 'POST', '/api/v1/users', { token: admin, body: { ...other, profile: { fullName: 'By Admin' } } });
    expect(byAdmin.status).toBe(201);
  });

  it('does not treat a role of another name as admin', async () => {
    const notAdmin = await tokenFor('x', { claims: { realm_access: { roles: ['user', 'administrator'] } } });
    expect((await call(api.url, 'GET', `/api/v1/users/${owner.id}`, { token: notAdmin })).status).toBe(403);
  });

  it('rejects a wrong internal token even alongside a valid JWT', async () => {
    const res = await call(api.url, 'GET', `/api/v1/users/${owner.id}`, {
      headers: { 'x-internal-token': 'wrong-token-wrong-token', authorization: `Bearer ${owner.token}` },
    });
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('Internal token is invalid');
  });

  describe('with issuer, audience and a custom admin role configured', () => {
    let strict: RunningApp;
    beforeAll(async () => {
      strict = await startApp(
        testConfig({ AUTH_ISSUER: 'https://sso.example.com/realms/app', AUTH_AUDIENCE: 'user-service', AUTH_ADMIN_ROLE: 'ops' }),
      );
    });
    afterAll(() => strict.close());

    it('checks iss and aud, and reads the configured role', async () => {
      const claims = { iss: 'https://sso.example.com/realms/app', aud: 'user-service' };
      const good = await tokenFor(owner.keycloakId, { claims });
      expect((await call(strict.url, 'GET', `/api/v1/users/${owner.id}`, { token: good })).status).toBe(200);
      const wrongIssuer = await tokenFor(owner.keycloakId, { claims: { ...claims, iss: 'https://evil.example.com' } });
      expect((await call(strict.url, 'GET', `/api/v1/users/${owner.id}`, { token: wrongIssuer })).status).toBe(401);
      const wrongAudience = await tokenFor(owner.keycloakId, { claims: { ...claims, aud: 'billing' } });
      expect((await call(strict.url, 'GET', `/api/v1/users/${owner.id}`, { token: wrongAudience })).status).toBe(401);
      const ops = await tokenFor('operator', { claims: { ...claims, realm_access: { roles: ['ops'] } } });
      expect((await call(strict.url, 'GET', `/api/v1/users/${owner.id}`, { token: ops })).status).toBe(200);
    });
  });
});
