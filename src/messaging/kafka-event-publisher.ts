import { Logger } from '@nestjs/common';
import { ConfigResourceTypes, Kafka, Message, Partitioners, Producer } from 'kafkajs';
import { EventPublisher, OutgoingMessage } from './event-publisher';

export class KafkaEventPublisher extends EventPublisher {
  private readonly logger = new Logger('EventPublisher');
  private readonly producer: Producer;
  private compactedChecked = false;

  /** `compactedTopics`: created with cleanup.policy=compact on the first connect, where the broker allows. */
  constructor(
    private readonly kafka: Kafka,
    private readonly compactedTopics: readonly string[] = [],
  ) {
    super();
    // One request in flight so a retried send cannot overtake the next one; not idempotent because
    // consumers deduplicate by event id anyway (and some brokers, like librdkafka's mock, lack the support).
    this.producer = kafka.producer({
      idempotent: false,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    if (this.compactedChecked) return;
    this.compactedChecked = true;
    for (const topic of this.compactedTopics) await this.createCompacted(topic);
  }

  /**
   * Creates `topic` compacted, or says in the log why it could not: a topic that exists already is left as it is (with
   * a warning unless it is compacted), and a broker that refuses CreateTopics (librdkafka's mock) or lacks the ACL
   * leaves it to auto-creation on first use, with the broker's default cleanup.policy.
   */
  private async createCompacted(topic: string): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const configEntries = [{ name: 'cleanup.policy', value: 'compact' }];
      if (await admin.createTopics({ topics: [{ topic, configEntries }], waitForLeaders: true })) {
        this.logger.log(`Created ${topic} with cleanup.policy=compact`);
        return;
      }
      const described = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
        includeSynonyms: false,
      });
      const policy = described.resources[0]?.configEntries.find((entry) => entry.configName === 'cleanup.policy')?.configValue;
      if (!policy?.includes('compact')) {
        this.logger.warn(`${topic} exists with cleanup.policy=${policy ?? 'unknown'}: set it to compact (kafka-configs --alter)`);
      }
    } catch (error) {
      this.logger.warn(
        `Could not create ${topic} with cleanup.policy=compact (${(error as Error).message}); ` +
          'it is auto-created on first use with the broker default: create it compacted beforehand',
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
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
