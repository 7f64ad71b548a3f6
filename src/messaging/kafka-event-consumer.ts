import { Logger } from '@nestjs/common';
import { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { KafkaConsumerConfig } from '../config/config';
import { BatchHandler, ConsumerStatus, EventConsumer, IncomingMessage } from './event-consumer';

export interface KafkaEventConsumerOptions extends KafkaConsumerConfig {
  groupId: string;
  topics: readonly string[];
  /** Back-off between restarts of a crashed consumer: doubles from the first to the most. */
  restartBackoffMs?: { first: number; most: number };
  /** Asked before each restart: none once the service is shutting down. */
  shuttingDown?: () => boolean;
}

/**
 * kafkajs consumer group, one batch per partition fetch. Offsets are resolved and committed by hand,
 * only after the handler resolved: its database transaction commits first, so a crash in between
 * redelivers a batch that processed_events then turns into a no-op.
 *
 * A consumer that crashes (kafkajs gives up on some errors, and on others after its own retries) is
 * replaced by a new one with back-off; after `maxRestarts` attempts in a row that did not get it back
 * into its group, it stays down as `failed` (and /health/live fails, so that the orchestrator replaces
 * the instance).
 */
export class KafkaEventConsumer extends EventConsumer {
  private readonly logger = new Logger('EventConsumer');
  private consumer: Consumer | null = null;
  private handler: BatchHandler | null = null;
  private state: ConsumerStatus = 'stopped';
  private attempts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaEventConsumerOptions,
  ) {
    super();
  }

  get status(): ConsumerStatus {
    return this.state;
  }

  get restarts(): number {
    return this.attempts;
  }

  /** Throws when the first attempt fails; the consumer then keeps trying in the background until stopped. */
  async start(handler: BatchHandler): Promise<void> {
    if (this.handler) throw new Error('The consumer is already started');
    this.handler = handler;
    await this.run(handler);
  }

  /** kafkajs waits for the batch in hand (handler and commit) before it leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.disconnect();
    this.state = 'stopped';
  }

  private async run(handler: BatchHandler): Promise<void> {
    const { groupId, topics } = this.options;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: this.options.heartbeatIntervalMs,
      rebalanceTimeout: this.options.rebalanceTimeoutMs,
      maxWaitTimeInMs: this.options.maxWaitMs,
      maxBytesPerPartition: this.options.maxBytesPerPartition,
      // Restarts are ours (restartLater): kafkajs would restart some crashes on a timer of its own, even after
      // disconnect(), and leave others down for good.
      retry: { restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    this.state = this.attempts > 0 ? 'restarting' : 'starting';
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.consumer !== consumer) return;
      if (this.attempts > 0) this.logger.log(`Consumer back in group ${groupId} after ${this.attempts} restarts`);
      this.state = 'running';
      this.attempts = 0;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.logger.error(`Consumer crashed: ${payload.error.message}`);
      this.restartLater(consumer);
    });
    // stop() during a slow connect (a broker away) must not leave this one to join the group afterwards.
    const abandoned = async () => {
      if (this.consumer === consumer) return false;
      await consumer.disconnect().catch(() => undefined);
      return true;
    };
    try {
      await consumer.connect();
      if (await abandoned()) return;
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      if (await abandoned()) return;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.concurrency,
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
          if (batch.messages.length === 0) return;
          const lastOffset = batch.messages[batch.messages.length - 1].offset;
          const last = BigInt(lastOffset);
          const lag = Number(BigInt(batch.highWatermark) - last - 1n);
          await handler(
            batch.messages.map((message) => toIncoming(batch.topic, batch.partition, message)),
            { lag },
          );
          // Without resolving the batch kafkajs fetches the same messages again, committed or not. It keeps one
          // resolved offset per partition, so the last message's stands for the batch.
          resolveOffset(lastOffset);
          const next = (last + 1n).toString();
          // The batch's own commit, not consumer.commitOffsets: that one does nothing once stop() was called,
          // which would leave the batch finished during a graceful stop uncommitted.
          await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
          await heartbeat();
        },
      });
    } catch (error) {
      this.logger.error(`Consumer could not start: ${(error as Error).message}`);
      this.restartLater(consumer);
      throw error;
    }
  }

  private restartLater(crashed: Consumer): void {
    if (this.consumer !== crashed) return; // stopped, or already being replaced
    this.consumer = null;
    void crashed.disconnect().catch(() => undefined);
    if (this.stopped || this.options.shuttingDown?.()) {
      this.state = 'stopped';
      return;
    }
    if (this.attempts >= this.options.maxRestarts) {
      this.state = 'failed';
      this.logger.error(`Consumer not restarted: ${this.attempts} restarts in a row failed (KAFKA_CONSUMER_MAX_RESTARTS)`);
      return;
    }
    const { first, most } = this.options.restartBackoffMs ?? { first: 300, most: 30_000 };
    const delay = Math.min(first * 2 ** this.attempts, most);
    this.attempts++;
    this.state = 'restarting';
    this.logger.warn(`Restarting the consumer in ${delay} ms (attempt ${this.attempts} of ${this.options.maxRestarts})`);
    this.restartTimer = setTimeout(() => void this.run(this.handler!).catch(() => undefined), delay);
  }
}

function toIncoming(topic: string, partition: number, message: KafkaMessage): IncomingMessage {
  return { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: textHeaders(message.headers) };
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    text[name] = (Array.isArray(value) ? value : [value]).map(String).join(',');
  }
  return text;
}
