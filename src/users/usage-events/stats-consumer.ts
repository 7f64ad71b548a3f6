import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { EventConsumer } from '../../messaging/event-consumer';
import { EventPublisher } from '../../messaging/event-publisher';
import { Metrics } from '../../observability/metrics';
import { StatsProjector } from './stats-projector';

/** Runs the projector on the consumer while the service is up (only when Kafka is configured). */
@Injectable()
export class StatsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('StatsConsumer');
  private starting: Promise<void> | null = null;

  constructor(
    private readonly projector: StatsProjector,
    private readonly metrics: Metrics,
    // Explicit tokens: a `T | null` parameter type is emitted as Object, which Nest cannot resolve.
    @Optional() @Inject(EventConsumer) private readonly consumer: EventConsumer | null,
    @Optional() @Inject(EventPublisher) private readonly deadLetters: EventPublisher | null,
  ) {}

  /** Not awaited: joining a consumer group takes seconds and must not hold up the HTTP API. */
  onApplicationBootstrap(): void {
    if (!this.consumer) return;
    this.starting = this.start(this.consumer).catch((error: Error) => {
      this.logger.error(`The event consumer did not start (restarting it with back-off): ${error.message}`);
    });
  }

  /** Before the database closes, so the batch in hand is finished and its offsets committed. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.consumer) return;
    await this.starting;
    await this.consumer.stop();
    await this.deadLetters?.disconnect();
  }

  private async start(consumer: EventConsumer): Promise<void> {
    await this.deadLetters?.connect();
    await consumer.start(async (batch, { lag }) => {
      const { applied, duplicates, deadLetters } = await this.projector.project(batch);
      this.metrics.setConsumerLag(batch[0].topic, batch[0].partition, lag);
      const summary = `${batch[0].topic}/${batch[0].partition}: applied ${applied}, ${duplicates} duplicates, ${deadLetters} dead letters`;
      if (deadLetters > 0) this.logger.warn(summary);
      else this.logger.debug(summary);
    });
    this.logger.log('Consuming interview, candidate and media events');
  }
}
