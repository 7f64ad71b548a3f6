import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { IdempotencyKeyReused } from '../../common/domain-error';
import { Metrics } from '../../observability/metrics';
import { EmailTaken, KeycloakIdTaken, UserNotFound } from '../domain/errors';
import { User } from '../domain/user';
import { lockUsers, writeOutbox } from './user-batch';
import { toEntity } from './user.mapper';
import { UserEntity } from './user.entity';
import { Remembered, UserRepository } from './user.repository';

const CREATE_USER = `
  WITH new_user AS (
    INSERT INTO users (id, keycloak_id, email, status, full_name, company_name, phone, bio, avatar_url,
      interviews_created, interviews_active, candidates_total, storage_used, max_interviews, max_storage,
      preferences, version, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
  )
  INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at)
  SELECT (e->>'eventId')::uuid, 'user', (e->>'userId')::uuid, e->>'eventType', e, (e->>'timestamp')::timestamptz
  FROM jsonb_array_elements($20::jsonb) AS e`;

@Injectable()
export class TypeOrmUserRepository extends UserRepository {
  private readonly pool: Pool;

  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
  ) {
    super();
    this.pool = (dataSource.driver as unknown as { master: Pool }).master;
  }

  /**
   * The user and its events in one named statement: atomic without BEGIN/COMMIT round trips, and
   * prepared once per connection. Measured ~2x cheaper than TypeORM's insert() pair (bench/http).
   */
  async create(user: User): Promise<void> {
    const events = user.pullEvents();
    const row = toEntity(user.snapshot());
    try {
      await this.metrics.timeQuery('create_user', () =>
        this.pool.query({
          name: 'create_user',
          text: CREATE_USER,
          values: [
            row.id, row.keycloakId, row.email, row.status, row.fullName, row.companyName, row.phone, row.bio,
            row.avatarUrl, row.interviewsCreated, row.interviewsActive, row.candidatesTotal, String(row.storageUsed),
            row.maxInterviews, String(row.maxStorage), JSON.stringify(row.preferences), row.version, row.createdAt,
            row.updatedAt, JSON.stringify(events),
          ],
        }),
      );
    } catch (error) {
      throw uniqueViolation(error, user) ?? error;
    }
  }

  async modify<T>(id: string, change: (user: User) => T | Promise<T>): Promise<{ user: User; result: T }> {
    return this.metrics.timeQuery('modify_user', () => this.transaction(id, change));
  }

  private transaction<T>(id: string, change: (user: User) => T | Promise<T>): Promise<{ user: User; result: T }> {
    return this.dataSource.transaction(async (manager) => {
      const user = await lockUser(manager, id);
      const result = await change(user);
      await save(manager, user);
      return { user, result };
    });
  }

  async modifyOnce<T>(
    id: string,
    { key, endpoint, status }: { key: string; endpoint: string; status: number },
    change: (user: User) => T | Promise<T>,
  ): Promise<Remembered<T>> {
    return this.dataSource.transaction(async (manager) => {
      // After the lock: a concurrent call with the same key has committed by now, and its row is visible.
      const user = await lockUser(manager, id);
      const [stored] = await manager.query(
        'SELECT user_id, endpoint, status_code, response FROM idempotency_keys WHERE key = $1',
        [key],
      );
      if (stored) {
        if (stored.user_id !== id || stored.endpoint !== endpoint) throw new IdempotencyKeyReused();
        return { status: stored.status_code, body: stored.response as T, replayed: true };
      }
      const body = await change(user);
      await save(manager, user);
      // Another user's call may hold the key uncommitted: the insert waits for it, then inserts nothing.
      const inserted = await manager.query(
        `INSERT INTO idempotency_keys (key, user_id, endpoint, status_code, response) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key) DO NOTHING RETURNING key`,
        [key, id, endpoint, status, JSON.stringify(body)],
      );
      if (inserted.length === 0) throw new IdempotencyKeyReused();
      return { status, body, replayed: false };
    });
  }

  async withAvatarLock<T>(id: string, fn: (currentKeys: readonly string[]) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const rows: { avatar_keys: string[] }[] = await manager.query('SELECT avatar_keys FROM users WHERE id = $1 FOR UPDATE', [id]);
      return fn(rows[0]?.avatar_keys ?? []);
    });
  }
}

async function lockUser(manager: EntityManager, id: string): Promise<User> {
  const [user] = (await lockUsers(manager, [id])).values();
  if (!user) throw new UserNotFound(id);
  return user;
}

async function save(manager: EntityManager, user: User): Promise<void> {
  if (!user.changed) return;
  const events = user.pullEvents();
  const { id, ...columns } = toEntity(user.snapshot());
  await manager.update(UserEntity, { id }, columns);
  await writeOutbox(manager, events);
}

/** The partial unique indexes name which field is taken. */
function uniqueViolation(error: unknown, user: User): Error | null {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code !== '23505') return null;
  if (constraint === 'users_email_live_key') return new EmailTaken(user.snapshot().email);
  if (constraint === 'users_keycloak_id_live_key') return new KeycloakIdTaken(user.keycloakId);
  return null;
}
