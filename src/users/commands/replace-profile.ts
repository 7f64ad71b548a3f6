import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { ProfileInput } from '../domain/profile';
import { Metrics } from '../../observability/metrics';
import { UserRepository } from '../persistence/user.repository';
import { toUserView, UserView } from '../user.view';
import { modifyUser } from './modify-user';

/** PUT: the whole editable profile; optional fields left out are cleared. */
export class ReplaceProfile extends Command<Versioned<UserView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly profile: ProfileInput,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(ReplaceProfile)
export class ReplaceProfileHandler implements ICommandHandler<ReplaceProfile> {
  constructor(
    private readonly users: UserRepository,
    private readonly metrics: Metrics,
  ) {}

  async execute({ actor, audit, userId, profile, ifMatch }: ReplaceProfile): Promise<Versioned<UserView>> {
    const { user, changed } = await modifyUser(this.users, actor, audit, userId, ifMatch, (user) => user.replaceProfile(profile), {
      rowOnly: true,
    });
    if (changed) this.metrics.profileUpdated();
    return { view: toUserView(user.snapshot()), version: user.version };
  }
}
