import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { ProfilePatch } from '../domain/profile';
import { Metrics } from '../../observability/metrics';
import { UserRepository } from '../persistence/user.repository';
import { toUserView, UserView } from '../user.view';
import { modifyUser } from './modify-user';

/** PATCH: absent fields stay, `null` clears an optional one. */
export class UpdateProfile extends Command<Versioned<UserView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly patch: ProfilePatch,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(UpdateProfile)
export class UpdateProfileHandler implements ICommandHandler<UpdateProfile> {
  constructor(
    private readonly users: UserRepository,
    private readonly metrics: Metrics,
  ) {}

  async execute({ actor, audit, userId, patch, ifMatch }: UpdateProfile): Promise<Versioned<UserView>> {
    const { user, changed } = await modifyUser(this.users, actor, audit, userId, ifMatch, (user) => user.updateProfile(patch), {
      rowOnly: true,
    });
    if (changed) this.metrics.profileUpdated();
    return { view: toUserView(user.snapshot()), version: user.version };
  }
}
