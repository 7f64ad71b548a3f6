import { Logger } from 'nestjs-pino';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig } from './support/app';
import { sql } from './support/database';

describe('logs', () => {
  let api: RunningApp;
  const output: string[] = [];
  const lines = () => output.join('').split('\n').filter(Boolean);
  const records = () => lines().map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    // debug: every line the service can write, including one per request.
    api = await startApp(testConfig({ LOG_LEVEL: 'debug' }), { logDestination: { write: (chunk: string) => output.push(chunk) } });
  });
  afterAll(() => api.close());

  it('are one JSON object per line with timestamp, level, service, message and the traceId', async () => {
    const res = await call(api.url, 'GET', '/health/live', { headers: { 'x-request-id': 'trace-json-lines' } });
    expect(res.status).toBe(200);
    expect(lines().length).toBeGreaterThan(0);
    for (const record of records()) {
      expect(record).toMatchObject({
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        level: expect.stringMatching(/^(trace|debug|info|warn|error|fatal)$/),
        service: 'user-service',
        message: expect.any(String),
      });
    }
    expect(records()).toContainEqual(
      expect.objectContaining({ traceId: 'trace-json-lines', route: '/health/live', statusCode: 200, level: 'debug' }),
    );
  });

  it('record every change to a user with action, userId and traceId, and never contact details or credentials', async () => {
    const phone = '+1 555 0199 777';
    const traceparent = (n: number) => `00-${String(n).padStart(32, 'a')}-00f067aa0ba902b7-01`;
    const headers = (n: number) => ({ traceparent: traceparent(n), cookie: 'session=cookie-secret-value' });

    const { id, token, ...identity } = await createUser(api.url, { profile: { fullName: 'Log Test', phone }, headers: headers(1) });
    const patched = await call(api.url, 'PATCH', `/api/v1/users/${id}`, { token, headers: headers(2), body: { profile: { bio: 'b' } } });
    expect(patched.status).toBe(200);
    const prefs = await call(api.url, 'PATCH', `/api/v1/users/${id}/preferences`, { token, headers: headers(3), body: { language: 'de' } });
    expect(prefs.status).toBe(200);
    // Errors on the way: malformed JSON that quotes the email, a duplicate, an internal call.
    const malformed = await call(api.url, 'POST', '/api/v1/users', { token, body: `{"email": "${identity.email}", "phone": "${phone}",` });
    expect(malformed.status).toBe(400);
    const duplicate = await call(api.url, 'POST', '/api/v1/users', {
      headers: { 'x-internal-token': INTERNAL_TOKEN },
      body: { keycloakId: 'other-kc', email: identity.email, profile: { fullName: 'Dup' } },
    });
    expect(duplicate.status).toBe(409);
    const deleted = await call(api.url, 'DELETE', `/api/v1/users/${id}`, { token, headers: headers(4) });
    expect(deleted.status).toBe(200);

    const actions = records().filter((r) => r.action);
    expect(actions.map(({ action, userId, traceId, level }) => ({ action, userId, traceId, level }))).toEqual([
      { action: 'user_create', userId: id, traceId: traceparent(1).split('-')[1], level: 'info' },
      { action: 'user_update', userId: id, traceId: traceparent(2).split('-')[1], level: 'info' },
      { action: 'preferences_update', userId: id, traceId: traceparent(3).split('-')[1], level: 'info' },
      { action: 'user_delete', userId: id, traceId: traceparent(4).split('-')[1], level: 'info' },
    ]);
    expect(actions[0].message).toBe('User created');

    const everything = output.join('');
    if (process.env.SHOW_LOGS) console.log(everything);
    for (const secret of [identity.email, phone, token, INTERNAL_TOKEN, 'cookie-secret-value', 'Log Test']) {
      expect({ secret, found: everything.includes(secret) }).toEqual({ secret, found: false });
    }
  });

  it("log a failed database write without the row's values", async () => {
    const { id, token, ...identity } = await createUser(api.url, { profile: { fullName: 'Row Values', phone: '+1 555 0100 123' } });
    // PostgreSQL rejects the UPDATE: its error carries the row (detail).
    await sql("ALTER TABLE users ADD CONSTRAINT test_log_db_failure CHECK (bio IS DISTINCT FROM 'explode') NOT VALID");
    try {
      const failed = await call(api.url, 'PATCH', `/api/v1/users/${id}`, { token, body: { profile: { bio: 'explode' } } });
      expect(failed.status).toBe(500);
    } finally {
      await sql('ALTER TABLE users DROP CONSTRAINT test_log_db_failure');
    }
    const failure = records().find((r) => r.message === 'Request failed' && JSON.stringify(r).includes('test_log_db_failure'));
    expect(failure).toMatchObject({ err: { code: '23514', constraint: 'test_log_db_failure', table: 'users' }, level: 'error' });
    const text = JSON.stringify(failure);
    for (const value of [identity.email, identity.keycloakId, '+1 555 0100 123', 'Row Values', 'explode']) {
      expect({ value, found: text.includes(value) }).toEqual({ value, found: false });
    }
  });

  it('redact contact details and credentials even when an object carrying them is logged', async () => {
    const logger = api.app.get(Logger);
    logger.warn({ email: 'leak@example.com', user: { phone: '555-LEAK' }, req: { headers: { authorization: 'Bearer leak' } } }, 'oops');
    const last = records().at(-1)!;
    expect(last).toMatchObject({ email: '[redacted]', user: { phone: '[redacted]' }, req: { headers: { authorization: '[redacted]' } } });
  });
});
