import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { UserRepository } from '../persistence/user.repository';
import { LegalHoldView, toLegalHoldView } from '../user.view';
import { modifyUser } from './modify-user';

/** An admin keeps a user from being erased (litigation, an investigation); on live and soft-deleted users alike. */
export class PlaceLegalHold extends Command<Versioned<LegalHoldView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly reason: string,
  ) {
    super();
  }
}

@CommandHandler(PlaceLegalHold)
export class PlaceLegalHoldHandler implements ICommandHandler<PlaceLegalHold> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, audit, userId, reason }: PlaceLegalHold): Promise<Versioned<LegalHoldView>> {
    const { user } = await modifyUser(this.users, actor, audit, userId, null, (user) => user.placeLegalHold(reason), { withDeleted: true });
    return { view: toLegalHoldView(user.snapshot()), version: user.version };
  }
}
