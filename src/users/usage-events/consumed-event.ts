import { IncomingMessage } from '../../messaging/event-consumer';

/** The fields each consumed event's `data` must hold as non-empty strings (media.* also a fileSize). */
const REQUIRED_DATA = {
  'interview.created': ['interviewId'],
  'interview.completed': ['interviewId'],
  'interview.deleted': ['interviewId'],
  'candidate.added': ['interviewId', 'candidateId'],
  'media.uploaded': ['fileId'],
  'media.deleted': ['fileId'],
} as const satisfies Record<string, readonly string[]>;

export type ConsumedEventType = keyof typeof REQUIRED_DATA;

/** Topics the service consumes; each carries events of the same name. */
export const CONSUMED_TOPICS = Object.keys(REQUIRED_DATA) as readonly ConsumedEventType[];

export interface ConsumedEvent {
  eventId: string;
  eventType: ConsumedEventType;
  userId: string;
  /** media.* only: bytes added or removed. */
  fileSize: bigint;
}

export type DeadLetterReason = 'unparseable' | 'invalid' | 'unknown_user' | 'rejected_by_database';

export type Parsed = { ok: true; event: ConsumedEvent } | { ok: false; reason: DeadLetterReason; error: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads and checks one message. Unknown extra fields are allowed (producers may add some), missing or
 * mistyped ones are not. eventId is required: without it a redelivery could not be told from a new event.
 */
export function parseConsumedEvent(message: IncomingMessage): Parsed {
  let body: unknown;
  try {
    body = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (error) {
    return { ok: false, reason: 'unparseable', error: `not JSON: ${(error as Error).message}` };
  }
  const problems: string[] = [];
  if (!isObject(body)) return invalid(['the message must be a JSON object']);

  const { eventId, eventType, timestamp, userId, data } = body;
  if (typeof eventId !== 'string' || eventId.length === 0 || eventId.length > 255) {
    problems.push('eventId must be a string of 1 to 255 characters');
  }
  if (eventType !== message.topic) problems.push(`eventType must be "${message.topic}" (the topic)`);
  if (timestamp !== undefined && (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp)))) {
    problems.push('timestamp must be an ISO 8601 date');
  }
  if (typeof userId !== 'string' || !UUID.test(userId)) problems.push('userId must be a UUID');
  if (!isObject(data)) problems.push('data must be an object');
  else problems.push(...dataProblems(message.topic, data));
  if (problems.length > 0) return invalid(problems);

  const fileSize = message.topic.startsWith('media.') ? BigInt((data as { fileSize: number }).fileSize) : 0n;
  return {
    ok: true,
    event: {
      eventId: eventId as string,
      eventType: message.topic as ConsumedEventType,
      userId: (userId as string).toLowerCase(),
      fileSize,
    },
  };
}

function dataProblems(topic: string, data: Record<string, unknown>): string[] {
  const fields: readonly string[] | undefined = REQUIRED_DATA[topic as ConsumedEventType];
  if (!fields) return [`topic ${topic} is not consumed here`];
  const problems = fields
    .filter((field) => typeof data[field] !== 'string' || (data[field] as string).length === 0)
    .map((field) => `data.${field} must be a non-empty string`);
  if (topic.startsWith('media.')) {
    const size = data.fileSize;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      problems.push('data.fileSize must be a whole number of bytes from 0 to 2^53-1');
    }
  }
  return problems;
}

function invalid(problems: string[]): Parsed {
  return { ok: false, reason: 'invalid', error: problems.join('; ') };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
