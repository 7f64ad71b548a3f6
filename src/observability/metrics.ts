import { Injectable, Optional } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { AppConfig } from '../config/config';
import { RequestHistogram } from './request-histogram';

type ScrapeHook = () => Promise<void>;

/**
 * The service's Prometheus metrics, in a registry of its own. Other parts of the service record
 * through these methods; nothing here is labelled by user, so the number of series stays bounded.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly scrapeHooks: ScrapeHook[] = [];

  private readonly usersCreated = this.counter('user_service_users_total', 'Users created');
  private readonly profilesUpdated = this.counter(
    'user_service_profiles_updated_total',
    'Profile changes (PATCH or PUT that changed something)',
  );
  private readonly avatarsUploaded = this.counter('user_service_avatars_uploaded_total', 'Avatars uploaded');
  private readonly eventsPublished = this.counter('user_service_kafka_events_published_total', 'Events published to Kafka', ['event_type']);
  private readonly eventsConsumed = this.counter('user_service_kafka_events_consumed_total', 'Events consumed and applied', ['event_type']);
  private readonly duplicatesSkipped = this.counter(
    'user_service_kafka_events_duplicates_skipped_total',
    'Consumed events skipped because they were processed before',
    ['event_type'],
  );
  private readonly deadLettered = this.counter(
    'user_service_kafka_events_dead_lettered_total',
    'Consumed events sent to the dead-letter topic',
    ['event_type'],
  );
  private readonly consumerLag = new Gauge({
    name: 'user_service_kafka_consumer_lag',
    help: 'Messages not yet consumed, per topic partition',
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });

  private readonly queryDuration = new RequestHistogram(
    'user_service_database_query_duration_seconds',
    'Database calls (a whole transaction for writes), by operation',
    ['operation'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    this.registry,
  );
  private readonly requestDuration = new RequestHistogram(
    'user_service_http_request_duration_seconds',
    'HTTP requests, by route template, method and status class',
    ['method', 'route', 'status_class'],
    [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    this.registry,
  );

  private readonly outboxPending = this.gauge('user_service_outbox_pending_events', 'Outbox rows not yet published');
  private readonly outboxOldestAge = this.gauge(
    'user_service_outbox_oldest_pending_age_seconds',
    'Age of the oldest unpublished outbox row (0 when none is pending)',
  );
  private readonly storageUsed = this.gauge('user_service_storage_used_bytes', 'Storage used by all live users, in bytes');
  private readonly usersByStatus = new Gauge({
    name: 'user_service_users_by_status',
    help: 'Users in each status (active, suspended, deleted, erased), read from the database at scrape time',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly erasures = this.counter('user_service_users_erased_total', 'Users erased, by an admin or the purge job');
  private readonly purgeRuns = this.counter(
    'user_service_purge_runs_total',
    'Runs of the purge job (erasing users deleted longer ago than the grace window)',
  );
  private readonly purgeFailures = this.counter(
    'user_service_purge_failures_total',
    'Purge runs that failed, or left a user they could not erase (the next run tries again)',
  );

  /** False with METRICS_ENABLED=false: requests and database calls are not timed (no per-request metrics work). */
  readonly timing: boolean;

  constructor(@Optional() config?: AppConfig) {
    this.timing = config?.metricsEnabled ?? true;
    collectDefaultMetrics({ register: this.registry });
  }

  userCreated(): void {
    this.usersCreated.inc();
  }
  profileUpdated(): void {
    this.profilesUpdated.inc();
  }
  avatarUploaded(): void {
    this.avatarsUploaded.inc();
  }
  eventPublished(eventType: string): void {
    this.eventsPublished.inc({ event_type: eventType });
  }
  eventConsumed(eventType: string): void {
    this.eventsConsumed.inc({ event_type: eventType });
  }
  duplicateSkipped(eventType: string): void {
    this.duplicatesSkipped.inc({ event_type: eventType });
  }
  eventDeadLettered(eventType: string): void {
    this.deadLettered.inc({ event_type: eventType });
  }
  setConsumerLag(topic: string, partition: number, lag: number): void {
    this.consumerLag.set({ topic, partition: String(partition) }, lag);
  }
  setOutboxBacklog(pending: number, oldestAgeSeconds: number): void {
    this.outboxPending.set(pending);
    this.outboxOldestAge.set(oldestAgeSeconds);
  }
  setStorageUsed(bytes: number): void {
    this.storageUsed.set(bytes);
  }
  setUsersByStatus(counts: Record<string, number>): void {
    for (const [status, n] of Object.entries(counts)) this.usersByStatus.set({ status }, n);
  }
  userErased(): void {
    this.erasures.inc();
  }
  purgeRan(failed: boolean): void {
    this.purgeRuns.inc();
    if (failed) this.purgeFailures.inc();
  }

  /** Times a database call under a fixed operation name (never a value from the request). */
  async timeQuery<T>(operation: string, query: () => Promise<T>): Promise<T> {
    if (!this.timing) return query();
    const started = performance.now();
    try {
      return await query();
    } finally {
      this.queryDuration.series(operation).observe((performance.now() - started) / 1000);
    }
  }

  /** `route` is the matched route template; undefined when no route matched. */
  observeRequest(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    this.requestDuration.series(method, route ?? 'unmatched', `${Math.floor(statusCode / 100)}xx`).observe(seconds);
  }

  /** Registers work to do before each scrape, such as reading gauges from the database. */
  onScrape(hook: ScrapeHook): void {
    this.scrapeHooks.push(hook);
  }

  async scrape(): Promise<string> {
    await Promise.all(this.scrapeHooks.map((hook) => hook()));
    return this.registry.metrics();
  }

  private counter(name: string, help: string, labelNames: string[] = []): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }
}
