import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { deleteInBatches, sweepPeriodically } from '../../common/delete-in-batches';
import { AppConfig } from '../../config/config';

const EVERY_MS = 10 * 60_000;

/**
 * Deletes Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_HOURS, at start and every 10 minutes
 * (every instance; a second one deletes nothing), a batch per statement so that none holds many locks.
 * A key used again after that is a new call.
 */
@Injectable()
export class IdempotencyKeyExpiry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(IdempotencyKeyExpiry.name);
  private stop: (() => void) | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.stop = sweepPeriodically('Idempotency key expiry', this.logger, () => this.deleteExpired(), EVERY_MS);
  }

  beforeApplicationShutdown(): void {
    this.stop?.();
  }

  deleteExpired(batchSize = 5000): Promise<number> {
    return deleteInBatches(
      this.dataSource,
      `DELETE FROM idempotency_keys WHERE key IN (
         SELECT key FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1) ORDER BY created_at LIMIT $2)`,
      [this.config.idempotencyKeyTtlHours],
      batchSize,
    );
  }
}
