import { Kafka, Message, Partitioners, Producer } from 'kafkajs';
import { EventPublisher, OutgoingMessage } from './event-publisher';

export class KafkaEventPublisher extends EventPublisher {
  private readonly producer: Producer;

  constructor(kafka: Kafka) {
    super();
    // One request in flight so a retried send cannot overtake the next one; not idempotent because
    // consumers deduplicate by event id anyway (and some brokers, like librdkafka's mock, lack the support).
    this.producer = kafka.producer({
      idempotent: false,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const { topic, key, value, headers } of messages) {
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push({ key, value, headers });
    }
    await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })) });
  }
}
