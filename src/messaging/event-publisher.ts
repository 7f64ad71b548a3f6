/** A message for the broker: key orders a user's events, headers carry CloudEvents attributes. */
export interface OutgoingMessage {
  topic: string;
  key: string | Buffer | null;
  /** A Buffer passes bytes on untouched (dead letters keep the original message). */
  value: string | Buffer | null;
  headers: Record<string, string>;
}

/**
 * The way out to the message broker. Implementations live beside this file and are the only
 * code that knows the client library (kafkajs today), so swapping it touches messaging/ only.
 */
export abstract class EventPublisher {
  /** Resolves once every message is acknowledged by all in-sync replicas; rejects if any is not. */
  abstract publish(messages: OutgoingMessage[]): Promise<void>;
  abstract connect(): Promise<void>;
  abstract disconnect(): Promise<void>;
}
