import { createUserServiceClient, ErrorResponse, restSchemas } from '@user-service/contracts';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { INTERNAL_TOKEN, RunningApp, startApp, tokenFor, uniqueIdentity } from './support/app';

const ROOT = join(__dirname, '..');
const PACKAGE = join(ROOT, 'packages/contracts');

describe('@user-service/contracts', () => {
  it('is generated from openapi.json and asyncapi.yaml as they are now (npm run contracts -- --check)', async () => {
    // In a process of its own: openapi-typescript loads an ES module, which Jest's CommonJS runtime cannot.
    const check = await promisify(execFile)('npm', ['run', '-s', 'contracts', '--', '--check'], { cwd: ROOT }).then(
      () => null,
      (error: { stdout: string; stderr: string }) => error.stdout + error.stderr,
    );
    if (check !== null) throw new Error(check);
  }, 60_000);

  it('packs as a publishable package with its build, types and schemas', async () => {
    // prepack builds dist/ first.
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json'], { cwd: PACKAGE, maxBuffer: 16 * 1024 * 1024 });
    const [pack] = JSON.parse(stdout);
    expect(pack).toMatchObject({ name: '@user-service/contracts', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    const files = pack.files.map((f: { path: string }) => f.path);
    for (const file of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'src/index.ts']) expect(files).toContain(file);
    for (const file of ['dist/generated/rest.schema.json', 'dist/generated/events.schema.json']) expect(files).toContain(file);
    expect(files.filter((f: string) => f.startsWith('test/') || f.includes('.spec.'))).toEqual([]);

    // Resolved as another service would: by name, through package.json's exports.
    const resolve = (specifier: string) => `require(${JSON.stringify(specifier)})`;
    const script = [
      `const c = ${resolve('@user-service/contracts')}`,
      `const rest = ${resolve('@user-service/contracts/schemas/rest.json')}`,
      `const events = ${resolve('@user-service/contracts/schemas/events.json')}`,
      'console.log(JSON.stringify([typeof c.createUserServiceClient, typeof c.parseUserEvent, typeof c.parseUsageEvent, rest.$id, events.$id]))',
    ].join(';');
    const { stdout: loaded } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: join(ROOT, 'examples') });
    expect(JSON.parse(loaded)).toEqual(['function', 'function', 'function', 'urn:user-service:rest', 'urn:user-service:events']);
  }, 120_000);

  describe('client, against the service', () => {
    let api: RunningApp;
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    addFormats(ajv);
    ajv.addSchema(restSchemas);
    /** The body against the package's JSON Schema of the type the client claims it is. */
    const schemaErrors = (definition: string, body: unknown) => {
      const validate = ajv.getSchema(`${restSchemas.$id}#/definitions/${definition}`)!;
      return validate(body) ? [] : validate.errors;
    };

    beforeAll(async () => {
      api = await startApp();
    });
    afterAll(() => api.close());

    it('acts for a person with a bearer token, typed by openapi.json, bodies as the JSON Schemas say', async () => {
      const identity = uniqueIdentity('contracts');
      const client = createUserServiceClient({ baseUrl: api.url, token: await tokenFor(identity.keycloakId) });
      const created = await client.POST('/api/v1/users', { body: { ...identity, profile: { fullName: 'Ann Contract' } } });
      expect(created.response.status).toBe(201);
      const user = created.data!;
      expect(user).toMatchObject({ keycloakId: identity.keycloakId, profile: { fullName: 'Ann Contract', companyName: null }, version: 1 });
      expect(schemaErrors('UserResponse', user)).toEqual([]);

      const changed = await client.PATCH('/api/v1/users/{id}', {
        params: { path: { id: user.id }, header: { 'If-Match': '"1"' } },
        body: { profile: { companyName: 'Acme' } },
      });
      expect(changed.data?.profile.companyName).toBe('Acme');

      const stale = await client.PATCH('/api/v1/users/{id}', {
        params: { path: { id: user.id }, header: { 'If-Match': '"1"' } },
        body: { profile: { bio: 'late' } },
      });
      const conflict: ErrorResponse | undefined = stale.error;
      expect(stale.response.status).toBe(412);
      expect(conflict).toMatchObject({ code: 'VERSION_MISMATCH', statusCode: 412 });
      expect(schemaErrors('ErrorResponse', conflict)).toEqual([]);

      const invalid = await client.PUT('/api/v1/users/{id}/profile', { params: { path: { id: user.id } }, body: { fullName: 'A' } });
      expect(invalid.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'profile.fullName' })] });
      expect(schemaErrors('ErrorResponse', invalid.error)).toEqual([]);
    });

    it('acts for a service with the internal token, and asks a token function before each request', async () => {
      const identity = uniqueIdentity('contracts');
      const person = createUserServiceClient({ baseUrl: api.url, token: () => tokenFor(identity.keycloakId) });
      const { data: user } = await person.POST('/api/v1/users', { body: { ...identity, profile: { fullName: 'Bo Contract' } } });

      const service = createUserServiceClient({ baseUrl: api.url, internalToken: INTERNAL_TOKEN });
      const found = await service.GET('/api/v1/users/by-keycloak/{keycloakId}', { params: { path: { keycloakId: identity.keycloakId } } });
      expect(found.data?.id).toBe(user!.id);
      const quota = await service.GET('/api/v1/users/{id}/quota', { params: { path: { id: user!.id } } });
      expect(schemaErrors('QuotaUsageViewResponse', quota.data)).toEqual([]);
      const page = await service.GET('/api/v1/users', { params: { query: { id: user!.id } } });
      expect(page.data?.data.map((u) => u.id)).toEqual([user!.id]);
      expect(schemaErrors('UserPageResponse', page.data)).toEqual([]);

      const missing = await service.GET('/api/v1/users/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
      expect(missing.error?.code).toBe('USER_NOT_FOUND');

      const wrong = createUserServiceClient({ baseUrl: api.url, internalToken: 'not-the-token' });
      const refused = await wrong.GET('/api/v1/users/{id}', { params: { path: { id: user!.id } } });
      expect(refused.response.status).toBe(401);
      expect(refused.error?.code).toBe('UNAUTHENTICATED');
    });

    it('takes a token or an internal token, not both or neither', () => {
      expect(() => createUserServiceClient({ baseUrl: api.url } as never)).toThrow('either a token or an internalToken');
      expect(() => createUserServiceClient({ baseUrl: api.url, token: 't', internalToken: 'i' } as never)).toThrow('either');
    });
  });
});
