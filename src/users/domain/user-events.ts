import { randomUUID } from 'node:crypto';

/** The events the service publishes (each is also its Kafka topic); asyncapi.yaml describes them. */
export type UserEventType =
  | 'user.created'
  | 'user.updated'
  | 'user.avatar_uploaded'
  | 'user.deleted'
  | 'user.quota_threshold_reached'
  | 'user.suspended'
  | 'user.reactivated'
  | 'user.restored'
  | 'user.erased';

/** The envelope every event leaves the service in (outbox payload, Kafka value). */
export interface UserEvent<D = Record<string, unknown>> {
  eventId: string;
  eventType: UserEventType;
  timestamp: string;
  userId: string;
  data: D;
}

export function userEvent<D>(eventType: UserEventType, userId: string, data: D, at: Date): UserEvent<D> {
  return { eventId: randomUUID(), eventType, timestamp: at.toISOString(), userId, data };
}
