import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from 'minio';
import sharp from 'sharp';
import { uploadAvatar, streamHugeUpload } from './support/avatars';
import { call, createUser, INTERNAL_TOKEN, RunningApp, startApp, testConfig, tokenFor } from './support/app';
import { outboxOf, sql } from './support/database';
import * as images from './support/images';
import { clientFor, listObjects as listAll, S3Server, startS3Server } from './support/s3-server';

const BUCKET = 'avatars';
const MB = 1024 * 1024;
const CACHE_CONTROL = 'public, max-age=31536000, immutable';

describe('avatars on S3 (s3rver over TCP)', () => {
  let s3server: S3Server;
  let s3: Client;
  let api: RunningApp;

  beforeAll(async () => {
    s3server = await startS3Server(); // no bucket: the service creates it at start-up
    s3 = clientFor(s3server);
    api = await startApp(
      testConfig({
        MINIO_ENDPOINT: s3server.endPoint,
        MINIO_PORT: String(s3server.port),
        MINIO_ACCESS_KEY: s3server.accessKey,
        MINIO_SECRET_KEY: s3server.secretKey,
        MINIO_BUCKET: BUCKET,
        MINIO_TIMEOUT_MS: '2000',
        // the JSON limit must not apply to multipart uploads
        HTTP_BODY_LIMIT_BYTES: '16384',
      }),
    );
  });
  afterAll(async () => {
    await api?.close();
    await s3server?.dispose();
  });

  const listObjects = (prefix: string) => listAll(s3, BUCKET, prefix);

  const row = async (id: string) =>
    (
      await sql<{ avatar_url: string | null; avatar_keys: string[]; version: number }>(
        'SELECT avatar_url, avatar_keys, version FROM users WHERE id = $1',
        [id],
      )
    )[0];

  function expectError(res: { status: number; body: any }, status: number, code: string, message?: string) {
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({
      statusCode: status,
      code,
      timestamp: expect.any(String),
      path: expect.any(String),
      traceId: expect.any(String),
    });
    if (message) expect(res.body.message).toBe(message);
  }

  it('creates the bucket at start-up', async () => {
    expect(await s3.bucketExists(BUCKET)).toBe(true);
  });

  it('uploads: four variants under content-hash keys, cacheable forever, the URL fetchable, the event in the outbox', async () => {
    const { id, token } = await createUser(api.url);
    const file = await images.jpeg(900, 600);
    expect(file.length).toBeGreaterThan(16384); // over HTTP_BODY_LIMIT_BYTES
    const res = await uploadAvatar(api.url, id, file, { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    const hash = /\/users\/[^/]+\/([0-9a-f]{64})\/256\.jpg$/.exec(res.body.avatarUrl)?.[1];
    expect(hash).toBeDefined();
    const base = `${s3server.url}/${BUCKET}/users/${id}/${hash}`;
    expect(res.body).toEqual({
      avatarUrl: `${base}/256.jpg`,
      fileSize: file.length,
      variants: [64, 128, 256, 512].map((size) => ({ size, url: `${base}/${size}.jpg`, width: size, height: size })),
    });

    const keys = [128, 256, 512, 64].map((size) => `users/${id}/${hash}/${size}.jpg`);
    expect(await listObjects(`users/${id}/`)).toEqual(keys);
    expect(await row(id)).toEqual({ avatar_url: res.body.avatarUrl, avatar_keys: expect.arrayContaining(keys), version: 2 });

    const fetched = await fetch(res.body.avatarUrl);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('image/jpeg');
    expect(fetched.headers.get('cache-control')).toBe(CACHE_CONTROL);
    const meta = await sharp(Buffer.from(await fetched.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 256, 256]);

    const user = await call(api.url, 'GET', `/api/v1/users/${id}`, { token });
    expect(user.body.profile.avatarUrl).toBe(res.body.avatarUrl);
    const events = await outboxOf(id);
    expect(events.map((e) => e.event_type)).toEqual(['user.created', 'user.avatar_uploaded']);
    expect(events[1].payload.data).toEqual({ avatarUrl: res.body.avatarUrl, fileSize: file.length, variants: res.body.variants });
  });

  it('replacing deletes the old objects; the same picture again changes nothing; DELETE removes every variant', async () => {
    const { id, token } = await createUser(api.url);
    const first = await uploadAvatar(api.url, id, await images.jpeg(500, 500, 1), { token });
    const second = await uploadAvatar(api.url, id, await images.png(300, 200, 2), { token, filename: 'b.png', type: 'image/png' });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers.get('etag')).toBe('"3"');
    expect(second.body.variants.map((v: any) => [v.size, v.width])).toEqual([
      [64, 64],
      [128, 128],
      [256, 200],
      [512, 200],
    ]);
    const secondKeys = (await row(id)).avatar_keys.sort();
    expect(await listObjects(`users/${id}/`)).toEqual(secondKeys);
    expect(secondKeys.every((k) => k.endsWith('.png'))).toBe(true);
    expect((await fetch(first.body.avatarUrl)).status).toBe(404);

    const again = await uploadAvatar(api.url, id, await images.png(300, 200, 2), { token, filename: 'b.png', type: 'image/png' });
    expect(again.status).toBe(200);
    expect(again.body.avatarUrl).toBe(second.body.avatarUrl);
    expect(again.headers.get('etag')).toBe('"3"');
    expect(await listObjects(`users/${id}/`)).toEqual(secondKeys); // its own objects were not deleted
    expect((await fetch(again.body.avatarUrl)).status).toBe(200);

    const stale = await call(api.url, 'DELETE', `/api/v1/users/${id}/avatar`, { token, headers: { 'if-match': '"2"' } });
    expectError(stale, 412, 'VERSION_MISMATCH');
    const removed = await call(api.url, 'DELETE', `/api/v1/users/${id}/avatar`, { token, headers: { 'if-match': '"3"' } });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ message: 'Avatar deleted successfully' });
    expect(removed.headers.get('etag')).toBe('"4"');
    expect(await listObjects(`users/${id}/`)).toEqual([]);
    expect(await row(id)).toEqual({ avatar_url: null, avatar_keys: [], version: 4 });
    const events = await outboxOf(id);
    expect(events.map((e) => e.event_type)).toEqual(['user.created', 'user.avatar_uploaded', 'user.avatar_uploaded', 'user.updated']);
    expect(events[3].payload.data).toEqual({ changes: { avatarUrl: null } });

    const none = await call(api.url, 'DELETE', `/api/v1/users/${id}/avatar`, { token });
    expect(none.status).toBe(200);
    expect(none.headers.get('etag')).toBe('"4"'); // nothing to delete, nothing changed
  });

  it('decides the type by content: lying Content-Type and file names do not matter', async () => {
    const { id, token } = await createUser(api.url);
    const pngAsJpeg = await uploadAvatar(api.url, id, await images.png(200, 200, 3), { token, filename: 'photo.jpg', type: 'image/jpeg' });
    expect(pngAsJpeg.status).toBe(200);
    expect(pngAsJpeg.body.avatarUrl).toMatch(/\/256\.png$/);
    const served = await fetch(pngAsJpeg.body.avatarUrl);
    expect(served.headers.get('content-type')).toBe('image/png');

    const jpegAsPng = await uploadAvatar(api.url, id, await images.jpeg(200, 200, 4), { token, filename: 'photo.png', type: 'image/png' });
    expect(jpegAsPng.status).toBe(200);
    expect(jpegAsPng.body.avatarUrl).toMatch(/\/256\.jpg$/);
    expect((await fetch(jpegAsPng.body.avatarUrl)).headers.get('content-type')).toBe('image/jpeg');

    const gifAsJpeg = await uploadAvatar(api.url, id, await images.gif(), { token, type: 'image/jpeg', filename: 'cat.jpg' });
    expectError(gifAsJpeg, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Only JPEG and PNG images are supported');
  });

  it.each([
    ['GIF', images.gif],
    ['WebP', images.webp],
    ['SVG', async () => images.svg()],
    ['HTML behind a PNG signature', async () => images.pngHtmlPolyglot()],
  ])('refuses %s with 415 and stores nothing', async (_name, make) => {
    const { id, token } = await createUser(api.url);
    const res = await uploadAvatar(api.url, id, await make(), { token, type: 'image/png', filename: 'a.png' });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Only JPEG and PNG images are supported');
    expect(await listObjects(`users/${id}/`)).toEqual([]);
    expect((await row(id)).version).toBe(1);
  });

  it('accepts exactly 5 MB and answers 413 to one byte more', async () => {
    const { id, token } = await createUser(api.url);
    const image = await images.png(300, 300, 5);
    const atLimit = await uploadAvatar(api.url, id, images.padTo(image, 5 * MB), { token });
    expect(atLimit.status).toBe(200);
    expect(atLimit.body.fileSize).toBe(5 * MB);
    const over = await uploadAvatar(api.url, id, images.padTo(image, 5 * MB + 1), { token });
    expectError(over, 413, 'PAYLOAD_TOO_LARGE', 'Avatar file size exceeds 5MB limit');
    expect((await row(id)).version).toBe(2);
  });

  it('answers a 50 MB body with 413 as soon as 5 MB have arrived, without holding it in memory', async () => {
    const { id, token } = await createUser(api.url);
    // Client and server share this process, and the 64 KB chunks the server reads and drops are garbage until V8
    // collects them: collect often, so that RSS shows what is held, not what is waiting for the collector. Young
    // collections suffice (the chunks die young) and, unlike full ones, do not cost more the bigger the heap that
    // earlier test files left behind.
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as (options: { type: 'minor' }) => void;
    const gc = () => collect({ type: 'minor' });
    const samples: { rss: number; buffers: number }[] = [];
    let gcMs = 0;
    const sample = () => {
      const gcStarted = performance.now();
      gc();
      gcMs += performance.now() - gcStarted;
      const { rss, arrayBuffers } = process.memoryUsage();
      samples.push({ rss, buffers: arrayBuffers });
    };
    for (let i = 0; i < 3; i++) {
      sample();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const before = { rss: Math.min(...samples.map((s) => s.rss)), buffers: Math.min(...samples.map((s) => s.buffers)) };
    samples.length = 0;
    const sampler = setInterval(sample, 50);
    const started = performance.now();
    gcMs = 0;
    try {
      const res = await streamHugeUpload(api.url, id, token, 50 * MB, 10);
      const elapsed = performance.now() - started;
      expectError(res, 413, 'PAYLOAD_TOO_LARGE', 'Avatar file size exceeds 5MB limit');
      expect(res.bytesWrittenAtResponse).toBeGreaterThan(5 * MB);
      expect(res.bytesWrittenAtResponse).toBeLessThan(15 * MB); // answered at the limit, not at the end of the body
      expect(elapsed - gcMs).toBeLessThan(15_000); // paced by the client: 50 x 10 ms
      console.log(
        `50 MB upload: ${Math.round(elapsed)} ms (${Math.round(gcMs)} ms of it forced GCs), answered after ${(res.bytesWrittenAtResponse / MB).toFixed(1)} MB`,
      );
    } finally {
      clearInterval(sampler);
    }
    const rssGrowth = Math.max(...samples.map((s) => s.rss)) - before.rss;
    const bufferGrowth = Math.max(...samples.map((s) => s.buffers)) - before.buffers;
    console.log(`50 MB upload: RSS +${(rssGrowth / MB).toFixed(1)} MB, buffers +${(bufferGrowth / MB).toFixed(1)} MB at most`);
    // the body is 50 MB; what may be held is the first 5 MB of the file and socket buffers
    expect(bufferGrowth).toBeLessThan(12 * MB);
    // RSS also holds what V8's young generation grows to (its semi-spaces may take ~32 MB), which only young collections
    // leave in place; the body itself would add 50 MB.
    expect(rssGrowth).toBeLessThan(45 * MB);
    expect((await row(id)).version).toBe(1);
    // the connection was drained: the service still answers
    expect((await call(api.url, 'GET', `/api/v1/users/${id}`, { token })).status).toBe(200);
  });

  it('refuses truncated images and pixel bombs with 422, stores nothing', async () => {
    const { id, token } = await createUser(api.url);
    const full = await images.jpeg(600, 400, 9);
    const truncated = await uploadAvatar(api.url, id, full.subarray(0, Math.floor(full.length * 0.6)), { token });
    expectError(truncated, 422, 'INVALID_IMAGE');
    const bomb = await uploadAvatar(api.url, id, images.pngBomb(), { token, type: 'image/png' });
    expectError(bomb, 422, 'IMAGE_TOO_LARGE_PIXELS');
    expect(await listObjects(`users/${id}/`)).toEqual([]);
    expect((await row(id)).version).toBe(1);
  });

  it('strips EXIF: a photo with GPS comes back without any metadata', async () => {
    const { id, token } = await createUser(api.url);
    const file = await images.jpegWithGps();
    expect((await sharp(file).metadata()).exif).toBeDefined(); // fixture check
    const res = await uploadAvatar(api.url, id, file, { token });
    expect(res.status).toBe(200);
    for (const variant of res.body.variants) {
      const bytes = Buffer.from(await (await fetch(variant.url)).arrayBuffer());
      const meta = await sharp(bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(bytes.includes(Buffer.from('SpyCam'))).toBe(false);
      expect(bytes.includes(Buffer.from('Exif\0'))).toBe(false);
    }
  });

  it('answers malformed requests with 4xx in the error format', async () => {
    const { id, token } = await createUser(api.url);
    const json = await call(api.url, 'POST', `/api/v1/users/${id}/avatar`, { token, body: { file: 'x' } });
    expectError(json, 415, 'UNSUPPORTED_MEDIA_TYPE');

    const noFile = new FormData();
    noFile.append('comment', 'no file here');
    expectError(await uploadAvatar(api.url, id, null, { token, form: noFile }), 400, 'VALIDATION_FAILED');

    const wrongField = new FormData();
    wrongField.append('avatar', new Blob([await images.jpeg(100, 100)]), 'a.jpg');
    const wrong = await uploadAvatar(api.url, id, null, { token, form: wrongField });
    expectError(wrong, 400, 'VALIDATION_FAILED');
    expect(wrong.body.details).toEqual([{ field: 'avatar', message: 'is not an allowed field' }]);

    const two = new FormData();
    two.append('file', new Blob([await images.jpeg(100, 100, 1)]), 'a.jpg');
    two.append('file', new Blob([await images.jpeg(100, 100, 2)]), 'b.jpg');
    expectError(await uploadAvatar(api.url, id, null, { token, form: two }), 400, 'VALIDATION_FAILED');

    const broken = await fetch(`${api.url}/api/v1/users/${id}/avatar`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n\xff\xd8\xff',
    });
    expectError({ status: broken.status, body: await broken.json() }, 400, 'BAD_REQUEST');

    expectError(await uploadAvatar(api.url, id, Buffer.alloc(0), { token }), 400, 'VALIDATION_FAILED');
    expect(await listObjects(`users/${id}/`)).toEqual([]);
    expect((await row(id)).version).toBe(1);
  });

  it('applies the profile rules: own avatar, admins and internal callers; If-Match; 404', async () => {
    const { id, token } = await createUser(api.url);
    const file = await images.jpeg(200, 200, 11);
    const stranger = await tokenFor('someone-else');
    expectError(await uploadAvatar(api.url, id, file, { token: stranger }), 403, 'ACCESS_DENIED');
    expectError(await uploadAvatar(api.url, id, file), 401, 'UNAUTHENTICATED');
    expectError(await call(api.url, 'DELETE', `/api/v1/users/${id}/avatar`, { token: stranger }), 403, 'ACCESS_DENIED');
    expectError(await uploadAvatar(api.url, id, file, { token, headers: { 'if-match': '"7"' } }), 412, 'VERSION_MISMATCH');
    expect(await listObjects(`users/${id}/`)).toEqual([]);

    expect((await uploadAvatar(api.url, id, file, { token, headers: { 'if-match': '"1"' } })).status).toBe(200);
    const admin = await tokenFor('an-admin', { admin: true });
    expect((await uploadAvatar(api.url, id, await images.jpeg(200, 200, 12), { token: admin })).status).toBe(200);
    expect(
      (await uploadAvatar(api.url, id, await images.jpeg(200, 200, 13), { headers: { 'x-internal-token': INTERNAL_TOKEN } })).status,
    ).toBe(200);
    expect(await listObjects(`users/${id}/`)).toHaveLength(4);

    const unknown = '00000000-0000-4000-8000-000000000000';
    expectError(await uploadAvatar(api.url, unknown, file, { token: admin }), 404, 'USER_NOT_FOUND');
    expectError(await uploadAvatar(api.url, 'not-a-uuid', file, { token: admin }), 400, 'VALIDATION_FAILED');
  });

  it('answers 503 while the store is down and changes nothing; works again once it is back', async () => {
    const { id, token } = await createUser(api.url);
    const first = await uploadAvatar(api.url, id, await images.jpeg(300, 300, 21), { token });
    expect(first.status).toBe(200);
    const before = await row(id);
    const events = (await outboxOf(id)).length;

    await s3server.stop();
    try {
      const started = performance.now();
      const upload = await uploadAvatar(api.url, id, await images.jpeg(300, 300, 22), { token });
      expectError(upload, 503, 'SERVICE_UNAVAILABLE');
      expect(performance.now() - started).toBeLessThan(3000);
      const removal = await call(api.url, 'DELETE', `/api/v1/users/${id}/avatar`, { token });
      expectError(removal, 503, 'SERVICE_UNAVAILABLE');
      expect(await row(id)).toEqual(before);
      expect(await outboxOf(id)).toHaveLength(events);
      const health = await call(api.url, 'GET', '/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'degraded', storage: { status: 'disconnected', kind: 's3' } });
    } finally {
      await s3server.start();
    }
    expect((await call(api.url, 'GET', '/health')).body.storage).toMatchObject({ status: 'connected', kind: 's3' });
    expect(await listObjects(`users/${id}/`)).toEqual([...before.avatar_keys].sort());
    expect((await fetch(first.body.avatarUrl)).status).toBe(200);
    expect((await uploadAvatar(api.url, id, await images.jpeg(300, 300, 22), { token })).status).toBe(200);
    expect(await listObjects(`users/${id}/`)).toEqual([...(await row(id)).avatar_keys].sort());
  });

  it('removes what it uploaded when the database refuses the change (no orphans)', async () => {
    const { id, token } = await createUser(api.url);
    const first = await uploadAvatar(api.url, id, await images.jpeg(300, 300, 31), { token });
    expect(first.status).toBe(200);
    const before = await row(id);
    // A real failure of the UPDATE, after the objects are written: a constraint this user's next version breaks.
    await sql(`ALTER TABLE users ADD CONSTRAINT test_avatar_db_failure CHECK (id <> '${id}'::uuid OR version <= ${before.version})`);
    try {
      const res = await uploadAvatar(api.url, id, await images.jpeg(300, 300, 32), { token });
      expectError(res, 500, 'INTERNAL_ERROR');
    } finally {
      await sql('ALTER TABLE users DROP CONSTRAINT test_avatar_db_failure');
    }
    expect(await row(id)).toEqual(before);
    expect(await listObjects(`users/${id}/`)).toEqual([...before.avatar_keys].sort());
    expect((await fetch(first.body.avatarUrl)).status).toBe(200);
  });

  it('concurrent uploads for one user (some of the same picture) end with one current avatar and no orphans', async () => {
    const { id, token } = await createUser(api.url);
    const files = await Promise.all([1, 2, 3, 4, 5].map((seed) => images.jpeg(400, 400, 100 + seed)));
    // seeds 101 and 102 go up twice, so two requests write the very same keys
    const uploads = [...files, files[0], files[1]];
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(uploads.map((file) => uploadAvatar(api.url, id, file, { token })));
      expect(results.map((r) => r.status)).toEqual(uploads.map(() => 200));
      const current = await row(id);
      expect(current.avatar_keys).toHaveLength(4);
      expect(await listObjects(`users/${id}/`)).toEqual([...current.avatar_keys].sort());
      expect(results.map((r) => r.body.avatarUrl)).toContain(current.avatar_url);
      expect((await fetch(current.avatar_url!)).status).toBe(200);
    }
  });
});
