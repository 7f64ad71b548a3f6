/**
 * A real S3-compatible HTTP server for tests: @20minutes/s3rver (pinned 4.0.4, the
 * newest release whose `engines` allows Node 20), in-process, on 127.0.0.1, a random
 * free port, a fresh temp directory, and a random access/secret key pair. Signed
 * requests are SigV4-verified (a wrong secret gets 403 SignatureDoesNotMatch).
 *
 * Quirks worth knowing (verified with minio 8.0.x):
 * - UNSIGNED requests are never checked: any anonymous GET/PUT/DELETE succeeds. Good
 *   for testing "avatarUrl points at the store" (plain GET returns the stored
 *   Content-Type and Cache-Control), but s3rver enforces no ACL/bucket policy and
 *   setBucketPolicy() answers 501 NotImplemented.
 * - No multipart: pass putObject a Buffer (known size, below minio's partSize).
 *   A stream, or a size >= partSize, makes minio list multipart uploads first and
 *   s3rver answers NotImplemented.
 * - s3rver's multi-object delete can race and answer 500 (see the patch below).
 * - Credentials live in a module-global registry inside s3rver (there is no option
 *   for them); it is per Jest test file, because Jest gives each file its own module
 *   registry. The hard-coded default pair S3RVER/S3RVER is revoked.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'minio';

interface S3rverOptions {
  directory: string;
  silent: boolean;
  resetOnClose: boolean;
  configureBuckets?: { name: string; configs?: Buffer[] }[];
}

/** s3rver is a Koa app; we drive its request handler from our own http.Server */
interface S3rverInstance {
  configureBuckets(): Promise<unknown>;
  callback(): RequestListener;
}

interface AwsAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  revokeAccessKey(accessKeyId: string): void;
}

// The package ships no types; plain require keeps this file free of a .d.ts.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('@20minutes/s3rver') as new (options: S3rverOptions) => S3rverInstance;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account') as { DUMMY_ACCOUNT: AwsAccount };

// s3rver bug: FilesystemStore.deleteObject() removes directories left empty with an
// unguarded readdirSync/rm, so two deletes racing in one "folder" (removeObjects of
// several keys under the same prefix, or parallel removeObject calls) randomly fail
// with ENOENT -> HTTP 500. The files are already unlinked at that point, so ENOENT
// from the clean-up is safe to ignore.
interface FilesystemStoreClass {
  prototype: { deleteObject: (this: unknown, ...args: unknown[]) => Promise<void> };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const FilesystemStore = require('@20minutes/s3rver/lib/stores/filesystem') as FilesystemStoreClass;
const PATCHED = Symbol.for('user-service.s3rver.deleteObject.enoent');
const originalDeleteObject = FilesystemStore.prototype.deleteObject as typeof FilesystemStore.prototype.deleteObject & {
  [PATCHED]?: true;
};
if (!originalDeleteObject[PATCHED]) {
  const patched = async function (this: unknown, ...args: unknown[]): Promise<void> {
    try {
      await originalDeleteObject.apply(this, args);
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== 'ENOENT') throw err;
    }
  };
  Object.assign(patched, { [PATCHED]: true });
  FilesystemStore.prototype.deleteObject = patched;
}

export interface S3Server {
  endPoint: '127.0.0.1';
  port: number;
  accessKey: string;
  secretKey: string;
  /** http://127.0.0.1:<port> — for anonymous GETs of `${url}/${bucket}/${key}` */
  url: string;
  /** the temp directory holding the objects (kept across stop/start) */
  directory: string;
  /** simulate an outage: stop listening and drop open (keep-alive) connections */
  stop(): Promise<void>;
  /** restart on the same port after stop(); previously stored objects are still there */
  start(): Promise<void>;
  /** stop (if running) and delete the temp directory; call in afterAll */
  dispose(): Promise<void>;
}

