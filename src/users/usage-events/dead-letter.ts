import { IncomingMessage } from '../../messaging/event-consumer';
import { OutgoingMessage } from '../../messaging/event-publisher';
import { DeadLetterReason } from './consumed-event';

export const DEAD_LETTER_TOPIC = 'user-service.dlq';

/** The original key, value and headers, plus dlq_* headers saying why it failed and where it came from. */
export function deadLetter(message: IncomingMessage, reason: DeadLetterReason, error: string, now: Date): OutgoingMessage {
  return {
    topic: DEAD_LETTER_TOPIC,
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      dlq_reason: reason,
      dlq_error: error.slice(0, 1000),
      dlq_source_topic: message.topic,
      dlq_source_partition: String(message.partition),
      dlq_source_offset: message.offset,
      dlq_failed_at: now.toISOString(),
      dlq_service: 'user-service',
    },
  };
}
