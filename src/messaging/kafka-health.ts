import { Inject, Injectable, Optional } from '@nestjs/common';
import { ComponentHealth, KafkaHealth } from '../observability/health-contributors';
import { EventConsumer } from './event-consumer';
import { OutboxRelay } from './outbox-relay';

/** Kafka on /health: the relay's last attempt to publish, and the stats consumer's state and restarts. */
@Injectable()
export class KafkaStatus extends KafkaHealth {
  constructor(
    private readonly relay: OutboxRelay,
    // Provided as null when KAFKA_BROKERS is not set.
    @Optional() @Inject(EventConsumer) private readonly consumer: EventConsumer | null,
  ) {
    super();
  }

  async check(): Promise<ComponentHealth> {
    if (!this.consumer) return { ...this.relay.status(), consumer: 'disabled' };
    return { ...this.relay.status(), consumer: this.consumer.status, consumerRestarts: this.consumer.restarts };
  }

  /** False once the consumer could not be restarted: only a new instance brings the stats back. */
  alive(): boolean {
    return this.consumer?.status !== 'failed';
  }
}
