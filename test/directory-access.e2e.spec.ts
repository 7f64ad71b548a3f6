import { randomUUID } from 'node:crypto';
import { call, createUser, RunningApp, startApp, tokenFor } from './support/app';
import { addUser, INTERNAL, listUsers, uniqueCompany } from './support/directory';

/** Who may use the directory and GET /users/by-email/:email. */
describe('user directory: access', () => {
  let api: RunningApp;
  let admin: { token: string };
  beforeAll(async () => {
    api = await startApp();
    admin = { token: await tokenFor('kc-directory-access-admin', { admin: true }) };
  });
  afterAll(() => api.close());

  /** A person's token, its `email` claim `email` (none when undefined). */
  const person = async (sub: string, email?: unknown) => ({ token: await tokenFor(sub, { claims: email === undefined ? {} : { email } }) });
  const byEmail = (email: string, auth: { token?: string; headers?: Record<string, string> }, headers: Record<string, string> = {}) =>
    call(api.url, 'GET', `/api/v1/users/by-email/${encodeURIComponent(email)}`, { ...auth, headers: { ...auth.headers, ...headers } });

  it('lists for admins and internal callers; a person gets 403 (before the parameters are looked at), no token 401', async () => {
    const company = uniqueCompany();
    const user = await addUser(api.url, { fullName: 'Listed Person', companyName: company });
    for (const auth of [admin, { headers: INTERNAL }]) {
      const res = await listUsers(api.url, { companyName: company }, auth);
      expect(res.status).toBe(200);
      expect(res.body.data.map((u: any) => u.id)).toEqual([user.id]);
    }
    const own = await person(user.keycloakId, user.email);
    for (const params of [{}, { companyName: company }, { colour: 'red' }] as Record<string, string>[]) {
      const res = await listUsers(api.url, params, own);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'ACCESS_DENIED', path: '/api/v1/users' });
    }
    expect((await listUsers(api.url, {}, {})).status).toBe(401);
  });

  it('shows deleted users with status=deleted, to admin tokens only', async () => {
    const company = uniqueCompany();
    const live = await addUser(api.url, { fullName: 'Still Here', companyName: company });
    const gone = await addUser(api.url, { fullName: 'Gone Away', companyName: company });
    expect((await call(api.url, 'DELETE', `/api/v1/users/${gone.id}`, admin)).status).toBe(200);

    const deleted = await listUsers(api.url, { companyName: company, status: 'deleted' }, admin);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual([expect.objectContaining({ id: gone.id, status: 'deleted' })]);
    expect((await listUsers(api.url, { email: gone.email, status: 'deleted' }, admin)).body.data.map((u: any) => u.id)).toEqual([gone.id]);
    for (const params of [{ companyName: company }, { companyName: company, status: 'active' }] as Record<string, string>[]) {
      expect((await listUsers(api.url, params, admin)).body.data.map((u: any) => u.id)).toEqual([live.id]);
    }
    for (const auth of [{ headers: INTERNAL }, await person(live.keycloakId, live.email)]) {
      const res = await listUsers(api.url, { companyName: company, status: 'deleted' }, auth);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'ACCESS_DENIED' });
    }
  });

  it('shows suspended users with status=suspended (admins and services), erased users never', async () => {
    const company = uniqueCompany();
    const live = await addUser(api.url, { fullName: 'Still Active', companyName: company });
    const held = await addUser(api.url, { fullName: 'Held Back', companyName: company });
    const erased = await addUser(api.url, { fullName: 'Soon Erased', companyName: company });
    const suspend = await call(api.url, 'POST', `/api/v1/users/${held.id}/suspend`, { ...admin, body: { reason: 'chargeback' } });
    expect(suspend.status).toBe(200);
    expect((await call(api.url, 'POST', `/api/v1/users/${erased.id}/erase`, admin)).status).toBe(200);

    for (const auth of [admin, { headers: INTERNAL }]) {
      const suspended = await listUsers(api.url, { companyName: company, status: 'suspended' }, auth);
      expect(suspended.body.data).toEqual([expect.objectContaining({ id: held.id, status: 'suspended' })]);
    }
    expect((await listUsers(api.url, { companyName: company }, admin)).body.data.map((u: any) => u.id)).toEqual([live.id]);
    const everyStatus = [];
    for (const status of ['active', 'suspended', 'deleted']) {
      everyStatus.push(...(await listUsers(api.url, { id: erased.id, status }, admin)).body.data);
    }
    expect(everyStatus).toEqual([]);
  });

  it('fetches a batch of up to 100 ids in one page; unknown ids are absent', async () => {
    const company = uniqueCompany();
    const users = [];
    for (let i = 0; i < 30; i++) users.push(await addUser(api.url, { fullName: `Batch ${i}`, companyName: company }));
    const asked = [...users.map((u) => u.id), ...Array.from({ length: 70 }, () => randomUUID())];
    const res = await listUsers(api.url, { id: asked.join(',') }, { headers: INTERNAL });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.data.map((u: any) => u.id).sort()).toEqual(users.map((u) => u.id).sort());
    const byKeycloak = await listUsers(api.url, { keycloakId: users.map((u) => u.keycloakId).join(',') }, { headers: INTERNAL });
    expect(byKeycloak.body.data).toHaveLength(30);
  });

  it('by email: a person finds their own address (normalised, ETag, 304), admins and services any', async () => {
    const { user, keycloakId, email } = await createUser(api.url, { profile: { fullName: 'Mail Owner' } });
    const own = await person(keycloakId, `  ${email.toUpperCase()}`);
    const res = await byEmail(` ${email.toUpperCase()} `, own);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(user);
    expect(res.headers.get('etag')).toBe('"1"');
    expect((await byEmail(email, own, { 'if-none-match': '"1"' })).status).toBe(304);
    for (const auth of [admin, { headers: INTERNAL }]) expect((await byEmail(email, auth)).body.id).toBe(user.id);
    expect((await byEmail(`nobody-${randomUUID()}@example.com`, admin)).body.code).toBe('USER_NOT_FOUND');
  });

  it("by email: another address is 403 whether or not anyone has it, and so is one's own without an email claim", async () => {
    const owner = await createUser(api.url);
    const other = await createUser(api.url);
    const own = await person(owner.keycloakId, owner.email);
    const taken = await byEmail(other.email, own);
    const free = await byEmail(`free-${randomUUID()}@example.com`, own);
    for (const res of [taken, free]) {
      expect({ status: res.status, code: res.body.code, message: res.body.message }).toEqual({
        status: 403,
        code: 'ACCESS_DENIED',
        message: 'You may not access this resource',
      });
    }
    expect((await byEmail(owner.email, await person(owner.keycloakId))).status).toBe(403);
    // The claim names the address, but the record is someone else's (another Keycloak id).
    expect((await byEmail(other.email, await person(owner.keycloakId, other.email))).status).toBe(403);
  });

  it('by email: a deleted user is 404; an email claim that is not a non-empty string makes the token 401', async () => {
    const { id, keycloakId, email, token } = await createUser(api.url);
    await call(api.url, 'DELETE', `/api/v1/users/${id}`, { token });
    expect((await byEmail(email, admin)).status).toBe(404);
    for (const claim of [42, null, '', '  ', { address: email }, [email]]) {
      const res = await byEmail(email, await person(keycloakId, claim));
      expect({ claim, status: res.status, code: res.body.code }).toEqual({ claim, status: 401, code: 'UNAUTHENTICATED' });
      expect((await call(api.url, 'GET', `/api/v1/users/${id}`, await person(keycloakId, claim))).status).toBe(401);
    }
  });
});