export interface StartS3ServerOptions {
  /** buckets to create before the server accepts requests */
  buckets?: string[];
  /**
   * Closes connections idle this long, as MinIO, proxies and load balancers do: without a Keep-Alive hint, so the
   * client cannot know. A request sent on one after that is reset, as when the request and the server's close
   * cross; the socket itself is closed a second later (Node's keepAliveTimeout, with its 1 s margin).
   */
  keepAliveTimeoutMs?: number;
}

export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const removeDirOnExit = () => rmSync(directory, { recursive: true, force: true });
  process.once('exit', removeDirOnExit);

  const accessKey = `TEST${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretKey = randomBytes(20).toString('base64url');
  DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);
  DUMMY_ACCOUNT.revokeAccessKey('S3RVER');

  let httpServer: Server | undefined;
  let port = 0; // 0 = let the OS pick a free port the first time

  const launch = async (buckets: string[]): Promise<void> => {
    // A fresh s3rver per start; its filesystem store reads the same directory, so
    // data survives a restart. We listen ourselves instead of s3rver.run(), whose
    // listen() turns EADDRINUSE into an uncaught 'error' event and a promise that
    // never settles.
    const app = new S3rver({
      directory,
      silent: true,
      resetOnClose: false,
      configureBuckets: buckets.map((name) => ({ name })),
    });
    await app.configureBuckets();
    const idleMs = options.keepAliveTimeoutMs;
    const next = createServer(idleMs === undefined ? app.callback() : closingWhenIdle(app.callback(), idleMs));
    if (idleMs !== undefined) next.keepAliveTimeout = idleMs;
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        resolve();
      });
    });
    const address = next.address();
    if (address === null || typeof address === 'string') throw new Error('s3rver: unexpected listen address');
    port = address.port;
    httpServer = next;
  };

  await launch(options.buckets ?? []);

  const stop = async (): Promise<void> => {
    const current = httpServer;
    if (!current) return;
    httpServer = undefined;
    const closed = new Promise<void>((resolve, reject) => current.close((err) => (err ? reject(err) : resolve())));
    current.closeAllConnections(); // keep-alive sockets too: the outage is immediate
    await closed;
  };

  const server: S3Server = {
    endPoint: '127.0.0.1',
    port,
    accessKey,
    secretKey,
    url: `http://127.0.0.1:${port}`,
    directory,
    stop,
    async start() {
      if (httpServer) return;
      // the port was ours a moment ago; retry briefly in case it is not free yet
      for (let attempt = 0; ; attempt++) {
        try {
          await launch([]);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
    async dispose() {
      await stop();
      DUMMY_ACCOUNT.revokeAccessKey(accessKey);
      process.removeListener('exit', removeDirOnExit);
      await rm(directory, { recursive: true, force: true });
    },
  };
  return server;
}

function closingWhenIdle(handle: RequestListener, idleMs: number): RequestListener {
  const lastAnswered = new WeakMap<Socket, number>();
  return (request, response) => {
    const last = lastAnswered.get(request.socket);
    if (last !== undefined && performance.now() - last >= idleMs) {
      request.socket.resetAndDestroy();
      return;
    }
    response.setHeader('connection', 'keep-alive'); // set by hand: Node then adds no `Keep-Alive: timeout=` hint
    response.on('finish', () => lastAnswered.set(request.socket, performance.now()));
    handle(request, response);
  };
}

/** A minio client for the server, with its keys unless overridden. */
export function clientFor(server: S3Server, overrides: { accessKey?: string; secretKey?: string } = {}): Client {
  return new Client({
    endPoint: server.endPoint,
    port: server.port,
    useSSL: false,
    accessKey: overrides.accessKey ?? server.accessKey,
    secretKey: overrides.secretKey ?? server.secretKey,
    region: 'us-east-1', // skips minio's bucket-location lookup
    retryOptions: { disableRetry: true },
  });
}

/** The names of the objects under `prefix`, sorted. */
export function listObjects(client: Client, bucket: string, prefix: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const names: string[] = [];
    client
      .listObjectsV2(bucket, prefix, true)
      .on('data', (o) => o.name && names.push(o.name))
      .on('error', reject)
      .on('end', () => resolve(names.sort()));
  });
}
