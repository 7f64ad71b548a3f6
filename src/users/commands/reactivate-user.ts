import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { UserRepository } from '../persistence/user.repository';
import { toUserView, UserView } from '../user.view';
import { modifyUser } from './modify-user';

/** Ends a suspension before its `until` (or one without). */
export class ReactivateUser extends Command<Versioned<UserView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(ReactivateUser)
export class ReactivateUserHandler implements ICommandHandler<ReactivateUser> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, audit, userId, ifMatch }: ReactivateUser): Promise<Versioned<UserView>> {
    const { user } = await modifyUser(this.users, actor, audit, userId, ifMatch, (user) => user.reactivate());
    return { view: toUserView(user.snapshot()), version: user.version };
  }
}
