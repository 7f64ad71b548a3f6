import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { IdempotencyKeyReused } from '../../common/domain-error';
import { PgPool } from '../../config/pg-pool';
import { claimEvents } from '../../messaging/inbox';
import { Metrics } from '../../observability/metrics';
import { EmailTaken, KeycloakIdTaken, UserNotFound } from '../domain/errors';
import { User } from '../domain/user';
import { UserEvent } from '../domain/user-events';
import { ROW_COLUMNS, rowValues, toState, USER_COLUMNS, UserRecord } from './user.mapper';
import { UsageEventRef, UsageRecorder, UserRepository } from './user.repository';

const placeholders = (from: number, count: number) => Array.from({ length: count }, (_, i) => `$${from + i}`).join(', ');

/** Outbox rows from a JSON array of event envelopes (the envelope is the payload). */
const outboxInsert = (events: string) => `
  INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at)
  SELECT (e->>'eventId')::uuid, 'user', (e->>'userId')::uuid, e->>'eventType', e, (e->>'timestamp')::timestamptz
  FROM jsonb_array_elements(${events}::jsonb) AS e`;

const CREATE_USER = `
  WITH new_user AS (INSERT INTO users (${ROW_COLUMNS.join(', ')}) VALUES (${placeholders(1, ROW_COLUMNS.length)}))
  ${outboxInsert(`$${ROW_COLUMNS.length + 1}`)}`;

const SAVE_USER = `UPDATE users SET (${ROW_COLUMNS.slice(1).join(', ')}) = (${placeholders(2, ROW_COLUMNS.length - 1)}) WHERE id = $1`;

/** Writes to the users table, each in one transaction on the pg pool, with the user's events in the outbox. */
@Injectable()
export class PgUserRepository extends UserRepository {
  constructor(
    private readonly db: PgPool,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  /**
   * The user and its events in one named statement: atomic without BEGIN/COMMIT round trips, and
   * prepared once per connection. Measured ~2x cheaper than TypeORM's insert() pair (bench/http).
   */
  async create(user: User): Promise<void> {
    const events = user.pullEvents();
    const values = [...rowValues(user.snapshot()), JSON.stringify(events)];
    try {
      await this.metrics.timeQuery('create_user', () => this.db.pool.query({ name: 'create_user', text: CREATE_USER, values }));
    } catch (error) {
      throw uniqueViolation(error, user) ?? error;
    }
  }

  modify<T>(id: string, change: (user: User) => T | Promise<T>): Promise<{ user: User; result: T }> {
    return this.metrics.timeQuery('modify_user', () =>
      this.db.transaction(async (tx) => {
        const user = await lockUser(tx, id);
        const result = await change(user);
        await saveUser(tx, user);
        return { user, result };
      }),
    );
  }

  modifyOnce<T>(
    id: string,
    { key, endpoint, status }: { key: string; endpoint: string; status: number },
    change: (user: User) => T | Promise<T>,
  ): Promise<{ user: User; result: T; replayed: boolean }> {
    return this.db.transaction(async (tx) => {
      // After the lock: a concurrent call with the same key has committed by now, and its row is visible.
      const user = await lockUser(tx, id);
      const {
        rows: [stored],
      } = await tx.query('SELECT user_id, endpoint, response FROM idempotency_keys WHERE key = $1', [key]);
      if (stored) {
        if (stored.user_id !== id || stored.endpoint !== endpoint) throw new IdempotencyKeyReused();
        return { user, result: stored.response as T, replayed: true };
      }
      const result = await change(user);
      await saveUser(tx, user);
      // Another user's call may hold the key uncommitted: the insert waits for it, then inserts nothing.
      const inserted = await tx.query(
        `INSERT INTO idempotency_keys (key, user_id, endpoint, status_code, response) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key) DO NOTHING RETURNING key`,
        [key, id, endpoint, status, JSON.stringify(result)],
      );
      if (inserted.rowCount === 0) throw new IdempotencyKeyReused();
      return { user, result, replayed: false };
    });
  }

  recordUsageOnce<E extends UsageEventRef, T>(
    events: E[],
    record: (fresh: E[], users: ReadonlyMap<string, UsageRecorder>) => T,
    beforeCommit: (result: T) => Promise<void>,
  ): Promise<{ result: T; duplicates: E[] }> {
    return this.db.transaction(async (tx) => {
      const claimed = await claimEvents(
        tx,
        events.map(({ eventId, eventType }) => ({ eventId, topic: eventType })),
      );
      const fresh: E[] = [];
      const duplicates: E[] = [];
      for (const event of events) (claimed.delete(event.eventId) ? fresh : duplicates).push(event);
      const users = await lockUsers(tx, [...new Set(fresh.map((event) => event.userId))]);
      const result = record(fresh, users);
      await saveUsage(tx, [...users.values()]);
      await beforeCommit(result);
      return { result, duplicates };
    });
  }

  withAvatarLock<T>(id: string, fn: (currentKeys: readonly string[]) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ avatar_keys: string[] }>('SELECT avatar_keys FROM users WHERE id = $1 FOR UPDATE', [id]);
      return fn(rows[0]?.avatar_keys ?? []);
    });
  }
}

/** Live users among `ids`, locked FOR UPDATE in id order (the same order everywhere: no deadlocks). */
async function lockUsers(tx: PoolClient, ids: string[]): Promise<Map<string, User>> {
  if (ids.length === 0) return new Map();
  // Plain SQL: TypeORM's find builds and hydrates at a cost that shows in the consumer's throughput.
  const { rows } = await tx.query<UserRecord>({
    name: 'lock_users',
    text: `SELECT ${USER_COLUMNS} FROM users WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY id FOR UPDATE`,
    values: [ids],
  });
  return new Map(rows.map((row) => [row.id, User.restore(toState(row))]));
}

async function lockUser(tx: PoolClient, id: string): Promise<User> {
  const [user] = (await lockUsers(tx, [id])).values();
  if (!user) throw new UserNotFound(id);
  return user;
}

async function saveUser(tx: PoolClient, user: User): Promise<void> {
  if (!user.changed) return;
  const events = user.pullEvents();
  await tx.query({ name: 'save_user', text: SAVE_USER, values: rowValues(user.snapshot()) });
  await writeOutbox(tx, events);
}

/** The stats, quota and version of many users in one statement, and their events. */
async function saveUsage(tx: PoolClient, users: User[]): Promise<void> {
  const changed = users.filter((user) => user.changed);
  if (changed.length === 0) return;
  const events = changed.flatMap((user) => user.pullEvents());
  const states = changed.map((user) => user.snapshot());
  await tx.query(
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
  await writeOutbox(tx, events);
}

async function writeOutbox(tx: PoolClient, events: UserEvent[]): Promise<void> {
  if (events.length > 0) await tx.query({ name: 'write_outbox', text: outboxInsert('$1'), values: [JSON.stringify(events)] });
}

/** The partial unique indexes name which field is taken. */
function uniqueViolation(error: unknown, user: User): Error | null {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code !== '23505') return null;
  if (constraint === 'users_email_live_key') return new EmailTaken(user.snapshot().email);
  if (constraint === 'users_keycloak_id_live_key') return new KeycloakIdTaken(user.keycloakId);
  return null;
}
