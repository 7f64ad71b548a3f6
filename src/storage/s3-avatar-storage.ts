import * as http from 'node:http';
import * as https from 'node:https';
import { Logger } from '@nestjs/common';
import { Client } from 'minio';
import { AppConfig } from '../config/config';
import {
  assertAvatarKey,
  AVATAR_CACHE_CONTROL,
  AvatarObject,
  AvatarStorage,
  contentTypeOf,
  StorageUnavailable,
  StoreCall,
  userPrefix,
} from './avatar-storage';

/**
 * Pooled connections idle this long are closed by us, before most servers would (Node's default keep-alive
 * timeout is 5 s; MinIO, proxies and load balancers have their own) and without waiting for a hint.
 */
const IDLE_CONNECTION_MS = 2_000;

/**
 * Avatars in an S3 bucket (MinIO in our deployments). Each request to the store gives up after MINIO_TIMEOUT_MS
 * without a byte: an upload waits on this inside a row lock, so a dead or hung store must fail it in that time.
 * minio's own retries (on 5xx answers, with back-off) stay off for the same reason; see `call` for ours.
 */
export class S3AvatarStorage extends AvatarStorage {
  private readonly logger = new Logger('AvatarStorage');
  private readonly client: Client;
  private readonly Agent: typeof http.Agent;
  private readonly bucket: string;
  private readonly region: string;
  private readonly baseUrl: string;
  /** Settled once the bucket is known to exist; a failure is forgotten so the next upload checks again. */
  private bucketReady: Promise<void> | null = null;

