import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { assertCanAccess } from '../../common/auth.guard';
import { User } from '../domain/user';
import { UserRepository } from '../persistence/user.repository';
import { StatsView, toStatsView } from '../user.view';

const ENDPOINT = 'POST /users/:id/stats/increment-interviews';

/**
 * Internal: another service counts an interview it created (the same effect as interview.created).
 * With an idempotency key a retried call applies once and answers what the first one answered
 * (`replayed`); the version of a replay is the user's current one.
 */
export class IncrementInterviews extends Command<Versioned<StatsView> & { replayed: boolean }> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly idempotencyKey: string | null,
  ) {
    super();
  }
}

@CommandHandler(IncrementInterviews)
export class IncrementInterviewsHandler implements ICommandHandler<IncrementInterviews> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, audit, userId, idempotencyKey }: IncrementInterviews): Promise<Versioned<StatsView> & { replayed: boolean }> {
    const increment = (user: User): StatsView => {
      assertCanAccess(actor, user.keycloakId);
      user.recordInterviewCreated();
      return toStatsView(user.snapshot());
    };
    if (idempotencyKey === null) {
      const { user, result } = await this.users.modify(userId, audit, increment);
      return { view: result, version: user.version, replayed: false };
    }
    const { user, result, replayed } = await this.users.modifyOnce(
      userId,
      audit,
      { key: idempotencyKey, endpoint: ENDPOINT, status: 200 },
      increment,
    );
    return { view: result, version: user.version, replayed };
  }
}
