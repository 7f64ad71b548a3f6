import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { deleteInBatches, sweepPeriodically } from '../../common/delete-in-batches';

const EVERY_MS = 10 * 60_000;

/**
 * Deletes expired quota reservations at start and every 10 minutes (every instance; a second one deletes nothing),
 * a batch per statement. Only housekeeping: sums already leave expired reservations out, and a user's own are
 * deleted before their next reservation.
 */
@Injectable()
export class QuotaReservationExpiry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(QuotaReservationExpiry.name);
  private stop: (() => void) | undefined;

  constructor(private readonly dataSource: DataSource) {}

  onApplicationBootstrap(): void {
    this.stop = sweepPeriodically('Quota reservation expiry', this.logger, () => this.deleteExpired(), EVERY_MS);
  }

  beforeApplicationShutdown(): void {
    this.stop?.();
  }

  deleteExpired(batchSize = 5000): Promise<number> {
    return deleteInBatches(
      this.dataSource,
      `DELETE FROM quota_reservations WHERE id IN (
         SELECT id FROM quota_reservations WHERE expires_at <= now() ORDER BY expires_at LIMIT $1)`,
      [],
      batchSize,
    );
  }
}
