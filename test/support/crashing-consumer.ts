// A service process that dies between its database commit and its offset commit: it applies the first
// batch it gets through the real projector, reports it on stdout, then hangs until the test kills it.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/config/database';
import { PgPool } from '../../src/config/pg-pool';
import { createKafka } from '../../src/messaging/kafka-client';
import { KafkaEventConsumer } from '../../src/messaging/kafka-event-consumer';
import { KafkaEventPublisher } from '../../src/messaging/kafka-event-publisher';
import { CONSUMED_TOPICS } from '../../src/users/usage-events/consumed-event';
import { StatsProjector } from '../../src/users/usage-events/stats-projector';
import { Metrics } from '../../src/observability/metrics';
import { PgUserRepository } from '../../src/users/persistence/pg-user.repository';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const dataSource = await new DataSource({ ...dataSourceOptions(config, null), migrationsRun: false }).initialize();
  const publisher = new KafkaEventPublisher(createKafka(config.kafka));
  await publisher.connect();
  const metrics = new Metrics();
  const projector = new StatsProjector(new PgUserRepository(new PgPool(dataSource), metrics), publisher, metrics);
  const consumer = new KafkaEventConsumer(createKafka(config.kafka), {
    ...config.kafka.consumer,
    groupId: config.kafka.groupId,
    topics: CONSUMED_TOPICS,
  });
  await consumer.start(async (batch) => {
    const result = await projector.project(batch);
    const offsets = batch.map((m) => `${m.topic}/${m.partition}/${m.offset}`);
    process.stdout.write(`APPLIED ${JSON.stringify({ ...result, offsets })}\n`);
    await new Promise(() => undefined);
  });
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
