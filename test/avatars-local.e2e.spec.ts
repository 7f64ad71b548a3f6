import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import sharp from 'sharp';
import { createApp } from '../src/app';
import { call, createUser, testConfig } from './support/app';
import { uploadAvatar } from './support/avatars';
import * as images from './support/images';
import { freePort } from './support/free-port';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** The embedded default: no MINIO_ENDPOINT, objects under DATA_DIR/avatars, served by the service itself. */
describe('avatars in the embedded local store', () => {
  let dataDir: string;
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'user-service-avatars-'));
    const port = await freePort();
    // no AVATAR_PUBLIC_BASE_URL: the default is this service's own address
    app = await createApp(testConfig({ DATA_DIR: dataDir, PORT: String(port) }));
    await app.listen(port, '127.0.0.1');
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('uploads, serves the variants itself with immutable caching, replaces and deletes', async () => {
    const { user, token } = await createUser(url);
    const root = join(dataDir, 'avatars');

    const first = await uploadAvatar(url, user.id, await images.jpeg(700, 500, 41), { token });
    expect(first.status).toBe(200);
    expect(first.body.avatarUrl).toMatch(new RegExp(`^${url}/avatars/users/${user.id}/[0-9a-f]{64}/256\\.jpg$`));
    const hash = first.body.avatarUrl.split('/').at(-2);
    expect(filesUnder(root)).toEqual([128, 256, 512, 64].map((size) => join('users', user.id, hash, `${size}.jpg`)));

    const served = await fetch(first.body.avatarUrl); // public: no token
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual(['jpeg', 256, 256, undefined]);

    const second = await uploadAvatar(url, user.id, await images.png(300, 300, 42), { token, type: 'image/png' });
    expect(second.status).toBe(200);
    const secondHash = second.body.avatarUrl.split('/').at(-2);
    expect(filesUnder(root)).toEqual([128, 256, 512, 64].map((size) => join('users', user.id, secondHash, `${size}.png`)));
    expect((await fetch(first.body.avatarUrl)).status).toBe(404);
    expect((await fetch(second.body.variants[0].url)).headers.get('content-type')).toBe('image/png');

    const removed = await call(url, 'DELETE', `/api/v1/users/${user.id}/avatar`, { token });
    expect(removed.status).toBe(200);
    expect(filesUnder(root)).toEqual([]);
    expect((await fetch(second.body.avatarUrl)).status).toBe(404);
    expect((await call(url, 'GET', `/api/v1/users/${user.id}`, { token })).body.profile.avatarUrl).toBeNull();
  });

  it('serves nothing but avatar keys: no path traversal', async () => {
    for (const path of [
      '/avatars/../package.json',
      '/avatars/users/..%2F..%2F..%2Fpackage.json',
      '/avatars/users/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/avatars/users/00000000-0000-4000-8000-000000000000/..%2F..%2F..%2F..%2Fpglite.lock/256.jpg',
      `/avatars/users/00000000-0000-4000-8000-000000000000/${'a'.repeat(64)}/256.jpg`,
      '/avatars/pglite.lock',
    ]) {
      const res = await fetch(url + path);
      expect([400, 404]).toContain(res.status);
      const body = (await res.json()) as { code: string };
      expect(body.code).toMatch(/NOT_FOUND|BAD_REQUEST|VALIDATION_FAILED/);
    }
  });
});
