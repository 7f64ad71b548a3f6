import { call, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { sql } from './support/database';

describe('bad input gets a 4xx in the error format', () => {
  let api: RunningApp;
  let admin: string;

  beforeAll(async () => {
    api = await startApp(testConfig({ HTTP_BODY_LIMIT_BYTES: '16384' }));
    admin = await tokenFor('admin', { admin: true });
  });
  afterAll(() => api.close());

  function expectErrorBody(res: { status: number; body: any }, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.body).toEqual({
      statusCode: status,
      error: expect.any(String),
      code,
      message: expect.any(String),
      ...(res.body.details ? { details: expect.any(Array) } : {}),
      timestamp: expect.any(String),
      path: expect.stringMatching(/^\//),
      traceId: expect.any(String),
    });
  }

  it('malformed JSON → 400', async () => {
    const res = await call(api.url, 'POST', '/api/v1/users', { token: admin, body: '{"keycloakId": ' });
    expectErrorBody(res, 400, 'BAD_REQUEST');
  });

  it('a JSON value that is not an object → 400', async () => {
    for (const body of ['[]', 'null', '"text"', '42']) {
      const res = await call(api.url, 'POST', '/api/v1/users', { token: admin, body });
      expectErrorBody(res, 400, res.body.code);
      expect(['VALIDATION_FAILED', 'BAD_REQUEST']).toContain(res.body.code);
    }
  });

  it('unknown fields → 400 naming them', async () => {
    const res = await call(api.url, 'POST', '/api/v1/users', {
      token: admin,
      body: { keycloakId: 'k-unknown', email: 'unknown@example.com', profile: { fullName: 'Ann', avatarUrl: 'x' }, role: 'admin' },
    });
    expectErrorBody(res, 400, 'VALIDATION_FAILED');
    expect(res.body.details).toEqual(
      expect.arrayContaining([
        { field: 'role', message: 'is not an allowed field' },
        { field: 'profile.avatarUrl', message: 'is not an allowed field' },
      ]),
    );
  });

  it('wrong types and rule violations → 400 with field details', async () => {
    const wrongTypes = await call(api.url, 'POST', '/api/v1/users', {
      token: admin,
      body: { keycloakId: 5, email: true, profile: 'Ann' },
    });
    expectErrorBody(wrongTypes, 400, 'VALIDATION_FAILED');
    expect(wrongTypes.body.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['keycloakId', 'email', 'profile']));

    const rules = await call(api.url, 'POST', '/api/v1/users', {
      token: admin,
      body: { keycloakId: 'k-rules', email: 'nope', profile: { fullName: 'A', bio: 'b'.repeat(2001) } },
    });
    expectErrorBody(rules, 400, 'VALIDATION_FAILED');
    expect(rules.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['email', 'profile.bio', 'profile.fullName']);
  });

  it('NUL characters never reach the database', async () => {
    const res = await call(api.url, 'POST', '/api/v1/users', {
      token: admin,
      body: { keycloakId: 'k-nul', email: 'nul@example.com', profile: { fullName: 'An\u0000n' } },
    });
    expectErrorBody(res, 400, 'VALIDATION_FAILED');
    expect(await sql("SELECT 1 FROM users WHERE keycloak_id = 'k-nul'")).toHaveLength(0);
  });

  it('a non-UUID id → 400, an unknown UUID → 404', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/users/not-a-uuid'],
      ['PATCH', '/api/v1/users/123'],
      ['DELETE', "/api/v1/users/1'%20OR%201=1"],
      ['GET', '/api/v1/users/zzz/preferences'],
    ]) {
      const res = await call(api.url, method, path, { token: admin, body: method === 'PATCH' ? {} : undefined });
      expectErrorBody(res, 400, 'VALIDATION_FAILED');
      expect(res.body.details).toEqual([{ field: 'id', message: 'must be a UUID' }]);
    }
    const missing = await call(api.url, 'GET', '/api/v1/users/00000000-0000-4000-8000-000000000000', { token: admin });
    expectErrorBody(missing, 404, 'USER_NOT_FOUND');
    expect(missing.body.message).toBe('User with ID 00000000-0000-4000-8000-000000000000 not found');
  });

  it('an oversized body → 413', async () => {
    const res = await call(api.url, 'POST', '/api/v1/users', {
      token: admin,
      body: { keycloakId: 'k-big', email: 'big@example.com', profile: { fullName: 'Ann', bio: 'x'.repeat(20000) } },
    });
    expectErrorBody(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('an unsupported content type → 415', async () => {
    const res = await call(api.url, 'POST', '/api/v1/users', {
      token: admin,
      body: '<user><keycloakId>k</keycloakId></user>',
      headers: { 'content-type': 'application/xml' },
    });
    expectErrorBody(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('an unknown route → 404 in the same format', async () => {
    const res = await call(api.url, 'GET', '/api/v1/nothing-here', { token: admin });
    expectErrorBody(res, 404, 'NOT_FOUND');
  });

  it('carries the trace id from traceparent or X-Request-Id into the error and the response header', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await call(api.url, 'GET', '/api/v1/users/not-a-uuid', {
      token: admin,
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.body.traceId).toBe(traceId);
    expect(res.headers.get('x-request-id')).toBe(traceId);
    const byRequestId = await call(api.url, 'GET', '/api/v1/users/not-a-uuid', { token: admin, headers: { 'x-request-id': 'req-42' } });
    expect(byRequestId.body.traceId).toBe('req-42');
  });
});
