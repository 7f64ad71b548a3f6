import { DynamicModule, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { AvatarFilesController } from './avatar-files.controller';
import { AvatarProcessor } from './avatar-processor';
import { AvatarStorage } from './avatar-storage';
import { LocalAvatarStorage } from './local-avatar-storage';
import { S3AvatarStorage } from './s3-avatar-storage';
import { AvatarStoreHealth } from './storage-health';
import { StorageHealth } from '../observability/health-contributors';

/** MinIO/S3 when MINIO_ENDPOINT is set, else the embedded store under DATA_DIR, served by the service. */
@Module({})
export class StorageModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('AvatarStorage');

  constructor(
    private readonly storage: AvatarStorage,
    private readonly config: AppConfig,
  ) {}

  static forRoot(config: AppConfig): DynamicModule {
    const local = config.minio.endPoint === null;
    return {
      module: StorageModule,
      global: true,
      controllers: local ? [AvatarFilesController] : [],
      providers: [
        { provide: AvatarStorage, useFactory: () => (local ? new LocalAvatarStorage(config) : new S3AvatarStorage(config)) },
        AvatarProcessor,
        { provide: StorageHealth, useClass: AvatarStoreHealth },
      ],
      exports: [AvatarStorage, AvatarProcessor, StorageHealth],
    };
  }

  /** A store that is down at start-up does not stop the service: profiles work, uploads answer 503 until it is back. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.storage.ensureBucket();
    } catch (error) {
      const { endPoint, bucket } = this.config.minio;
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? String(error);
      this.logger.warn(`Could not check or create the avatar bucket ${bucket} on ${endPoint}: ${cause}`);
    }
  }
}
