import { EntityManager } from 'typeorm';
import { OutboxEntity } from '../../messaging/outbox.entity';
import { UserEvent } from '../domain/user-events';
import { User } from '../domain/user';
import { COLUMNS } from './pg-user.reader';
import { toState, UserRecord } from './user.mapper';

/** Live users among `ids`, locked FOR UPDATE in id order (the same order everywhere: no deadlocks). */
export async function lockUsers(manager: EntityManager, ids: string[]): Promise<Map<string, User>> {
  if (ids.length === 0) return new Map();
  // Plain SQL: TypeORM's find builds and hydrates at a cost that shows in the consumer's throughput.
  const rows: UserRecord[] = await manager.query(
    `SELECT ${COLUMNS} FROM users WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY id FOR UPDATE`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, User.restore(toState(row))]));
}

/** Saves the stats, quota and version of many users in one statement, and their events to the outbox. */
export async function saveUsage(manager: EntityManager, users: User[]): Promise<void> {
  const changed = users.filter((user) => user.changed);
  if (changed.length === 0) return;
  const events = changed.flatMap((user) => user.pullEvents());
  const states = changed.map((user) => user.snapshot());
  await manager.query(
    `UPDATE users AS u SET interviews_created = v.ic, interviews_active = v.ia, candidates_total = v.ct,
       storage_used = v.su, max_interviews = v.mi, max_storage = v.ms, version = v.version, updated_at = v.at
     FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::bigint[], $6::int[], $7::bigint[], $8::int[], $9::timestamptz[])
       AS v(id, ic, ia, ct, su, mi, ms, version, at)
     WHERE u.id = v.id`,
    [
      states.map((s) => s.id),
      states.map((s) => s.stats.interviewsCreated),
      states.map((s) => s.stats.interviewsActive),
      states.map((s) => s.stats.candidatesTotal),
      states.map((s) => s.stats.storageUsed.toString()),
      states.map((s) => s.quota.maxInterviews),
      states.map((s) => s.quota.maxStorage.toString()),
      states.map((s) => s.version),
      states.map((s) => s.updatedAt.toISOString()),
    ],
  );
  await writeOutbox(manager, events);
}

export async function writeOutbox(manager: EntityManager, events: UserEvent[]): Promise<void> {
  if (events.length === 0) return;
  await manager.insert(
    OutboxEntity,
    events.map((event) => ({
      eventId: event.eventId,
      aggregateType: 'user',
      aggregateId: event.userId,
      eventType: event.eventType,
      payload: event,
      createdAt: new Date(event.timestamp),
    })),
  );
}
