import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AccessDenied } from '../../common/domain-error';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { NewUser, User } from '../domain/user';
import { Metrics } from '../../observability/metrics';
import { UserRepository } from '../persistence/user.repository';
import { toUserView, UserView } from '../user.view';

/** Called after a person registered in Keycloak: by that person, an admin, or an internal service. */
export class CreateUser extends Command<Versioned<UserView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly input: NewUser,
  ) {
    super();
  }
}

@CommandHandler(CreateUser)
export class CreateUserHandler implements ICommandHandler<CreateUser> {
  constructor(
    private readonly users: UserRepository,
    private readonly metrics: Metrics,
  ) {}

  async execute({ actor, audit, input }: CreateUser): Promise<Versioned<UserView>> {
    const user = User.create(input);
    if (actor.kind === 'user' && !actor.admin && actor.sub !== user.keycloakId) {
      throw new AccessDenied('You may only create the profile of your own Keycloak account');
    }
    await this.users.create(user, audit);
    this.metrics.userCreated();
    return { view: toUserView(user.snapshot()), version: user.version };
  }
}