  constructor(private readonly config: AppConfig) {
    super();
    const { minio } = config;
    this.bucket = minio.bucket;
    this.region = minio.region;
    this.Agent = minio.useSSL ? https.Agent : http.Agent;
    this.client = this.clientWith(new this.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS }), minio.timeoutMs);
    const scheme = minio.useSSL ? 'https' : 'http';
    this.baseUrl = config.avatars.publicBaseUrl ?? `${scheme}://${minio.endPoint}:${minio.port}/${minio.bucket}`;
  }

  ensureBucket(): Promise<void> {
    this.bucketReady ??= this.createBucketIfMissing().catch((error: unknown) => {
      this.bucketReady = null;
      throw error;
    });
    return this.bucketReady;
  }

  async ping(): Promise<void> {
    await this.call({ operation: 'HEAD', key: this.bucket }, (client) => client.bucketExists(this.bucket));
  }

  private async createBucketIfMissing(): Promise<void> {
    if (await this.call({ operation: 'HEAD', key: this.bucket }, (client) => client.bucketExists(this.bucket))) return;
    const created = await this.call({ operation: 'PUT', key: this.bucket }, async (client) => {
      try {
        await client.makeBucket(this.bucket, this.region);
        return true;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
        return false;
      }
    });
    if (created) await this.allowAnonymousReads();
  }

  async put(objects: AvatarObject[]): Promise<void> {
    objects.forEach((o) => assertAvatarKey(o.key));
    await this.ensureBucket();
    await Promise.all(
      objects.map((o) =>
        this.call({ operation: 'PUT', key: o.key }, (client) =>
          // A Buffer with its size: one plain PUT, never a multipart upload, and sent whole again on a retry.
          client.putObject(this.bucket, o.key, o.body, o.body.length, {
            'Content-Type': o.contentType,
            'Cache-Control': AVATAR_CACHE_CONTROL,
          }),
        ),
      ),
    );
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    keys.forEach(assertAvatarKey);
    const call = { operation: 'DELETE', key: keys.join(' ') };
    const results = await this.call(call, (client) => client.removeObjects(this.bucket, keys));
    const failed = results.filter((r) => (r as { Code?: string }).Code);
    if (failed.length > 0) throw new StorageUnavailable(new Error(`S3 refused to delete: ${JSON.stringify(failed)}`), call);
  }

  async removeAllOf(userId: string): Promise<number> {
    const prefix = userPrefix(userId);
    await this.ensureBucket();
    const keys = await this.call({ operation: 'LIST', key: prefix }, (client) => listKeys(client, this.bucket, prefix));
    // S3 deletes at most 1,000 keys per request.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const call = { operation: 'DELETE', key: `${prefix}* (${batch.length})` };
      const results = await this.call(call, (client) => client.removeObjects(this.bucket, batch));
      const failed = results.filter((r) => (r as { Code?: string }).Code);
      if (failed.length > 0) throw new StorageUnavailable(new Error(`S3 refused to delete: ${JSON.stringify(failed)}`), call);
    }
    return keys.length;
  }

  async read(key: string): Promise<{ body: Buffer; contentType: string }> {
    assertAvatarKey(key);
    const body = await this.call({ operation: 'GET', key }, async (client) => {
      const chunks: Buffer[] = [];
      for await (const chunk of await client.getObject(this.bucket, key)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    });
    return { body, contentType: contentTypeOf(key) };
  }

  publicUrl(key: string): string {
    return `${this.baseUrl}/${key}`;
  }

  /**
   * One call to the store; any failure is a StorageUnavailable. A pooled connection that the store (or a proxy in
   * between) closed as we reused it fails at once with a reset: that call is made once more, on a new connection,
   * within what is left of MINIO_TIMEOUT_MS. Every call here may be repeated: PUTs under content-hash keys, DELETE,
   * HEAD, and creating a bucket or its policy.
   */
  private async call<T>(call: StoreCall, action: (client: Client) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await action(this.client);
    } catch (error) {
      const left = Math.floor(this.config.minio.timeoutMs - (performance.now() - started));
      if (!isConnectionReset(error) || left < 1) throw new StorageUnavailable(error, call);
      try {
        return await action(this.clientWith(new this.Agent({ keepAlive: false }), left));
      } catch (retryError) {
        throw new StorageUnavailable(retryError, call);
      }
    }
  }

  private clientWith(agent: http.Agent, timeoutMs: number): Client {
    const { minio } = this.config;
    return new Client({
      endPoint: minio.endPoint!,
      port: minio.port,
      useSSL: minio.useSSL,
      accessKey: minio.accessKey,
      secretKey: minio.secretKey,
      region: minio.region,
      pathStyle: true,
      transport: withTimeout(minio.useSSL ? https : http, timeoutMs),
      transportAgent: agent,
      retryOptions: { disableRetry: true },
    });
  }

  /**
   * Only on a bucket we just created: an existing bucket's policy is its owner's business (and a PUT replaces the
   * whole policy). Stores without bucket policies (s3rver) answer NotImplemented; then reads must be opened by hand.
   */
  private async allowAnonymousReads(): Promise<void> {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${this.bucket}/*`] }],
    };
    await this.call({ operation: 'PUT policy', key: this.bucket }, async (client) => {
      try {
        await client.setBucketPolicy(this.bucket, JSON.stringify(policy));
      } catch (error) {
        if ((error as { code?: string }).code !== 'NotImplemented') throw error;
        this.logger.warn(`Bucket ${this.bucket} was created, but the store cannot set a public-read policy: avatar URLs need one`);
      }
    });
  }
}

/** Every key under `prefix` (minio lists in pages of 1,000 and follows the continuation itself). */
function listKeys(client: Client, bucket: string, prefix: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const keys: string[] = [];
    client
      .listObjectsV2(bucket, prefix, true)
      .on('data', (object) => object.name && keys.push(object.name))
      .on('error', reject)
      .on('end', () => resolve(keys));
  });
}

/** The socket was closed under the request: reset by the peer, or written to after its close. */
function isConnectionReset(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** minio has no timeout of its own; a socket that sees no byte for `ms` is destroyed, which fails the call. */
function withTimeout(transport: typeof http | typeof https, ms: number): Pick<typeof http, 'request'> {
  const request = (options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
    const req = transport.request({ ...options, timeout: ms }, callback);
    req.on('timeout', () => req.destroy(Object.assign(new Error(`S3 request timed out after ${ms} ms`), { code: 'ETIMEDOUT' })));
    return req;
  };
  return { request } as Pick<typeof http, 'request'>;
}
