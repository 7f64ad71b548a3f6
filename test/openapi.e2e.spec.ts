import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateOpenApiDocument } from '../src/openapi-document';
import { call, RunningApp, startApp, testConfig } from './support/app';

describe('OpenAPI', () => {
  let api: RunningApp;
  let generated: any;
  beforeAll(async () => {
    // error: Swagger UI's 1.5 MB bundle can be a "slow request" on a busy machine.
    api = await startApp(testConfig({ LOG_LEVEL: 'error' }));
    generated = JSON.parse(JSON.stringify(await generateOpenApiDocument()));
  });
  afterAll(() => api.close());

  it('openapi.json is up to date (run `npm run openapi` after changing the API)', () => {
    const committed = JSON.parse(readFileSync(resolve(__dirname, '..', 'openapi.json'), 'utf8'));
    expect(committed).toEqual(generated);
  });

  it('is served at /docs-json, with Swagger UI at /docs, without a token', async () => {
    const json = await call(api.url, 'GET', '/docs-json');
    expect(json.status).toBe(200);
    expect(json.body).toEqual(generated);

    const ui = await fetch(`${api.url}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    const html = await ui.text();
    // Scripts come from the service itself, which the Content-Security-Policy (script-src 'self') allows.
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) expect(attributes).toMatch(/src=["'](?!https?:)/);
    for (const src of html.matchAll(/src=["']([^"']+)["']/g)) {
      const asset = await fetch(new URL(src[1], `${api.url}/docs`));
      await asset.arrayBuffer();
      expect({ src: src[1], status: asset.status }).toEqual({ src: src[1], status: 200 });
    }
  });

  it('documents every route of the service', () => {
    const fastify = api.app.getHttpAdapter().getInstance();
    const documented = Object.entries(generated.paths as Record<string, object>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const served = routesOf(fastify.printRoutes({ commonPrefix: false })).filter(
      (route) => !/^(HEAD|OPTIONS) /.test(route) && !/ \/docs/.test(route),
    );
    expect(served.length).toBeGreaterThan(10);
    expect([...new Set(served)].sort()).toEqual([...documented].sort());
  });

  it('states both auth schemes on the API, none on the operations endpoints, and the error body everywhere', () => {
    expect(generated.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
      'internal-token': expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-Internal-Token' }),
    });
    for (const [path, operations] of Object.entries(generated.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method} ${path}`;
        if (path.startsWith('/api/')) {
          expect({ where, security: operation.security }).toEqual({
            where,
            security: expect.arrayContaining([{ bearer: [] }, { 'internal-token': [] }]),
          });
          expect({ where, r: operation.responses['401'] }).toEqual({
            where,
            r: expect.objectContaining({ content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } } }),
          });
        } else {
          expect({ where, security: operation.security }).toEqual({ where, security: [] });
        }
        expect(operation.summary).toEqual(expect.any(String));
      }
    }
    expect(Object.keys(generated.components.schemas.ErrorResponse.properties)).toEqual(
      expect.arrayContaining(['statusCode', 'error', 'code', 'message', 'details', 'timestamp', 'path', 'traceId']),
    );
  });

  it('names a server and documents what any route may answer: 413 and 415 where a body is parsed, 304 where If-None-Match is read', () => {
    expect(generated.servers).toEqual([expect.objectContaining({ url: '/' })]);
    for (const [path, operations] of Object.entries(generated.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        const expected = [
          '4XX',
          '5XX',
          ...(['post', 'put', 'patch', 'delete'].includes(method) ? ['413', '415'] : []),
          ...(operation.parameters?.some((p: { name: string }) => p.name === 'If-None-Match') ? ['304'] : []),
          ...(path.startsWith('/api/') ? ['401', '429'] : []),
        ];
        const where = `${method} ${path}`;
        expect({ where, missing: expected.filter((status) => !(status in operation.responses)) }).toEqual({ where, missing: [] });
      }
    }
  });
});

/** `METHOD /path` of each route in Fastify's printed route tree (four columns per level). */
function routesOf(tree: string): string[] {
  const prefixes: string[] = [];
  return tree.split('\n').flatMap((line) => {
    const match = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) return [];
    const depth = match[1].length / 4;
    prefixes[depth] = (prefixes[depth - 1] ?? '') + match[2];
    return match[3].split(', ').map((method) => `${method} ${prefixes[depth]}`);
  });
}
