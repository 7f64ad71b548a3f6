import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { UserRepository } from '../persistence/user.repository';
import { toUserView, UserView } from '../user.view';
import { modifyUser } from './modify-user';

/** An admin or another service suspends an active user: the person may still read and export, but change nothing. */
export class SuspendUser extends Command<Versioned<UserView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly suspension: { reason: string; until: Date | null },
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(SuspendUser)
export class SuspendUserHandler implements ICommandHandler<SuspendUser> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, audit, userId, suspension, ifMatch }: SuspendUser): Promise<Versioned<UserView>> {
    const { user } = await modifyUser(this.users, actor, audit, userId, ifMatch, (user) =>
      user.suspend(suspension.reason, suspension.until),
    );
    return { view: toUserView(user.snapshot()), version: user.version };
  }
}
