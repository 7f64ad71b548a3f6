import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, QueryFailedError } from 'typeorm';
import { OutboxEntity } from '../../messaging/outbox.entity';
import { EmailTaken, KeycloakIdTaken, UserNotFound } from '../domain/errors';
import { UserEvent } from '../domain/events';
import { User } from '../domain/user';
import { toEntity, toState } from './user.mapper';
import { UserEntity } from './user.entity';
import { UserRepository } from './user.repository';

@Injectable()
export class TypeOrmUserRepository extends UserRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async create(user: User): Promise<void> {
    const events = user.pullEvents();
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(UserEntity, toEntity(user.snapshot()));
        await writeOutbox(manager, events);
      });
    } catch (error) {
      throw uniqueViolation(error, user) ?? error;
    }
  }

  async modify<T>(id: string, change: (user: User) => T | Promise<T>): Promise<{ user: User; result: T }> {
    return this.dataSource.transaction(async (manager) => {
      const row = await manager.findOne(UserEntity, {
        where: { id, deletedAt: IsNull() },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) throw new UserNotFound(id);
      const user = User.restore(toState(row));
      const result = await change(user);
      if (user.changed) {
        const events = user.pullEvents();
        const { id: _, ...columns } = toEntity(user.snapshot());
        await manager.update(UserEntity, { id }, columns);
        await writeOutbox(manager, events);
      }
      return { user, result };
    });
  }

  async withAvatarLock<T>(id: string, fn: (currentKeys: readonly string[]) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const rows: { avatar_keys: string[] }[] = await manager.query('SELECT avatar_keys FROM users WHERE id = $1 FOR UPDATE', [id]);
      return fn(rows[0]?.avatar_keys ?? []);
    });
  }
}

async function writeOutbox(manager: EntityManager, events: UserEvent[]): Promise<void> {
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

/** The partial unique indexes name which field is taken. */
function uniqueViolation(error: unknown, user: User): Error | null {
  if (!(error instanceof QueryFailedError)) return null;
  const { code, constraint } = error.driverError as { code?: string; constraint?: string };
  if (code !== '23505') return null;
  if (constraint === 'users_email_live_key') return new EmailTaken(user.snapshot().email);
  if (constraint === 'users_keycloak_id_live_key') return new KeycloakIdTaken(user.keycloakId);
  return null;
}
