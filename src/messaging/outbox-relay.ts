import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { deleteInBatches, sweepPeriodically } from '../common/delete-in-batches';
import { AppConfig } from '../config/config';
import { EmbeddedDatabase } from '../config/database';
import { Metrics } from '../observability/metrics';
import { EventPublisher } from './event-publisher';
import { OutboxListener } from './outbox-listener';
import { OutboxRow, toOutgoingMessage } from './outbox-message';
import { bucketsOf, LOCK_SHARD, PENDING_BUCKETS, pendingShards, SELECT_BATCH } from './outbox-shards';
import { withUserSnapshots } from '../users/persistence/user-snapshots';

const BACKOFF_INITIAL_MS = 100;
const RETENTION_EVERY_MS = 10 * 60_000;
const SHUTDOWN_WAIT_MS = 10_000;

export interface RelayStatus {
  status: 'connected' | 'disconnected' | 'disabled';
  broker: string | null;
}

/**
 * Publishes outbox rows to Kafka in id order and marks them published in the transaction that
 * selected them, so a crash between the two only re-sends (at-least-once; consumers dedupe by ce_id).
 *
 * Sharded across instances: the rows are split into OUTBOX_SHARDS shards by a hash of the user id
 * (outbox-shards.ts), and a batch of a shard is published only while holding that shard's transaction-
 * level advisory locks; an instance skips a shard another one holds. So instances share the publishing,
 * and each user's events (all in one shard) go out one batch after the other, in id order. FOR UPDATE
 * SKIP LOCKED alone would let two relays take consecutive batches of one user's events concurrently.
 * Id order is each user's commit order because a command holds the user's row lock while it writes.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly enabled: boolean;
  private listener: OutboxListener | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wanted = false;
  private signal: (() => void) | null = null;
  private producerReady = false;
  /** As of the last attempt to reach Kafka. */
  private reachable = false;
  private failures = 0;
  private stopRetention: (() => void) | undefined;
  /** Each of the OUTBOX_CONCURRENCY workers' own connection. */
  private readonly runners: Array<QueryRunner | null> = [];
  private readonly shards: number;
  private readonly concurrency: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: EventPublisher,
    private readonly config: AppConfig,
    /** null unless the database is the embedded PGlite (AppModule provides it that way). */
    private readonly embedded: EmbeddedDatabase,
    private readonly metrics: Metrics,
  ) {
    this.enabled = config.kafka.brokers.length > 0;
    this.shards = config.outbox.shards;
    this.concurrency = embedded ? 1 : Math.min(config.outbox.concurrency, this.shards);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    this.listener = new OutboxListener(this.config.database, this.embedded, () => this.wake());
    await this.listener.start();
    this.loop = this.run();
    // Alongside the relay, not before it: after downtime, pending events go out first.
    this.stopRetention = sweepPeriodically('Outbox retention', this.logger, () => this.deleteExpired(), RETENTION_EVERY_MS);
  }

  /** Runs before TypeORM closes its pool in its own onApplicationShutdown: the batch in hand still commits. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.stopRetention?.();
    this.wake();
    await Promise.race([this.loop, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref())]);
    await this.listener?.close();
    for (const runner of this.runners) await runner?.release().catch(() => undefined);
    await this.publisher.disconnect().catch(() => undefined);
  }

  wake(): void {
    this.wanted = true;
    this.signal?.();
  }

  /** For /health: Kafka as of the last attempt to reach it. */
  status(): RelayStatus {
    const broker = this.enabled ? this.config.kafka.brokers.join(',') : null;
    return { status: !this.enabled ? 'disabled' : this.reachable ? 'connected' : 'disconnected', broker };
  }

  /** Deletes published rows older than OUTBOX_RETENTION_HOURS, a batch at a time so no statement holds many locks. */
  deleteExpired(batchSize = 5000): Promise<number> {
    return deleteInBatches(
      this.dataSource,
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE published_at < now() - make_interval(hours => $1) ORDER BY id LIMIT $2)`,
      [this.config.outbox.retentionHours],
      batchSize,
    );
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.wanted = false;
      try {
        await this.drain();
      } catch (error) {
        this.failed(error as Error);
        await this.sleep(Math.min(BACKOFF_INITIAL_MS * 2 ** (this.failures - 1), this.config.outbox.backoffMaxMs), false);
        continue;
      }
      if (!this.wanted) await this.sleep(this.config.outbox.pollIntervalMs, true);
    }
  }

  /**
   * Drains the shards with unpublished rows, OUTBOX_CONCURRENCY at a time, each until a batch comes back short
   * or another instance holds it (a wake-up during the drain makes run() look again). Starts at a random
   * shard, so that instances woken together spread over the shards.
   */
  private async drain(): Promise<void> {
    if (!this.producerReady) {
      await this.publisher.connect();
      this.producerReady = true;
      this.succeeded();
    }
    const buckets: Array<{ bucket: number }> = await this.transaction(0, (manager) => manager.query(PENDING_BUCKETS));
    const pending = pendingShards(
      buckets.map((row) => row.bucket),
      this.shards,
    );
    const first = Math.floor(Math.random() * pending.length);
    const queue = [...pending.slice(first), ...pending.slice(0, first)];
    const worker = async (slot: number) => {
      for (let shard = queue.shift(); shard !== undefined && !this.stopping; shard = queue.shift()) {
        while (!this.stopping && (await this.publishBatch(slot, shard)) === this.config.outbox.batchSize);
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, (_, slot) => worker(slot)));
  }

  private publishBatch(slot: number, shard: number): Promise<number> {
    return this.transaction(slot, async (manager) => {
      const buckets = bucketsOf(shard, this.shards);
      const [{ locked }] = await manager.query(LOCK_SHARD, [shard, this.shards, buckets]);
      if (!locked) return 0;
      const rows: OutboxRow[] = await manager.query(SELECT_BATCH, [buckets, this.config.outbox.batchSize]);
      if (rows.length === 0) return 0;
      const messages = await withUserSnapshots(manager, rows.map(toOutgoingMessage));
      await this.publisher.publish(messages);
      for (const message of messages) this.metrics.eventPublished(message.topic);
      await manager.query(`UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      this.succeeded();
      return rows.length;
    });
  }

  /**
   * On PostgreSQL each worker (`slot`) keeps one pooled connection for itself: under load, waiting in the
   * pool's queue behind hundreds of requests made each batch wait ~0.5 s. PGlite has a single connection to share.
   */
  private async transaction<T>(slot: number, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.embedded) return this.dataSource.transaction(work);
    const runner = (this.runners[slot] ??= this.dataSource.createQueryRunner());
    try {
      return await runner.manager.transaction(work);
    } catch (error) {
      // The connection may be what broke: take a fresh one next time.
      await runner.release().catch(() => undefined);
      this.runners[slot] = null;
      throw error;
    }
  }

  private succeeded(): void {
    if (this.failures > 0) this.logger.log(`Publishing to Kafka again after ${this.failures} failed attempts`);
    this.failures = 0;
    this.reachable = true;
  }

  /** The first failure is logged with its cause, then one line per 10 attempts, not one per retry. */
  private failed(error: Error): void {
    this.failures++;
    this.reachable = false;
    if (this.failures === 1) this.logger.warn(`Outbox relay cannot publish, retrying with back-off: ${error.message}`);
    else if (this.failures % 10 === 0) this.logger.warn(`Outbox relay still failing after ${this.failures} attempts: ${error.message}`);
  }

  /** Waits for the delay, or for a wake-up when `wakeable`; shutdown always ends the wait. */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.signal = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.signal = () => {
        if (wakeable || this.stopping) done();
      };
    });
  }
}
