/** How one dependency is doing: `disabled` when it is not configured. */
export interface ComponentHealth {
  status: 'connected' | 'disconnected' | 'disabled';
  [detail: string]: unknown;
}

/**
 * What the modules that own Kafka and object storage report on /health (each provides its class;
 * Kafka unconfigured reports `disabled`). Neither decides readiness: events wait in the outbox
 * while Kafka is away, and reads need no storage.
 */
export abstract class KafkaHealth {
  abstract check(): Promise<ComponentHealth>;
  /** False when the event consumer is down for good: /health/live fails. */
  abstract alive(): boolean;
}

export abstract class StorageHealth {
  abstract check(): Promise<ComponentHealth>;
}
