import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AppConfig } from '../../config/config';
import { AuditContext } from '../domain/audit';
import { UserRepository } from '../persistence/user.repository';
import { toUserView, UserView } from '../user.view';
import { modifyUser } from './modify-user';

/**
 * An admin brings back a user deleted by mistake, under the same id, within DELETION_GRACE_DAYS. Its email and
 * Keycloak id were free meanwhile: if someone took either, the save hits the live unique index (409 EMAIL_TAKEN or
 * KEYCLOAK_ID_TAKEN) and nothing changes.
 */
export class RestoreUser extends Command<Versioned<UserView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(RestoreUser)
export class RestoreUserHandler implements ICommandHandler<RestoreUser> {
  constructor(
    private readonly users: UserRepository,
    private readonly config: AppConfig,
  ) {}

  async execute({ actor, audit, userId, ifMatch }: RestoreUser): Promise<Versioned<UserView>> {
    const graceDays = this.config.lifecycle.deletionGraceDays;
    const { user } = await modifyUser(this.users, actor, audit, userId, ifMatch, (user) => user.restore(graceDays), { withDeleted: true });
    return { view: toUserView(user.snapshot()), version: user.version };
  }
}
