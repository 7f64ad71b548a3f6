import { call, INTERNAL_TOKEN, RunningApp, startApp, testConfig, tokenFor, uniqueIdentity } from './support/app';

describe('protection', () => {
  describe('security headers and CORS', () => {
    let api: RunningApp;
    let corsApi: RunningApp;
    beforeAll(async () => {
      api = await startApp();
      corsApi = await startApp(testConfig({ CORS_ORIGINS: 'https://app.example.com' }));
    });
    afterAll(async () => {
      await api.close();
      await corsApi.close();
    });

    it('sends security headers on API responses, errors included', async () => {
      for (const res of [await call(api.url, 'GET', '/health/live'), await call(api.url, 'GET', '/api/v1/users/x')]) {
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
        expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
        expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
        expect(res.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
      }
    });

    it('sends no CORS headers unless CORS_ORIGINS allows the origin', async () => {
      const preflight = (url: string, origin: string) =>
        fetch(`${url}/api/v1/users`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
        });
      expect((await preflight(api.url, 'https://app.example.com')).headers.get('access-control-allow-origin')).toBeNull();

      const allowed = await preflight(corsApi.url, 'https://app.example.com');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      expect((await preflight(corsApi.url, 'https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();

      const res = await fetch(`${corsApi.url}/health/live`, { headers: { origin: 'https://app.example.com' } });
      expect(res.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    });
  });

  describe('rate limit', () => {
    let api: RunningApp;
    beforeAll(async () => {
      api = await startApp(testConfig({ RATE_LIMIT_PER_MINUTE: '3' }));
    });
    afterAll(() => api.close());

    it('allows each person RATE_LIMIT_PER_MINUTE requests across routes, then answers 429 in the error format', async () => {
      const { keycloakId } = uniqueIdentity('rl');
      const token = await tokenFor(keycloakId);
      const paths = [`/api/v1/users/by-keycloak/${keycloakId}`, '/api/v1/users/00000000-0000-4000-8000-000000000000', '/api/v1/users/x'];
      const remaining: (string | null)[] = [];
      for (const path of paths) {
        const res = await call(api.url, 'GET', path, { token });
        expect(res.status).not.toBe(429);
        expect(res.headers.get('ratelimit-limit')).toBe('3');
        remaining.push(res.headers.get('ratelimit-remaining'));
      }
      expect(remaining).toEqual(['2', '1', '0']);

      const limited = await call(api.url, 'GET', paths[0], { token });
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/^Too many requests: at most 3 a minute; retry in \d+ s$/),
        timestamp: expect.any(String),
        path: paths[0],
        traceId: limited.headers.get('x-request-id'),
      });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);

      // Another person has a budget of their own.
      const other = await call(api.url, 'GET', paths[1], { token: await tokenFor(`${keycloakId}-other`) });
      expect(other.status).toBe(404);
    });

    it('limits callers without a valid token by IP, exempts internal callers and the operations endpoints', async () => {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(api.url, 'GET', '/api/v1/users/x', { token: 'not-a-jwt' })).status);
      expect(statuses).toEqual([401, 401, 401, 429]);

      for (let i = 0; i < 5; i++) {
        const res = await call(api.url, 'GET', '/api/v1/users/00000000-0000-4000-8000-000000000000', {
          headers: { 'x-internal-token': INTERNAL_TOKEN },
        });
        expect(res.status).toBe(404);
        expect(res.headers.get('ratelimit-limit')).toBeNull();
      }
      for (let i = 0; i < 5; i++) {
        expect((await call(api.url, 'GET', '/health/live')).status).toBe(200);
        expect((await call(api.url, 'GET', '/metrics')).status).toBe(200);
      }
    });

    it('is not dodged by a spoofed X-Forwarded-For unless TRUST_PROXY trusts the hop that sent it', async () => {
      // Every request comes from 127.0.0.1; each claims another client in X-Forwarded-For.
      const statuses = async (url: string, forwardedFor: (i: number) => string) => {
        const seen = [];
        for (let i = 0; i < 5; i++) {
          seen.push((await call(url, 'GET', '/api/v1/users/x', { headers: { 'x-forwarded-for': forwardedFor(i) } })).status);
        }
        return seen;
      };
      const limited = [401, 401, 401, 429, 429];

      // The logs name the same client as the limiter (clientIp on the per-request lines at debug).
      const logged: string[] = [];
      const clientIps = () =>
        logged
          .splice(0)
          .flatMap((chunk) => chunk.split('\n').filter(Boolean))
          .map((l) => JSON.parse(l).clientIp)
          .filter(Boolean);
      const start = (env: Record<string, string>) =>
        startApp(testConfig({ RATE_LIMIT_PER_MINUTE: '3', LOG_LEVEL: 'debug', ...env }), {
          logDestination: { write: (c: string) => logged.push(c) },
        });

      const direct = await start({});
      try {
        clientIps();
        expect(await statuses(direct.url, (i) => `203.0.113.${i}`)).toEqual(limited);
        expect(clientIps()).toEqual(Array(5).fill('127.0.0.1'));
      } finally {
        await direct.close();
      }

      // Behind one trusted proxy (here: 127.0.0.1), the client is the address that proxy appended, whatever the
      // client wrote to the left of it; another client has a budget of its own.
      for (const trustProxy of ['1', '127.0.0.0/8,10.1.2.3', '::1,127.0.0.1']) {
        const proxied = await start({ TRUST_PROXY: trustProxy });
        try {
          clientIps();
          expect(await statuses(proxied.url, (i) => `198.51.100.${i}, 203.0.113.7`)).toEqual(limited);
          expect(await statuses(proxied.url, () => '203.0.113.8')).toEqual(limited);
          expect(clientIps()).toEqual([...Array(5).fill('203.0.113.7'), ...Array(5).fill('203.0.113.8')]);
        } finally {
          await proxied.close();
        }
      }
    });

    it('is off with RATE_LIMIT_PER_MINUTE=0', async () => {
      const unlimited = await startApp(testConfig({ RATE_LIMIT_PER_MINUTE: '0' }));
      try {
        const token = await tokenFor('kc-unlimited');
        for (let i = 0; i < 6; i++) {
          const res = await call(unlimited.url, 'GET', '/api/v1/users/by-keycloak/kc-unlimited', { token });
          expect(res.status).toBe(404);
          expect(res.headers.get('ratelimit-limit')).toBeNull();
        }
      } finally {
        await unlimited.close();
      }
    });
  });
});
