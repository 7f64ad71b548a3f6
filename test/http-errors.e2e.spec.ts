import { STATUS_CODES } from 'node:http';
import { createApp } from '../src/app';
import { call, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { sql } from './support/database';
import { exchange, RawResponse } from './support/raw-http';

/** The whole error body, its `error` the status's reason phrase, its traceId the X-Request-Id header. */
function expectErrorBody(res: { status: number; body: any; headers: Headers | Record<string, string> }, status: number, code: string) {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.body).toEqual({
    statusCode: status,
    error: STATUS_CODES[status],
    code,
    message: expect.any(String),
    ...(res.body.details ? { details: expect.any(Array) } : {}),
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    path: expect.stringMatching(/^\//),
    traceId: expect.stringMatching(/^\S+$/),
  });
  const requestId = res.headers instanceof Headers ? res.headers.get('x-request-id') : res.headers['x-request-id'];
  expect(requestId).toBe(res.body.traceId);
}

describe('bad input gets a 4xx in the error format', () => {
  let api: RunningApp;
  let admin: string;

  beforeAll(async () => {
    api = await startApp(testConfig({ HTTP_BODY_LIMIT_BYTES: '16384' }));
    admin = await tokenFor('admin', { admin: true });
  });
  afterAll(() => api.close());

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
    expect(wrongTypes.body.details.map((d: { field: string }) => d.field)).toEqual(
      expect.arrayContaining(['keycloakId', 'email', 'profile']),
    );

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

  it('an oversized body sent in chunks, without a Content-Length → 413', async () => {
    const chunk = `${'x'.repeat(10_000).length.toString(16)}\r\n${'x'.repeat(10_000)}\r\n`;
    const [res] = await exchange(api.url, [
      `POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      chunk,
      chunk,
    ]);
    expectErrorBody(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('JSON endpoints take JSON only (UTF-8, also +json types): anything else → 415', async () => {
    const multipart = '--b\r\nContent-Disposition: form-data; name="keycloakId"\r\n\r\nk\r\n--b--\r\n';
    for (const [contentType, body] of [
      ['text/plain', '{"keycloakId": "k"}'],
      ['application/xml', '<user><keycloakId>k</keycloakId></user>'],
      ['text/xml', '<user/>'],
      ['application/x-www-form-urlencoded', 'keycloakId=k&email=e%40example.com'],
      ['multipart/form-data; boundary=b', multipart],
      ['application/json; charset=iso-8859-1', '{"keycloakId": "k\u00e9"}'],
      ['application/octet-stream', '{}'],
      ['', '{}'],
    ]) {
      for (const [method, path] of [
        ['POST', '/api/v1/users'],
        ['PATCH', '/api/v1/users/00000000-0000-4000-8000-000000000000'],
      ]) {
        const res = await call(api.url, method, path, { token: admin, body, headers: { 'content-type': contentType } });
        expectErrorBody(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
    }
    // Reached the validation, so parsed.
    for (const contentType of ['application/json; charset=UTF-8', 'application/merge-patch+json', 'Application/JSON']) {
      const res = await call(api.url, 'POST', '/api/v1/users', {
        token: admin,
        body: '{"keycloakId": 1}',
        headers: { 'content-type': contentType },
      });
      expectErrorBody(res, 400, 'VALIDATION_FAILED');
    }
  });

  it('an empty JSON body or a broken Content-Length → 400', async () => {
    const empty = await call(api.url, 'POST', '/api/v1/users', { token: admin, body: '', headers: { 'content-type': 'application/json' } });
    expectErrorBody(empty, 400, 'BAD_REQUEST');
    const [badLength] = await exchange(api.url, [
      `POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}`,
    ]);
    expectErrorBody(badLength, 400, 'BAD_REQUEST');
    expect(badLength.headers.connection).toBe('close');
  });

  it('a path parameter longer than any Keycloak id → 414, with or without a token', async () => {
    // The longest Keycloak id: 255 characters, each percent-encoded (765), is looked up.
    const longestId = await call(api.url, 'GET', `/api/v1/users/by-keycloak/${'%25'.repeat(255)}`, { token: admin });
    expectErrorBody(longestId, 404, 'USER_NOT_FOUND');
    for (const token of [admin, undefined]) {
      const res = await call(api.url, 'GET', `/api/v1/users/${'a'.repeat(766)}`, { token });
      expectErrorBody(res, 414, 'URI_TOO_LONG');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('a malformed percent-encoding in the path → 400', async () => {
    const res = await call(api.url, 'GET', '/api/v1/users/%E0%A4%A', { token: admin });
    expectErrorBody(res, 400, 'BAD_REQUEST');
  });

  it('a known path with a method it does not have → 405 with Allow; an unknown path stays 404', async () => {
    for (const [method, path, allow] of [
      ['PUT', '/api/v1/users', 'GET, HEAD, POST'],
      ['DELETE', '/api/v1/users', 'GET, HEAD, POST'],
      ['POST', '/health/live', 'GET, HEAD'],
      ['PUT', '/api/v1/users/00000000-0000-4000-8000-000000000000', 'GET, HEAD, PATCH, DELETE'],
      ['DELETE', '/api/v1/users/00000000-0000-4000-8000-000000000000/stats', 'GET, HEAD'],
      ['GET', '/api/v1/users/00000000-0000-4000-8000-000000000000/avatar?x=1', 'POST, DELETE'],
    ]) {
      const res = await call(api.url, method, path, { token: admin });
      expectErrorBody(res, 405, 'METHOD_NOT_ALLOWED');
      expect({ path, allow: res.headers.get('allow') }).toEqual({ path, allow });
      expect(res.body.message).toBe(`${method} is not allowed here; use ${allow}`);
    }
    expectErrorBody(await call(api.url, 'DELETE', '/api/v1/nothing-here', { token: admin }), 404, 'NOT_FOUND');
    // A route of this method that finds nothing (Swagger UI's files) is a 404 too.
    expectErrorBody(await call(api.url, 'GET', '/docs/no-such-file.css'), 404, 'NOT_FOUND');
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

describe('what the HTTP server answers itself comes in the error format too', () => {
  let api: RunningApp;
  beforeAll(async () => {
    const app = await createApp(testConfig());
    // Node checks header timeouts every 30 s by default; here every 50 ms, against a 300 ms limit.
    Object.assign(app.getHttpServer(), { headersTimeout: 300, connectionsCheckingInterval: 50 });
    // Routes of this test only: an answer that cannot be serialized, a hook that fails.
    const fastify = app.getHttpAdapter().getInstance();
    fastify.get('/test/unserializable', async () => ({ count: BigInt(1) }));
    fastify.get('/test/failing-hook', { preHandler: (_request, _reply, done) => done(new Error('hook failed')) }, async () => 'never');
    await app.listen(0, '127.0.0.1');
    api = { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`, close: () => app.close() };
  });
  afterAll(() => api.close());

  async function only(steps: (string | number)[]): Promise<RawResponse> {
    const responses = await exchange(api.url, steps);
    expect(responses).toHaveLength(1);
    expect(responses[0].headers.connection).toBe('close');
    return responses[0];
  }

  it('a malformed request → 400', async () => {
    for (const request of ['GARBAGE\r\n\r\n', 'GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n']) {
      expectErrorBody(await only([request]), 400, 'BAD_REQUEST');
    }
  });

  it('an HTTP/1.1 request without Host → 400', async () => {
    const res = await only(['GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n']);
    expectErrorBody(res, 400, 'BAD_REQUEST');
    expect(res.body.message).toBe('An HTTP/1.1 request needs a Host header');
  });

  it('headers over 16 KB → 431; a URL over 16 KB → 414', async () => {
    const bigHeader = await only([`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    expectErrorBody(bigHeader, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
    const longUrl = await only([`GET /api/v1/users?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    expectErrorBody(longUrl, 414, 'URI_TOO_LONG');
    expect(longUrl.body.path).toBe('/api/v1/users');
  });

  it('an Expect the service does not know → 417', async () => {
    const res = await only(['POST /api/v1/users HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n']);
    expectErrorBody(res, 417, 'EXPECTATION_FAILED');
    expect(res.body.path).toBe('/api/v1/users');
  });

  it('an answer that cannot be serialized, or a failing hook → 500', async () => {
    for (const path of ['/test/unserializable', '/test/failing-hook']) {
      const res = await call(api.url, 'GET', path);
      expectErrorBody(res, 500, 'INTERNAL_ERROR');
      expect(res.body.message).toBe('Internal server error');
    }
  });

  it('headers that do not arrive within headersTimeout → 408', async () => {
    const res = await only(['GET /health/live HTTP/1.1\r\nHost: x\r\n', 1000]);
    expectErrorBody(res, 408, 'REQUEST_TIMEOUT');
  });
});
