import type { PoolClient } from 'pg';

export const SERVICE_NAME = 'user-service';

/**
 * Records consumed event ids in processed_events and returns those seen for the first time; the rest
 * were applied before (a redelivery). Ids are inserted in sorted order so that two transactions
 * claiming overlapping ids wait for each other instead of deadlocking.
 */
export async function claimEvents(tx: PoolClient, events: Array<{ eventId: string; topic: string }>): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const sorted = [...events].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  const { rows } = await tx.query<{ event_id: string }>(
    `INSERT INTO processed_events (event_id, service_name, topic)
     SELECT e.event_id, $3, e.topic FROM unnest($1::varchar[], $2::varchar[]) WITH ORDINALITY AS e(event_id, topic, n)
     ORDER BY e.n
     ON CONFLICT (event_id, service_name) DO NOTHING
     RETURNING event_id`,
    [sorted.map((e) => e.eventId), sorted.map((e) => e.topic), SERVICE_NAME],
  );
  return new Set(rows.map((row) => row.event_id));
}

/**
 * Forgets claims of events that were not applied after all (dead-lettered for an unknown user), in the claiming
 * transaction: a replay of the dead letter (npm run dlq:replay) then applies them instead of skipping a duplicate.
 */
export async function releaseEvents(tx: PoolClient, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await tx.query('DELETE FROM processed_events WHERE event_id = ANY($1::varchar[]) AND service_name = $2', [eventIds, SERVICE_NAME]);
}
