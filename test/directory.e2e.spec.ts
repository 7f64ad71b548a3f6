import { randomUUID } from 'node:crypto';
import { call, RunningApp, startApp, tokenFor } from './support/app';
import { sql } from './support/database';
import { addUser, listUsers, uniqueCompany, walkPages } from './support/directory';

/** GET /api/v1/users: filters, sorts, keyset pages, cursors. Each test filters on its own company or fragment. */
describe('user directory', () => {
  let api: RunningApp;
  let admin: { token: string };
  beforeAll(async () => {
    api = await startApp();
    admin = { token: await tokenFor('kc-directory-admin', { admin: true }) };
  });
  afterAll(() => api.close());

  const list = (params: Record<string, string>, auth: { token?: string; headers?: Record<string, string> } = admin) =>
    listUsers(api.url, params, auth);
  const ids = (users: any[]) => users.map((user) => user.id);
  const setLanguage = (id: string, language: string) =>
    call(api.url, 'PATCH', `/api/v1/users/${id}/preferences`, { ...admin, body: { language } });

  it('answers each filter alone with the users that match it, as GET /users/:id shows them', async () => {
    const company = uniqueCompany();
    const tag = randomUUID().slice(0, 8);
    const ann = await addUser(api.url, { fullName: `Ann ${tag}`, companyName: company });
    const bob = await addUser(api.url, { fullName: 'Bob Stone', companyName: company });
    const other = await addUser(api.url, { fullName: 'Cy Other' });
    await setLanguage(bob.id, 'kl-gl');
    const byId = await call(api.url, 'GET', `/api/v1/users/${ann.id}`, admin);

    const only = async (params: Record<string, string>) => ids((await list(params)).body.data);
    expect((await list({ q: tag })).body).toEqual({ data: [byId.body], nextCursor: null });
    expect(await only({ email: `  ${ann.email.toUpperCase()} ` })).toEqual([ann.id]);
    expect(await only({ id: `${ann.id},${other.id},${randomUUID()}` })).toEqual([other.id, ann.id]);
    expect(await only({ keycloakId: `${bob.keycloakId},kc-nobody` })).toEqual([bob.id]);
    expect(await only({ companyName: company.toUpperCase() })).toEqual([bob.id, ann.id]);
    const kl = (await walkPages(api.url, { language: 'kl-GL', limit: '100' }, admin)).users;
    expect(ids(kl)).toContain(bob.id);
    expect(kl.every((user) => user.preferences.language === 'kl-GL')).toBe(true);

    const since = (await walkPages(api.url, { createdFrom: ann.createdAt, limit: '100' }, admin)).users;
    expect(ids(since)).toEqual(expect.arrayContaining([ann.id, bob.id, other.id]));
    expect(since.every((user) => user.createdAt >= ann.createdAt)).toBe(true);
    const until = (await list({ createdTo: ann.createdAt, companyName: company })).body.data;
    expect(ids(until)).toEqual([ann.id]);
    const changed = (await walkPages(api.url, { updatedSince: bob.createdAt, limit: '100' }, admin)).users;
    expect(ids(changed)).toContain(bob.id);
    expect(changed.every((user) => user.updatedAt >= bob.createdAt)).toBe(true);
  });

  it('combines filters with AND', async () => {
    const company = uniqueCompany();
    const tag = randomUUID().slice(0, 8);
    const [a, b, c] = [
      await addUser(api.url, { fullName: `Ada ${tag}`, companyName: company }),
      await addUser(api.url, { fullName: `Ben ${tag}`, companyName: company }),
      await addUser(api.url, { fullName: `Cat ${tag}`, companyName: uniqueCompany() }),
    ];
    await setLanguage(a.id, 'fr');
    const only = async (params: Record<string, string>) => ids((await list(params)).body.data);
    expect(await only({ q: tag, companyName: company })).toEqual([b.id, a.id]);
    expect(await only({ q: tag, companyName: company, language: 'fr' })).toEqual([a.id]);
    expect(await only({ q: tag, createdFrom: b.createdAt, sort: 'createdAt' })).toEqual([b.id, c.id]);
    expect(await only({ q: tag, createdFrom: a.createdAt, createdTo: b.createdAt })).toEqual([b.id, a.id]);
    expect(await only({ id: [a.id, b.id, c.id].join(','), companyName: company, q: 'ben' })).toEqual([b.id]);
    expect(await only({ email: c.email, companyName: company })).toEqual([]);
    expect(await only({ q: tag, createdTo: '2000-01-01' })).toEqual([]);
  });

  it('finds a fragment of the name, email or company, ignoring case and accents, with LIKE wildcards taken literally', async () => {
    const tag = randomUUID().slice(0, 6);
    const emile = await addUser(api.url, { fullName: `Émile Ünal-${tag}`, companyName: `Société 100%_${tag}` });
    const mail = await addUser(api.url, { fullName: `Dana ${tag}`, companyName: `Straße ${tag}` }, `dana.x${tag}@example.com`);
    const only = async (q: string) => ids((await list({ q })).body.data);
    expect(await only(`emile unal-${tag}`)).toEqual([emile.id]);
    expect(await only(`ÉMILE ÜNAL-${tag}`)).toEqual([emile.id]);
    expect(await only(`societe 100%_${tag}`)).toEqual([emile.id]);
    expect(await only(`100__${tag}`)).toEqual([]);
    expect(await only(`x${tag}@exa`)).toEqual([mail.id]);
    expect(await only(`strasse ${tag}`)).toEqual([mail.id]);
    expect(await only(`${tag} dana.x`)).toEqual([]); // not across two fields (name, then email)
  });

  it('sorts by every key, ties broken by id, fullName ignoring case and accents', async () => {
    const company = uniqueCompany();
    const names = ['dora Lee', 'Émile Roux', 'anna Berg', 'Frank Moss', 'Bea Lund', 'anna berg'];
    const users = [];
    for (const fullName of names) users.push(await addUser(api.url, { fullName, companyName: company }));
    // updatedAt in another order than createdAt
    for (const user of [users[3], users[0], users[5]]) {
      const res = await call(api.url, 'PATCH', `/api/v1/users/${user.id}`, { ...admin, body: { profile: { bio: 'x' } } });
      Object.assign(user, res.body);
    }
    const fold = (name: string) => name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    const by = (key: (user: any) => string) => (x: any, y: any) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : x.id < y.id ? -1 : 1);
    const expected: Record<string, any[]> = {
      createdAt: [...users].sort(by((u) => u.createdAt)),
      updatedAt: [...users].sort(by((u) => u.updatedAt)),
      fullName: [...users].sort(by((u) => fold(u.profile.fullName))),
    };
    for (const [key, order] of Object.entries(expected)) {
      for (const [sort, want] of [
        [key, order],
        [`-${key}`, [...order].reverse()],
      ] as const) {
        for (const limit of ['100', '2']) {
          const { users: got } = await walkPages(api.url, { companyName: company, sort, limit }, admin);
          expect({ sort, limit, ids: ids(got) }).toEqual({ sort, limit, ids: ids(want) });
        }
      }
    }
    expect(ids((await list({ companyName: company })).body.data)).toEqual(ids(expected.createdAt).reverse());
  });

  it('pages by keyset: each page after the last row of the one before, nextCursor and Link until the last', async () => {
    const company = uniqueCompany();
    const users = [];
    for (let i = 0; i < 7; i++) users.push(await addUser(api.url, { fullName: `Page ${i}`, companyName: company }));
    const first = await list({ companyName: company, limit: '3', include: 'total' });
    expect(first.body).toMatchObject({ total: 7, totalIsEstimate: false });
    expect(first.body.data).toHaveLength(3);
    expect(first.headers.get('link')).toBe(
      `</api/v1/users?companyName=${encodeURIComponent(company).replace(/%20/g, '+')}&limit=3&include=total&cursor=${first.body.nextCursor}>; rel="next"`,
    );
    const walked = await walkPages(api.url, { companyName: company, limit: '3' }, admin);
    expect(walked.pages).toBe(3);
    expect(ids(walked.users)).toEqual(ids(users).reverse());
    // The limit may change from page to page; the filters and sort may not.
    const second = await list({ companyName: company, limit: '10', cursor: first.body.nextCursor });
    expect(ids(second.body.data)).toEqual(ids(users).reverse().slice(3));
    expect(second.body.nextCursor).toBeNull();
  });

  it.each(['-createdAt', 'createdAt', 'fullName', '-fullName', 'updatedAt', '-updatedAt'])(
    'walks all pages (sort=%s) while another client creates, renames and deletes users: no user twice, none that stayed unchanged missing',
    async (sort) => {
      const company = uniqueCompany('Walk');
      const users: any[] = [];
      for (let i = 0; i < 40; i++) users.push(await addUser(api.url, { fullName: `Walker ${(i * 7919) % 40}`, companyName: company }));
      // Some last changed hours ago (they are matched without the snapshot check, see user-directory.sql.ts).
      await sql(`UPDATE users SET updated_at = updated_at - interval '3 hours' WHERE id = ANY($1)`, [ids(users.slice(0, 10))]);

      const touched = new Set<string>();
      let writes = 0;
      let writing = true;
      const writer = (async () => {
        for (let n = 0; writing; n++) {
          // Users 10 to 29 change; 0-9 (changed hours ago) and 30-39 (just created) stay as they were.
          const user = users[10 + ((n * 7) % 20)];
          touched.add(user.id);
          if (n % 3 === 0) await addUser(api.url, { fullName: `Aaron New ${n}`, companyName: company });
          else if (n % 7 === 0) await call(api.url, 'DELETE', `/api/v1/users/${user.id}`, admin);
          else {
            const fullName = n % 2 ? `Zed Renamed ${n}` : `Aaa Renamed ${n}`;
            await call(api.url, 'PATCH', `/api/v1/users/${user.id}`, { ...admin, body: { profile: { fullName } } });
          }
          writes++;
        }
      })();
      // Between two pages at least one write lands, however the machine schedules the two clients.
      const afterNextWrite = async () => {
        const target = writes + 1;
        for (let waited = 0; writes < target && waited < 2000; waited += 5) await new Promise((r) => setTimeout(r, 5));
      };
      const walked = await walkPages(api.url, { companyName: company, sort, limit: '4' }, admin, afterNextWrite);
      writing = false;
      await writer;

      const seen = ids(walked.users);
      expect(seen.length - new Set(seen).size).toBe(0);
      const unchanged = ids(users).filter((id) => !touched.has(id));
      expect(unchanged.length).toBeGreaterThan(5);
      expect(unchanged.filter((id) => !seen.includes(id))).toEqual([]);
      expect(touched.size).toBeGreaterThan(5);
    },
    30_000,
  );

  it('refuses unknown, repeated and malformed parameters with 400 VALIDATION_FAILED naming each', async () => {
    const cases: [string, string[]][] = [
      ['colour=red', ['colour']],
      ['q=a', ['q']],
      [`q=${'x'.repeat(101)}`, ['q']],
      ['q=%20a%20', ['q']],
      ['q=ab%0Acd', ['q']],
      ['limit=0', ['limit']],
      ['limit=101', ['limit']],
      ['limit=2.5', ['limit']],
      ['createdFrom=2026-02-30', ['createdFrom']],
      ['createdTo=yesterday', ['createdTo']],
      ['updatedSince=2026-01-01T10:00', ['updatedSince']],
      ['createdFrom=2026-01-01T25:00:00Z', ['createdFrom']],
      ['id=123', ['id']],
      [`id=${Array.from({ length: 101 }, () => randomUUID()).join(',')}`, ['id']],
      ['keycloakId=a,,b', ['keycloakId']],
      ['sort=name', ['sort']],
      ['status=gone', ['status']],
      ['include=everything', ['include']],
      ['language=not%20a%20tag', ['language']],
      ['companyName=%20', ['companyName']],
      ['q=ab&q=cd', ['q']],
      ['limit=500&sort=-id&extra=1', ['extra', 'sort', 'limit']],
    ];
    for (const [query, fields] of cases) {
      const res = await call(api.url, 'GET', `/api/v1/users?${query}`, admin);
      expect({ query, status: res.status, code: res.body.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
      expect({ query, fields: res.body.details.map((d: any) => d.field).sort() }).toEqual({ query, fields: [...fields].sort() });
    }
    const ok = await list({
      createdFrom: '2026-01-31T10:30:00+01:00',
      createdTo: '2026-02-01',
      updatedSince: '2026-01-01T00:00:00.123456Z',
    });
    expect(ok.status).toBe(200);
    // An unencoded + in an offset arrives as a space.
    expect((await call(api.url, 'GET', '/api/v1/users?createdFrom=2026-01-31T10:30:00+01:00', admin)).status).toBe(200);
  });

  it('answers 400 INVALID_CURSOR for a cursor that is garbage, altered, or made for other filters or another sort', async () => {
    const company = uniqueCompany();
    for (let i = 0; i < 3; i++) await addUser(api.url, { fullName: `Cursor ${i}`, companyName: company });
    const first = await list({ companyName: company, limit: '1' });
    const cursor: string = first.body.nextCursor;
    const named = await list({ companyName: company, limit: '1', sort: 'fullName' });
    const [body, mac] = cursor.split('.');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...payload, i: "x'; DROP TABLE users; --" })).toString('base64url');

    const cases: [string, Record<string, string>][] = [
      ['garbage', { companyName: company, cursor: 'not-a-cursor' }],
      ['empty', { companyName: company, cursor: '' }],
      ['altered body', { companyName: company, cursor: `${flip(body, 5)}.${mac}` }],
      ['altered mac', { companyName: company, cursor: `${body}.${flip(mac, 3)}` }],
      ['forged payload', { companyName: company, cursor: `${forged}.${mac}` }],
      ['other filters', { companyName: uniqueCompany(), cursor }],
      ['another filter added', { companyName: company, q: 'cursor', cursor }],
      ['another sort', { companyName: company, sort: 'createdAt', cursor }],
      ['a moving sort', { companyName: company, sort: 'fullName', cursor }],
      ['from a moving sort', { companyName: company, cursor: named.body.nextCursor }],
    ];
    for (const [what, params] of cases) {
      const res = await list(params);
      expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status: 400, code: 'INVALID_CURSOR' });
    }
    expect((await list({ companyName: company.toLowerCase(), limit: '5', cursor })).status).toBe(200);
  });
});
