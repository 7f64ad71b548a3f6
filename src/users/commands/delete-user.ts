import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { UserRepository } from '../persistence/user.repository';
import { modifyUser } from './modify-user';

/**
 * Soft delete: the row stays (deleted_at), the user is gone from every read, email and Keycloak id are free again.
 * A deleted user has no view. A suspended person may delete their own account (GDPR art. 17); the suspension stays
 * on the record, so an admin's restore brings it back suspended.
 */
export class DeleteUser extends Command<Versioned<null>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(DeleteUser)
export class DeleteUserHandler implements ICommandHandler<DeleteUser> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, audit, userId, ifMatch }: DeleteUser): Promise<Versioned<null>> {
    const { user } = await modifyUser(this.users, actor, audit, userId, ifMatch, (user) => user.delete(), {
      whileSuspended: true,
    });
    return { view: null, version: user.version };
  }
}
