import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { UserRepository } from '../persistence/user.repository';
import { LegalHoldView, toLegalHoldView } from '../user.view';
import { modifyUser } from './modify-user';

/** Releasing no hold is not an error and changes nothing. */
export class ReleaseLegalHold extends Command<Versioned<LegalHoldView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
  ) {
    super();
  }
}

@CommandHandler(ReleaseLegalHold)
export class ReleaseLegalHoldHandler implements ICommandHandler<ReleaseLegalHold> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, audit, userId }: ReleaseLegalHold): Promise<Versioned<LegalHoldView>> {
    const { user } = await modifyUser(this.users, actor, audit, userId, null, (user) => user.releaseLegalHold(), { withDeleted: true });
    return { view: toLegalHoldView(user.snapshot()), version: user.version };
  }
}
