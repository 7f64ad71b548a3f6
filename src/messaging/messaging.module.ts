import { Module } from '@nestjs/common';
import { logLevel } from 'kafkajs';
import { AppConfig } from '../config/config';
import { EventPublisher } from './event-publisher';
import { createKafka } from './kafka-client';
import { KafkaEventPublisher } from './kafka-event-publisher';
import { OutboxRelay } from './outbox-relay';
import { USER_SNAPSHOT_TOPIC } from '../users/persistence/user-snapshots';

/** Everything that talks to Kafka. The relay starts only when KAFKA_BROKERS is set. */
@Module({
  providers: [
    {
      provide: EventPublisher,
      useFactory: (config: AppConfig) => new KafkaEventPublisher(createKafka(config.kafka, logLevel.NOTHING), [USER_SNAPSHOT_TOPIC]),
      inject: [AppConfig],
    },
    OutboxRelay,
  ],
  exports: [OutboxRelay],
})
export class MessagingModule {}
