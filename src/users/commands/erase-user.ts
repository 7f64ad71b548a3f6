import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { Metrics } from '../../observability/metrics';
import { AvatarStorage } from '../../storage/avatar-storage';
import { AuditContext } from '../domain/audit';
import { UserRepository } from '../persistence/user.repository';
import { modifyUser } from './modify-user';

export interface ErasedView {
  id: string;
  status: 'erased';
  erasedAt: string;
}

/**
 * An admin erases a user at once (deleting it first if needed), unless a legal hold is on it. Under the row lock,
 * the state is erased in memory (which checks the hold and the state), then every object under the user's prefix
 * is deleted from the store, then the erasure is saved. A store that fails stops it before anything is saved
 * (503); objects already deleted stay deleted and the next attempt lists what is left.
 */
export class EraseUser extends Command<Versioned<ErasedView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(EraseUser)
export class EraseUserHandler implements ICommandHandler<EraseUser> {
  constructor(
    private readonly users: UserRepository,
    private readonly storage: AvatarStorage,
    private readonly metrics: Metrics,
  ) {}

  async execute({ actor, audit, userId, ifMatch }: EraseUser): Promise<Versioned<ErasedView>> {
    const { user } = await modifyUser(
      this.users,
      actor,
      audit,
      userId,
      ifMatch,
      async (user) => {
        user.erase();
        await this.storage.removeAllOf(user.id);
      },
      { withDeleted: true },
    );
    this.metrics.userErased();
    return { view: { id: user.id, status: 'erased', erasedAt: user.snapshot().erasedAt!.toISOString() }, version: user.version };
  }
}
