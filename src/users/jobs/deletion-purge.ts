import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/config';
import { Metrics } from '../../observability/metrics';
import { AvatarStorage } from '../../storage/avatar-storage';
import { UserRepository } from '../persistence/user.repository';

const CONTEXT = { actor: 'system:purge', traceId: null };
const DAY_MS = 24 * 60 * 60 * 1000;

export interface PurgeResult {
  erased: number;
  failed: number;
  /** Outbox rows of erased users deleted once published. */
  scrubbed: number;
}

/**
 * Erases users deleted longer ago than DELETION_GRACE_DAYS and not under a legal hold, a batch per transaction
 * (SKIP LOCKED: instances racing take different users), then deletes the published events of erased users.
 * A user whose avatar objects cannot be deleted is left as it is (logged, counted as a failure) and tried again
 * next run.
 */
@Injectable()
export class DeletionPurge {
  private readonly logger = new Logger(DeletionPurge.name);

  constructor(
    private readonly users: UserRepository,
    private readonly storage: AvatarStorage,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async run(now = new Date()): Promise<PurgeResult> {
    const result: PurgeResult = { erased: 0, failed: 0, scrubbed: 0 };
    try {
      await this.eraseDue(now, result);
      result.scrubbed = await this.scrubEvents();
    } catch (error) {
      this.metrics.purgeRan(true);
      throw error;
    }
    this.metrics.purgeRan(result.failed > 0);
    return result;
  }

  private async eraseDue(now: Date, result: PurgeResult): Promise<void> {
    const { jobBatchSize: batch, deletionGraceDays } = this.config.lifecycle;
    const deletedBefore = new Date(now.getTime() - deletionGraceDays * DAY_MS);
    for (;;) {
      let failed = 0;
      const erased = await this.users.modifyDue({ kind: 'grace_ended', deletedBefore }, batch, CONTEXT, async (user) => {
        try {
          await this.storage.removeAllOf(user.id);
        } catch (error) {
          failed++;
          this.logger.warn(
            `Purge could not delete the avatar objects of user ${user.id}, trying again next run: ${(error as Error).message}`,
          );
          return;
        }
        user.erase(now);
      });
      for (let i = 0; i < erased.length; i++) this.metrics.userErased();
      result.erased += erased.length;
      result.failed += failed;
      if (erased.length + failed < batch || erased.length === 0) return;
    }
  }

  /**
   * Events of erased users leave the outbox once published (they go out first, so that consumers see the history
   * that user.erased then tells them to forget). Without Kafka nothing would ever publish them: they go at once.
   */
  private async scrubEvents(): Promise<number> {
    const batch = this.config.lifecycle.jobBatchSize;
    const unpublished = this.config.kafka.brokers.length === 0;
    let scrubbed = 0;
    for (;;) {
      const n = await this.users.scrubErasedEvents(batch, unpublished);
      scrubbed += n;
      if (n < batch) return scrubbed;
    }
  }
}
