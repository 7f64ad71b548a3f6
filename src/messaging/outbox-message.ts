import { OutgoingMessage } from './event-publisher';

export interface OutboxRow {
  id: string;
  payload: { eventId: string; eventType: string; timestamp: string; userId: string; data: unknown };
}

export const CE_SOURCE = '/user-service';

/**
 * CloudEvents Kafka protocol binding, binary mode: the envelope is the value, the attributes are
 * ce_* headers. The topic is the event type and the key the user id, so one user's events keep their order.
 */
export function toOutgoingMessage({ payload }: OutboxRow): OutgoingMessage {
  // Rebuilt in envelope order: jsonb stores keys sorted by length, which reads oddly in a message.
  const { eventId, eventType, timestamp, userId, data } = payload;
  return {
    topic: eventType,
    key: userId,
    value: JSON.stringify({ eventId, eventType, timestamp, userId, data }),
    headers: {
      ce_specversion: '1.0',
      ce_id: eventId,
      ce_type: eventType,
      ce_source: CE_SOURCE,
      ce_time: timestamp,
      ce_subject: userId,
      'content-type': 'application/json',
    },
  };
}
