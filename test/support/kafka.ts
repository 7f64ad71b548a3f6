import { Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { KafkaBroker } from './kafka-broker';
import { FAST_KAFKA_ENV } from './kafka-collector';
import { waitFor } from './wait';

/** The service's Kafka settings for a test on the mock broker, with a consumer group of its own. */
export function kafkaEnv(broker: KafkaBroker, groupId: string): Record<string, string> {
  return {
    KAFKA_BROKERS: broker.brokers.join(','),
    KAFKA_GROUP_ID: groupId,
    KAFKA_CLIENT_ID: `test-${groupId}`,
    ...FAST_KAFKA_ENV,
  };
}

export function testKafka(broker: KafkaBroker): Kafka {
  return new Kafka({
    clientId: 'test-client',
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 },
  });
}

export async function testProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return producer;
}

/** Sends envelopes to the topic named by their eventType, keyed by userId like the platform's producers. */
export async function sendEvents(producer: Producer, events: Array<{ eventType: string; userId: string } & Record<string, unknown>>) {
  for (const event of events) {
    await producer.send({ topic: event.eventType, acks: -1, messages: [{ key: event.userId, value: JSON.stringify(event) }] });
  }
}

interface ReadMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Reads a topic from the beginning with a throw-away group until `done` says it has what it needs. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  done: (messages: ReadMessage[]) => boolean,
  timeoutMs = 20_000,
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    sessionTimeout: 4000,
    heartbeatInterval: 300,
    rebalanceTimeout: 4000,
    maxWaitTimeInMs: 100,
  });
  const messages: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        messages.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
      },
    });
    await waitFor(() => done(messages), timeoutMs, `messages on ${topic}`);
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** Polls until `check` returns a truthy value (sync or async); no fixed sleeps. */
/** Waits until the group has committed every message on the topics: all of them are handled. */
export async function waitForCommitted(kafka: Kafka, groupId: string, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
        for (const topic of topics) {
          const ends = await admin.fetchTopicOffsets(topic);
          const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
          for (const end of ends) {
            if (end.high === '0') continue;
            if (done.find((p) => p.partition === end.partition)?.offset !== end.high) return false;
          }
        }
        return true;
      },
      timeoutMs,
      `group ${groupId} to commit everything on ${topics.join(', ')}`,
    );
  } finally {
    await admin.disconnect();
  }
}
