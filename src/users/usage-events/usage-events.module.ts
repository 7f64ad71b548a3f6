import { Module } from '@nestjs/common';
import { ShutdownState } from '../../common/shutdown-state';
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

const withKafka = <T>(make: (config: AppConfig, shutdown: ShutdownState) => T) => ({
  useFactory: (config: AppConfig, shutdown: ShutdownState): T | null => (config.kafka.brokers.length > 0 ? make(config, shutdown) : null),
  inject: [AppConfig, ShutdownState],
});

/** Consumed events → stats. Without KAFKA_BROKERS there is no consumer and no dead-letter publisher. */
@Module({
  imports: [UsersModule],
  providers: [
    {
      provide: EventConsumer,
      ...withKafka(
        (config, shutdown) =>
          new KafkaEventConsumer(createKafka(config.kafka), {
            ...config.kafka.consumer,
            groupId: config.kafka.groupId,
            topics: CONSUMED_TOPICS,
            restartBackoffMs: { first: config.kafka.retryInitialMs, most: config.kafka.retryMaxMs },
            shuttingDown: () => shutdown.began,
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
