import { Module } from '@nestjs/common';
import { AppConfig } from '../../config/config';
import { EventConsumer } from '../../messaging/event-consumer';
import { EventPublisher } from '../../messaging/event-publisher';
import { createKafka } from '../../messaging/kafka-client';
import { KafkaEventConsumer } from '../../messaging/kafka-event-consumer';
import { KafkaEventPublisher } from '../../messaging/kafka-event-publisher';
import { UsersModule } from '../users.module';
import { CONSUMED_TOPICS } from './consumed-event';
import { StatsConsumer } from './stats-consumer';
import { StatsProjector } from './stats-projector';

const withKafka = <T>(make: (config: AppConfig) => T) => ({
  useFactory: (config: AppConfig): T | null => (config.kafka.brokers.length > 0 ? make(config) : null),
  inject: [AppConfig],
});

/** Consumed events → stats. Without KAFKA_BROKERS there is no consumer and no dead-letter publisher. */
@Module({
  imports: [UsersModule],
  providers: [
    {
      provide: EventConsumer,
      ...withKafka(
        (config) =>
          new KafkaEventConsumer(createKafka(config.kafka), {
            ...config.kafka.consumer,
            groupId: config.kafka.groupId,
            topics: CONSUMED_TOPICS,
          }),
      ),
    },
    { provide: EventPublisher, ...withKafka((config) => new KafkaEventPublisher(createKafka(config.kafka))) },
    StatsProjector,
    StatsConsumer,
  ],
  exports: [EventConsumer],
})
export class UsageEventsModule {}
