import { Logger } from '@nestjs/common';
import { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { KafkaConsumerConfig } from '../config/config';
import { BatchHandler, ConsumerStatus, EventConsumer, IncomingMessage } from './event-consumer';

export interface KafkaEventConsumerOptions extends KafkaConsumerConfig {
  groupId: string;
  topics: readonly string[];
}

/**
 * kafkajs consumer group, one batch per partition fetch. Offsets are resolved and committed by hand,
 * only after the handler resolved: its database transaction commits first, so a crash in between
 * redelivers a batch that processed_events then turns into a no-op.
 */
export class KafkaEventConsumer extends EventConsumer {
  private readonly logger = new Logger('EventConsumer');
  private consumer: Consumer | null = null;
  private state: ConsumerStatus = 'stopped';

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaEventConsumerOptions,
  ) {
    super();
  }

  get status(): ConsumerStatus {
    return this.state;
  }

  async start(handler: BatchHandler): Promise<void> {
    if (this.consumer) throw new Error('The consumer is already started');
    const { groupId, topics } = this.options;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: this.options.heartbeatIntervalMs,
      rebalanceTimeout: this.options.rebalanceTimeoutMs,
      maxWaitTimeInMs: this.options.maxWaitMs,
      maxBytesPerPartition: this.options.maxBytesPerPartition,
      // kafkajs restarts a crashed consumer on a timer, even when disconnect() came in between; a
      // stopped consumer must stay stopped, or it retries a gone broker forever and keeps the process alive.
      retry: { restartOnFailure: async () => this.consumer === consumer },
    });
    this.consumer = consumer;
    this.state = 'starting';
    consumer.on(consumer.events.GROUP_JOIN, () => (this.state = 'running'));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger.error(`Consumer crashed (${payload.restart ? 'restarting' : 'not restarting'}): ${payload.error.message}`);
      this.state = payload.restart ? 'starting' : 'crashed';
    });

    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
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
  }

  /** kafkajs waits for the batch in hand (handler and commit) before it leaves the group. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    if (!consumer) return;
    await consumer.disconnect();
    this.state = 'stopped';
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
