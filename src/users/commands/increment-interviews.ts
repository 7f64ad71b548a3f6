import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor } from '../../common/token-verifier';
import { assertCanAccess } from '../../common/auth.guard';
import { User } from '../domain/user';
import { Remembered, UserRepository } from '../persistence/user.repository';
import { StatsView, toStatsView } from '../user.view';

const ENDPOINT = 'POST /users/:id/stats/increment-interviews';

/**
 * Internal: another service counts an interview it created (the same effect as interview.created).
 * With an idempotency key a retried call applies once and answers what the first one answered.
 */
export class IncrementInterviews extends Command<Remembered<StatsView>> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
    readonly idempotencyKey: string | null,
  ) {
    super();
  }
}

@CommandHandler(IncrementInterviews)
export class IncrementInterviewsHandler implements ICommandHandler<IncrementInterviews> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, userId, idempotencyKey }: IncrementInterviews): Promise<Remembered<StatsView>> {
    const increment = (user: User): StatsView => {
      assertCanAccess(actor, user.keycloakId);
      user.recordInterviewCreated();
      return toStatsView(user.snapshot());
    };
    if (idempotencyKey === null) {
      const { result } = await this.users.modify(userId, increment);
      return { status: 200, body: result, replayed: false };
    }
    return this.users.modifyOnce(userId, { key: idempotencyKey, endpoint: ENDPOINT, status: 200 }, increment);
  }
}
