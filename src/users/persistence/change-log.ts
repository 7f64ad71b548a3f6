import { AuditContext } from '../domain/audit';
import { User } from '../domain/user';

/**
 * Outbox rows from a JSON array of event envelopes (the envelope is the payload). `onlyIf`: a CTE's name, joined in,
 * so that nothing is inserted when it has no row.
 */
export const outboxInsert = (events: string, onlyIf?: string) => `
  INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at)
  SELECT (e->>'eventId')::uuid, 'user', (e->>'userId')::uuid, e->>'eventType', e, (e->>'timestamp')::timestamptz
  FROM jsonb_array_elements(${events}::jsonb) AS e${onlyIf ? `, ${onlyIf}` : ''}`;

/** audit_log rows from a JSON array of auditRows(); `onlyIf` as for outboxInsert. */
export const auditInsert = (entries: string, onlyIf?: string) => `
  INSERT INTO audit_log (user_id, at, actor, trace_id, action, changes)
  SELECT (a->>'userId')::uuid, (a->>'at')::timestamptz, a->>'actor', a->>'traceId', a->>'action', a->'changes'
  FROM jsonb_array_elements(${entries}::jsonb) AS a${onlyIf ? `, ${onlyIf}` : ''}`;

/** The audit entries the user recorded since the last save, with who made them and in which trace. */
export function auditRows(user: User, { actor, traceId }: AuditContext) {
  return user.pullAudit().map(({ action, at, changes }) => ({ userId: user.id, at: at.toISOString(), actor, traceId, action, changes }));
}
