/** A message as it came off the broker: raw bytes, so a dead letter can carry it on unchanged. */
export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Applies one batch; `lag` is how many messages of the partition were still behind it when fetched. The batch counts as consumed only once the returned promise resolves:
 * a rejection (or a crash before it resolves) means the same messages are delivered again.
 */
export type BatchHandler = (batch: IncomingMessage[], position: { lag: number }) => Promise<void>;

/** restarting: crashed, and being replaced with back-off; failed: it could not be brought back (liveness fails). */
export type ConsumerStatus = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

/**
 * The way in from the message broker. Like EventPublisher, only the implementations beside this file
 * know the client library. At-least-once: offsets are committed after the handler resolved, so the
 * handler must be idempotent (processed_events).
 */
export abstract class EventConsumer {
  abstract readonly status: ConsumerStatus;
  /** Restarts since it last ran (0 while it runs). */
  abstract readonly restarts: number;
  /** Joins the group and hands every fetched batch to `handler`, one batch per partition at a time. */
  abstract start(handler: BatchHandler): Promise<void>;
  /** Finishes the batch in hand, commits its offsets, leaves the group. */
  abstract stop(): Promise<void>;
}
