import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { ComponentHealth, StorageHealth } from '../observability/health-contributors';
import { AvatarStorage } from './avatar-storage';

/** The avatar store on /health: the bucket (or directory) answers, within the store's own timeout. */
@Injectable()
export class AvatarStoreHealth extends StorageHealth {
  constructor(
    private readonly storage: AvatarStorage,
    private readonly config: AppConfig,
  ) {
    super();
  }

  async check(): Promise<ComponentHealth> {
    const { endPoint, port, bucket } = this.config.minio;
    const where = endPoint ? { kind: 's3', endpoint: `${endPoint}:${port}`, bucket } : { kind: 'local' };
    try {
      await this.storage.ping();
      return { status: 'connected', ...where };
    } catch {
      return { status: 'disconnected', ...where };
    }
  }
}
