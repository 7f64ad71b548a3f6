/**
 * A Kafka message as kafkajs hands it to `eachMessage` (add the payload's `topic`), or as any other client
 * has it: values and header values as Buffers or strings.
 */
export interface EventMessage {
  /** Each event type is its own topic; without it the event type is read from ce_type or the value. */
  topic?: string;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/**
 * - `unparseable`: no value, or not JSON.
 * - `unknown_type`: an event type this version of the package does not know (a newer producer's, or another topic's).
 * - `invalid`: the value (or the key) does not match the event's schema.
 * - `bad_headers`: the CloudEvents headers are missing, malformed, or disagree with the value.
 */
export type EventErrorKind = 'unparseable' | 'unknown_type' | 'invalid' | 'bad_headers';

export interface EventError {
  kind: EventErrorKind;
  /** Every problem on one line, e.g. for a log or a dead-letter header. */
  message: string;
  problems: string[];
  /** The event type the message claims (its topic, ce_type or eventType), when it claims one. */
  eventType?: string;
}

export type ParseResult<E> = { ok: true; event: E } | { ok: false; error: EventError };

export function failure(kind: EventErrorKind, problems: string[], eventType?: string): { ok: false; error: EventError } {
  return { ok: false, error: { kind, message: problems.join('; '), problems, ...(eventType === undefined ? {} : { eventType }) } };
}

export function readValue(message: EventMessage): { ok: true; body: unknown } | { ok: false; error: EventError } {
  if (message.value === null || message.value === undefined) return failure('unparseable', ['the message has no value']);
  try {
    return { ok: true, body: JSON.parse(message.value.toString()) };
  } catch (error) {
    return failure('unparseable', [`not JSON: ${(error as Error).message}`]);
  }
}

/** Header values as strings; a header sent twice is a problem (which of the two would be meant?). */
export function readHeaders(message: EventMessage): { headers: Record<string, string>; problems: string[] } {
  const headers: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value) && value.length !== 1) problems.push(`header ${name} must be sent once, not ${value.length} times`);
    else headers[name] = (Array.isArray(value) ? value[0] : value).toString();
  }
  return { headers, problems };
}

/** The event type a message claims: its topic, else the given header, else its value's eventType. */
export function claimedType(message: EventMessage, body: unknown, header?: string): string | undefined {
  if (message.topic !== undefined) return message.topic;
  if (header !== undefined) return header;
  const eventType = typeof body === 'object' && body !== null ? (body as { eventType?: unknown }).eventType : undefined;
  return typeof eventType === 'string' ? eventType : undefined;
}

export function isOneOf<T extends string>(types: readonly T[], type: string | undefined): type is T {
  return (types as readonly (string | undefined)[]).includes(type);
}
