import { Consumer, Kafka, logLevel } from 'kafkajs';
import { waitFor } from './wait';

export interface Received {
  topic: string;
  partition: number;
  key: string;
  value: any;
  headers: Record<string, string>;
  /** Broker (CreateTime) timestamp, ms. */
  timestamp: number;
}

const USER_TOPICS = [
  'user.created',
  'user.updated',
  'user.deleted',
  'user.avatar_uploaded',
  'user.quota_threshold_reached',
  'user.suspended',
  'user.reactivated',
  'user.restored',
  'user.erased',
];

/** kafkajs settings that suit the mock broker, for the relay's producer and the stats consumer alike. */
export const FAST_KAFKA_ENV = {
  KAFKA_RETRY_INITIAL_MS: '100',
  KAFKA_RETRY_MAX_MS: '1000',
  KAFKA_RETRIES: '5',
  KAFKA_SESSION_TIMEOUT_MS: '4000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '300',
  KAFKA_REBALANCE_TIMEOUT_MS: '4000',
  KAFKA_MAX_WAIT_MS: '100',
};
const retry = { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 };
let groups = 0;

/** Reads every user.* topic from the beginning in a group of its own, keeping per-partition order. */
export class KafkaCollector {
  readonly messages: Received[] = [];
  private consumer: Consumer;

  private constructor(brokers: string[]) {
    const kafka = new Kafka({ clientId: 'test-collector', brokers, logLevel: logLevel.NOTHING, retry });
    this.consumer = kafka.consumer({
      groupId: `test-collector-${process.pid}-${Date.now()}-${groups++}`,
      sessionTimeout: 4000,
      heartbeatInterval: 300,
      rebalanceTimeout: 4000,
      maxWaitTimeInMs: 100,
      retry,
    });
  }

  static async start(brokers: string[]): Promise<KafkaCollector> {
    const collector = new KafkaCollector(brokers);
    const { consumer } = collector;
    await consumer.connect();
    await consumer.subscribe({ topics: USER_TOPICS, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const m of batch.messages) {
          collector.messages.push({
            topic: batch.topic,
            partition: batch.partition,
            key: String(m.key),
            value: JSON.parse(String(m.value)),
            headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
            timestamp: Number(m.timestamp),
          });
          resolveOffset(m.offset);
        }
        await heartbeat();
      },
    });
    return collector;
  }

  of(userIds: Iterable<string>): Received[] {
    const wanted = new Set(userIds);
    return this.messages.filter((m) => wanted.has(m.key));
  }

  async waitFor(userIds: Iterable<string>, count: number, timeoutMs = 20_000): Promise<Received[]> {
    const ids = [...userIds];
    await waitFor(() => new Set(this.of(ids).map((m) => m.headers.ce_id)).size >= count, timeoutMs, `${count} events`);
    return this.of(ids);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
