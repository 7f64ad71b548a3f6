import { Client, S3Error } from 'minio';
import { clientFor, listObjects, type S3Server, startS3Server } from './s3-server';

const BUCKET = 'avatars';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  // Not `toBeInstanceOf(Error)`: errors raised by Node's own http/net code come from
  // another realm than Jest's sandbox, so `instanceof Error` is false for them here.
  expect(err).toEqual(expect.objectContaining({ message: expect.any(String) }));
  return err as Error & { code?: string };
}

describe('startS3Server (@20minutes/s3rver + minio client)', () => {
  let server: S3Server;
  let s3: Client;

  beforeAll(async () => {
    server = await startS3Server({ buckets: [BUCKET] });
    s3 = clientFor(server);
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('listens on 127.0.0.1 with a random port and a generated key pair', () => {
    expect(server.endPoint).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.accessKey).not.toBe('S3RVER');
    expect(server.secretKey.length).toBeGreaterThanOrEqual(20);
  });

  it('makeBucket / bucketExists', async () => {
    expect(await s3.bucketExists(BUCKET)).toBe(true); // pre-created by startS3Server
    expect(await s3.bucketExists('made-by-client')).toBe(false);
    await s3.makeBucket('made-by-client', 'us-east-1');
    expect(await s3.bucketExists('made-by-client')).toBe(true);
    const again = await rejection(s3.makeBucket('made-by-client', 'us-east-1'));
    expect(again.code).toBe('BucketAlreadyExists');
  });

  it('put / stat / get / list / remove round-trip, metadata kept', async () => {
    const body = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]);
    const meta = { 'Content-Type': 'image/jpeg', 'Cache-Control': 'public, max-age=31536000, immutable' };
    const put = await s3.putObject(BUCKET, 'u/1/abc/64.jpg', body, body.length, meta);
    expect(put.etag).toMatch(/^[0-9a-f]{32}$/);

    const stat = await s3.statObject(BUCKET, 'u/1/abc/64.jpg');
    expect(stat.size).toBe(body.length);
    expect(stat.metaData['content-type']).toBe('image/jpeg');
    expect(stat.metaData['cache-control']).toBe('public, max-age=31536000, immutable');

    expect((await readAll(await s3.getObject(BUCKET, 'u/1/abc/64.jpg'))).equals(body)).toBe(true);

    await s3.putObject(BUCKET, 'u/1/abc/128.jpg', body, body.length, meta);
    const listed = await listObjects(s3, BUCKET, 'u/1/');
    expect(listed).toEqual(['u/1/abc/128.jpg', 'u/1/abc/64.jpg']);

    await s3.removeObjects(BUCKET, listed);
    const gone = await rejection(s3.statObject(BUCKET, 'u/1/abc/64.jpg'));
    expect(gone).toBeInstanceOf(S3Error);
    expect(gone.code).toBe('NotFound'); // HEAD: code comes from the status, no body
    const gone2 = await rejection(s3.getObject(BUCKET, 'u/1/abc/128.jpg'));
    expect(gone2.code).toBe('NoSuchKey');
    await expect(s3.removeObject(BUCKET, 'never-existed')).resolves.toBeUndefined();
  });

  it('removeObjects of sibling keys that empty their folder never fails (s3rver race patched)', async () => {
    const body = Buffer.from('v');
    for (let i = 0; i < 15; i++) {
      const keys = [64, 128, 256, 512].map((size) => `race/u${i}/h/${size}.jpg`);
      for (const key of keys) await s3.putObject(BUCKET, key, body, body.length);
      await s3.removeObjects(BUCKET, keys);
      await Promise.all(keys.map((key) => expect(s3.statObject(BUCKET, key)).rejects.toBeInstanceOf(S3Error)));
    }
  });

  it('serves objects to anonymous plain-HTTP GETs with Content-Type and Cache-Control', async () => {
    const body = Buffer.from('png-bytes');
    await s3.putObject(BUCKET, 'public/a.png', body, body.length, {
      'Content-Type': 'image/png',
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
    const res = await fetch(`${server.url}/${BUCKET}/public/a.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it('rejects a wrong secret key (SigV4 is verified)', async () => {
    const bad = clientFor(server, { secretKey: `${server.secretKey}x` });
    const body = Buffer.from('x');
    const putErr = await rejection(bad.putObject(BUCKET, 'evil.txt', body, body.length));
    expect(putErr).toBeInstanceOf(S3Error);
    expect(putErr.code).toBe('SignatureDoesNotMatch');
    const getErr = await rejection(bad.getObject(BUCKET, 'public/a.png'));
    expect(getErr.code).toBe('SignatureDoesNotMatch');
    const headErr = await rejection(bad.statObject(BUCKET, 'public/a.png'));
    expect(headErr.code).toBe('AccessDenied'); // HEAD 403 without body
    await expect(s3.statObject(BUCKET, 'evil.txt')).rejects.toBeInstanceOf(S3Error); // nothing was written
  });

  it('rejects unknown access keys, including the built-in S3RVER/S3RVER pair', async () => {
    const unknown = await rejection(clientFor(server, { accessKey: 'NOPE' }).getObject(BUCKET, 'public/a.png'));
    expect(unknown.code).toBe('InvalidAccessKeyId');
    const builtin = await rejection(clientFor(server, { accessKey: 'S3RVER', secretKey: 'S3RVER' }).getObject(BUCKET, 'public/a.png'));
    expect(builtin.code).toBe('InvalidAccessKeyId');
  });

  it('stop() -> connection errors fast; start() -> same port, data still there', async () => {
    const body = Buffer.from('survives restarts');
    await s3.putObject(BUCKET, 'persist.txt', body, body.length);
    const port = server.port;

    await server.stop();
    const started = performance.now();
    // Right after the outage a call may still pick a pooled keep-alive socket that the
    // server just closed: ECONNRESET ("socket hang up"); new connections: ECONNREFUSED.
    const errors = [
      await rejection(s3.statObject(BUCKET, 'persist.txt')),
      await rejection(s3.getObject(BUCKET, 'persist.txt')),
      await rejection(s3.putObject(BUCKET, 'x.txt', body, body.length)),
      await rejection(s3.bucketExists(BUCKET)),
    ];
    for (const err of errors) {
      expect(err).not.toBeInstanceOf(S3Error);
      expect(['ECONNREFUSED', 'ECONNRESET']).toContain(err.code);
    }
    expect(performance.now() - started).toBeLessThan(1000);
    // once the pool has dropped its dead sockets, it is always ECONNREFUSED
    let code: string | undefined;
    for (let i = 0; i < 10 && code !== 'ECONNREFUSED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      code = (await rejection(s3.statObject(BUCKET, 'persist.txt'))).code;
    }
    expect(code).toBe('ECONNREFUSED');
    await server.stop(); // idempotent

    await server.start();
    expect(server.port).toBe(port);
    expect((await readAll(await s3.getObject(BUCKET, 'persist.txt'))).toString()).toBe('survives restarts');
    await server.start(); // idempotent
  });

  it('can pre-create buckets', async () => {
    const other = await startS3Server({ buckets: ['pre-made'] });
    try {
      expect(other.port).not.toBe(server.port);
      expect(await clientFor(other).bucketExists('pre-made')).toBe(true);
      // each server has its own keys, and both are valid in this test file's registry
      expect(other.accessKey).not.toBe(server.accessKey);
    } finally {
      await other.dispose();
    }
  });
});
