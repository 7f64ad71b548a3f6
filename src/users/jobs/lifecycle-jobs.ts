import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/config';
import { AuditRetention } from './audit-retention';
import { DeletionPurge } from './deletion-purge';
import { SuspensionExpiry } from './suspension-expiry';

const SHUTDOWN_WAIT_MS = 10_000;

/**
 * Runs the account lifecycle jobs at start and every LIFECYCLE_JOB_INTERVAL_MS (0: never), one after the other, on
 * every instance: each is safe to run on several at once. A tick that finds the previous run still going is skipped;
 * on shutdown the run in hand may finish (at most 10 s) before the pool closes.
 */
@Injectable()
export class LifecycleJobs implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LifecycleJobs.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly expiry: SuspensionExpiry,
    private readonly purge: DeletionPurge,
    private readonly retention: AuditRetention,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.lifecycle.jobIntervalMs;
    if (interval === 0) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), interval).unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    if (this.running) await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref())]);
  }

  private tick(): void {
    this.running ??= this.runAll().finally(() => (this.running = null));
  }

  private async runAll(): Promise<void> {
    // Each says what it did, or null when there was nothing to do (then nothing is logged).
    const jobs: Array<[string, () => Promise<string | null>]> = [
      ['Suspension expiry', async () => said(await this.expiry.run(), 'suspensions ended')],
      ['Purge', async () => said((await this.purge.run()).erased, 'users erased')],
      ['Audit retention', async () => said(await this.retention.run(), 'audit entries deleted')],
    ];
    for (const [name, run] of jobs) {
      try {
        const done = await run();
        if (done) this.logger.log(`${name}: ${done}`);
      } catch (error) {
        this.logger.warn(`${name} failed, trying again in ${this.config.lifecycle.jobIntervalMs} ms: ${(error as Error).message}`);
      }
    }
  }
}

function said(count: number, what: string): string | null {
  return count > 0 ? `${count} ${what}` : null;
}
