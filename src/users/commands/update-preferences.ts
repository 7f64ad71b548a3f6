import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { PreferencesPatch } from '../domain/preferences';
import { UserRepository } from '../persistence/user.repository';
import { PreferencesView, toPreferencesView } from '../user.view';
import { modifyUser } from './modify-user';

export class UpdatePreferences extends Command<Versioned<PreferencesView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly patch: PreferencesPatch,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(UpdatePreferences)
export class UpdatePreferencesHandler implements ICommandHandler<UpdatePreferences> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, audit, userId, patch, ifMatch }: UpdatePreferences): Promise<Versioned<PreferencesView>> {
    const { user } = await modifyUser(this.users, actor, audit, userId, ifMatch, (user) => user.updatePreferences(patch), {
      rowOnly: true,
    });
    return { view: toPreferencesView(user.snapshot()), version: user.version };
  }
}
