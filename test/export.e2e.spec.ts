import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { uploadAvatar } from './support/avatars';
import * as images from './support/images';
import { S3Server, startS3Server } from './support/s3-server';

/**
 * OpenAPI 3.0's `nullable` as JSON Schema: `{nullable: true, ...s}` is `null` or `s`. (Ajv reads `nullable` only beside
 * `type`, and Nest writes a nullable reference as `{nullable, type: object, allOf: [$ref]}`, whose allOf refuses null.)
 */
function asJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(asJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, asJsonSchema(value)]));
  return nullable === true ? { anyOf: [{ type: 'null' }, converted] } : converted;
}

const openapi = asJsonSchema(JSON.parse(readFileSync(resolve(__dirname, '..', 'openapi.json'), 'utf8'))) as object;

/** Whether a body is what the OpenAPI document says the export is. */
function exportSchemaErrors(body: any): string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(openapi, 'openapi');
  const validate = ajv.getSchema('openapi#/components/schemas/UserExportResponse')!;
  return validate(body) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`);
}

/** GET /users/:id/export, with the avatar in an S3 store (s3rver) and in the embedded local store. */
describe('export', () => {
  let s3server: S3Server;
  let dataDir: string;
  let s3api: RunningApp;
  let localApi: RunningApp;
  let admin: string;

  beforeAll(async () => {
    s3server = await startS3Server({ buckets: ['avatars'] });
    dataDir = mkdtempSync(join(tmpdir(), 'user-service-export-'));
    s3api = await startApp(
      testConfig({
        MINIO_ENDPOINT: s3server.endPoint,
        MINIO_PORT: String(s3server.port),
        MINIO_ACCESS_KEY: s3server.accessKey,
        MINIO_SECRET_KEY: s3server.secretKey,
        MINIO_BUCKET: 'avatars',
      }),
    );
    localApi = await startApp(testConfig({ DATA_DIR: dataDir }));
    admin = await tokenFor('kc-export-admin', { admin: true });
  });
  afterAll(async () => {
    await s3api?.close();
    await localApi?.close();
    await s3server?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const path = (id: string, rest = '') => `/api/v1/users/${id}${rest}`;

  it('is one JSON attachment with profile, preferences, stats, quota, status history, avatar URLs and the audit trail', async () => {
    const api = s3api;
    const { id, token, keycloakId, email } = await createUser(api.url, { profile: { fullName: 'Ex Port', phone: '+1 555 0111' } });
    await call(api.url, 'PATCH', path(id, '/preferences'), { token, body: { timezone: 'Europe/Berlin' } });
    await call(api.url, 'POST', path(id, '/stats/increment-interviews'), { headers: { 'x-internal-token': INTERNAL_TOKEN } });
    const avatar = await uploadAvatar(api.url, id, await images.jpeg(600, 600, 17), { token });
    expect(avatar.status).toBe(200);
    await call(api.url, 'POST', path(id, '/suspend'), { token: admin, body: { reason: 'Spam' } });

    // The person may export while suspended.
    const res = await fetch(`${api.url}${path(id, '/export')}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="user-${id}.json"`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const doc: any = await res.json();

    expect(Object.keys(doc)).toEqual([
      'exportedAt',
      'user',
      'profile',
      'preferences',
      'stats',
      'quota',
      'statusHistory',
      'avatar',
      'auditTrail',
    ]);
    expect(doc.user).toMatchObject({ id, keycloakId, email, status: 'suspended', suspension: { reason: 'Spam', until: null } });
    expect(doc.profile).toEqual({
      fullName: 'Ex Port',
      companyName: null,
      phone: '+1 555 0111',
      bio: null,
      avatarUrl: avatar.body.avatarUrl,
    });
    expect(doc.preferences).toMatchObject({ timezone: 'Europe/Berlin' });
    expect(doc.stats).toMatchObject({ interviewsCreated: 1, interviewsActive: 1, storageUsedFormatted: expect.any(String) });
    expect(doc.quota).toMatchObject({ interviews: { used: 1, limit: 10, remaining: 9 }, exceeded: false });
    expect(doc.statusHistory).toEqual([
      { at: expect.any(String), status: 'active', action: 'created', actor: `user:${keycloakId}` },
      { at: expect.any(String), status: 'suspended', action: 'suspended', actor: 'admin:kc-export-admin', reason: 'Spam' },
    ]);
    expect(doc.avatar).toEqual({
      url: avatar.body.avatarUrl,
      variants: avatar.body.variants.map((v: any) => ({ size: v.size, url: v.url })),
    });
    expect(doc.auditTrail.map((e: any) => e.action)).toEqual([
      'created',
      'preferences.updated',
      'usage.recorded',
      'avatar.replaced',
      'suspended',
    ]);
    expect(exportSchemaErrors(doc)).toEqual([]);
    expect(exportSchemaErrors({ ...doc, statusHistory: 'none' })).not.toEqual([]);
  });

  it.each(['s3', 'local'])('include=avatar adds each variant as a data URL, read from the %s store', async (store) => {
    const api = store === 's3' ? s3api : localApi;
    const { id, token } = await createUser(api.url);
    const upload = await uploadAvatar(api.url, id, await images.png(300, 300, 23), { token, type: 'image/png' });
    expect(upload.status).toBe(200);
    const res = await call(api.url, 'GET', path(id, '/export?include=avatar'), { token: admin });
    expect(res.status).toBe(200);
    expect(res.body.avatar.variants).toHaveLength(4);
    for (const variant of res.body.avatar.variants) {
      expect(variant.dataUrl).toMatch(/^data:image\/png;base64,/);
      // The local store's URLs name the configured port (0 here): fetch the same path from where the service listens.
      const served = Buffer.from(await (await fetch(store === 's3' ? variant.url : api.url + new URL(variant.url).pathname)).arrayBuffer());
      expect(Buffer.from(variant.dataUrl.split(',')[1], 'base64').equals(served)).toBe(true);
    }
    expect(exportSchemaErrors(res.body)).toEqual([]);
  });

  it('has no avatar without one, refuses an unknown include, and is the person’s own (or an admin’s, or a service’s)', async () => {
    const api = localApi;
    const { id, token } = await createUser(api.url);
    const plain = await call(api.url, 'GET', path(id, '/export'), { token });
    expect(plain.body.avatar).toBeNull();
    const bad = await call(api.url, 'GET', path(id, '/export?include=everything'), { token });
    expect({ status: bad.status, code: bad.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    const stranger = await tokenFor('kc-export-stranger');
    expect((await call(api.url, 'GET', path(id, '/export'), { token: stranger })).body.code).toBe('ACCESS_DENIED');
    expect((await call(api.url, 'GET', path(id, '/export'), { headers: { 'x-internal-token': INTERNAL_TOKEN } })).status).toBe(200);
  });
});
