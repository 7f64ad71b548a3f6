import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { AvatarStorage } from '../../storage/avatar-storage';
import { UserRepository } from '../persistence/user.repository';
import { modifyUser } from './modify-user';

/** Removing no avatar is not an error and changes nothing. The result has no view: there is no avatar left to show. */
export class RemoveAvatar extends Command<Versioned<null>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

/**
 * The objects are deleted under the row lock BEFORE the row is cleared: when the store is down the request fails
 * (503) and nothing changes, rather than the profile forgetting a photo that stays public at its old URL. Should
 * the commit fail after the delete, the profile points at deleted objects until the DELETE is repeated.
 */
@CommandHandler(RemoveAvatar)
export class RemoveAvatarHandler implements ICommandHandler<RemoveAvatar> {
  constructor(
    private readonly users: UserRepository,
    private readonly storage: AvatarStorage,
  ) {}

  async execute({ actor, audit, userId, ifMatch }: RemoveAvatar): Promise<Versioned<null>> {
    const { user } = await modifyUser(this.users, actor, audit, userId, ifMatch, async (user) => {
      const keys = user.removeAvatar();
      if (keys.length > 0) await this.storage.remove(keys);
    });
    return { view: null, version: user.version };
  }
}
