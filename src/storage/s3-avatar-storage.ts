import * as http from 'node:http';
import * as https from 'node:https';
import { Logger } from '@nestjs/common';
import { Client } from 'minio';
import { AppConfig } from '../config/config';
import { assertAvatarKey, AVATAR_CACHE_CONTROL, AvatarObject, AvatarStorage, StorageUnavailable, unavailableOnError } from './avatar-storage';

/**
 * Avatars in an S3 bucket (MinIO in our deployments). The client gets a socket timeout and no retries:
 * an upload waits on this inside a row lock, so a dead or hung store must fail it within MINIO_TIMEOUT_MS.
 */
export class S3AvatarStorage extends AvatarStorage {
  private readonly logger = new Logger('AvatarStorage');
  private readonly client: Client;
  private readonly bucket: string;
  private readonly region: string;
  private readonly baseUrl: string;
  /** Settled once the bucket is known to exist; a failure is forgotten so the next upload checks again. */
  private bucketReady: Promise<void> | null = null;

  constructor(config: AppConfig) {
    super();
    const { minio } = config;
    this.bucket = minio.bucket;
    this.region = minio.region;
    this.client = new Client({
      endPoint: minio.endPoint!,
      port: minio.port,
      useSSL: minio.useSSL,
      accessKey: minio.accessKey,
      secretKey: minio.secretKey,
      region: minio.region,
      pathStyle: true,
      transport: withTimeout(minio.useSSL ? https : http, minio.timeoutMs),
      retryOptions: { disableRetry: true },
    });
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
    await unavailableOnError(() => this.client.bucketExists(this.bucket));
  }

  private async createBucketIfMissing(): Promise<void> {
    await unavailableOnError(async () => {
      if (await this.client.bucketExists(this.bucket)) return;
      try {
        await this.client.makeBucket(this.bucket, this.region);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
        return;
      }
      await this.allowAnonymousReads();
    });
  }

  async put(objects: AvatarObject[]): Promise<void> {
    objects.forEach((o) => assertAvatarKey(o.key));
    await this.ensureBucket();
    await unavailableOnError(() =>
      Promise.all(
        objects.map((o) =>
          // A Buffer with its size: one plain PUT, never a multipart upload.
          this.client.putObject(this.bucket, o.key, o.body, o.body.length, {
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
    const results = await unavailableOnError(() => this.client.removeObjects(this.bucket, keys));
    const failed = results.filter((r) => (r as { Code?: string }).Code);
    if (failed.length > 0) throw new StorageUnavailable(new Error(`S3 refused to delete: ${JSON.stringify(failed)}`));
  }

  publicUrl(key: string): string {
    return `${this.baseUrl}/${key}`;
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
    try {
      await this.client.setBucketPolicy(this.bucket, JSON.stringify(policy));
    } catch (error) {
      if ((error as { code?: string }).code !== 'NotImplemented') throw error;
      this.logger.warn(`Bucket ${this.bucket} was created, but the store cannot set a public-read policy: avatar URLs need one`);
    }
  }
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
