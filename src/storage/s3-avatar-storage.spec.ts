import { createServer as createHttpServer } from 'node:http';
import { createServer, Server, Socket } from 'node:net';
import { loadConfig } from '../config/config';
import { StorageUnavailable } from './avatar-storage';
import { S3AvatarStorage } from './s3-avatar-storage';

const KEY = `users/00000000-0000-4000-8000-000000000000/${'a'.repeat(64)}/256.jpg`;

function storageAt(port: number, env: Record<string, string> = {}) {
  return new S3AvatarStorage(
    loadConfig({
      MINIO_ENDPOINT: '127.0.0.1',
      MINIO_PORT: String(port),
      MINIO_ACCESS_KEY: 'key',
      MINIO_SECRET_KEY: 'secret',
      MINIO_TIMEOUT_MS: '300',
      ...env,
    }),
  );
}

describe('S3AvatarStorage', () => {
  it('gives up on a store that accepts the connection and never answers (503, not a hung upload)', async () => {
    const sockets: Socket[] = [];
    const hung: Server = createServer((socket) => void sockets.push(socket)); // reads nothing, answers nothing
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const storage = storageAt((hung.address() as { port: number }).port);
      const started = performance.now();
      const error = await storage.put([{ key: KEY, body: Buffer.from('x'), contentType: 'image/jpeg' }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageUnavailable);
      expect((error as { cause?: { code?: string } }).cause?.code).toBe('ETIMEDOUT');
      expect(performance.now() - started).toBeLessThan(1500); // bucket check only, no retry
      await expect(storage.remove([KEY])).rejects.toBeInstanceOf(StorageUnavailable);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => hung.close(resolve));
    }
  });

  it('makes a call once more, on a new connection, when the connection is reset under it; not a third time', async () => {
    const requests: string[] = [];
    const store = createHttpServer((request) => {
      requests.push(`${request.method} ${request.url}`);
      request.socket.resetAndDestroy();
    });
    await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
    try {
      const error = await storageAt((store.address() as { port: number }).port)
        .put([{ key: KEY, body: Buffer.from('x'), contentType: 'image/jpeg' }])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageUnavailable);
      expect((error as StorageUnavailable).reason).toEqual({
        operation: 'HEAD',
        key: 'avatars',
        code: 'ECONNRESET',
        message: expect.any(String),
      });
      expect(requests).toEqual(['HEAD /avatars', 'HEAD /avatars']);
    } finally {
      await new Promise((resolve) => store.close(resolve));
    }
  });

  it('keeps a connection to the store for the next call, but not past 2 s idle (before the store would close it)', async () => {
    let connections = 0;
    // HEAD /avatars → 200: the bucket exists (with a length: without one, Node closes the connection after a HEAD)
    const store = createHttpServer((_request, response) => response.writeHead(200, { 'content-length': 0 }).end());
    store.keepAliveTimeout = 60_000;
    store.on('connection', () => connections++);
    await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
    try {
      const storage = storageAt((store.address() as { port: number }).port);
      await storage.ping();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await storage.ping();
      expect(connections).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 2300));
      await storage.ping();
      expect(connections).toBe(2);
    } finally {
      store.closeAllConnections();
      await new Promise((resolve) => store.close(resolve));
    }
  });

  it('derives public URLs from the MinIO settings unless AVATAR_PUBLIC_BASE_URL is set', () => {
    expect(storageAt(9000).publicUrl(KEY)).toBe(`http://127.0.0.1:9000/avatars/${KEY}`);
    expect(storageAt(9000, { MINIO_USE_SSL: 'true', MINIO_BUCKET: 'pics' }).publicUrl(KEY)).toBe(`https://127.0.0.1:9000/pics/${KEY}`);
    expect(storageAt(9000, { AVATAR_PUBLIC_BASE_URL: 'https://cdn.example.com/a/' }).publicUrl(KEY)).toBe(
      `https://cdn.example.com/a/${KEY}`,
    );
  });

  it('refuses keys it did not make', async () => {
    await expect(storageAt(9).remove(['../etc/passwd'])).rejects.toThrow('Not an avatar key');
  });
});
