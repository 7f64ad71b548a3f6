import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor } from '../../common/token-verifier';
import { PreferencesPatch } from '../domain/preferences';
import { UserRepository } from '../persistence/user.repository';
import { PreferencesView } from '../user.view';
import { modifyUser } from './modify-user';

export class UpdatePreferences extends Command<PreferencesView> {
  constructor(
    readonly actor: Actor,
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

  async execute({ actor, userId, patch, ifMatch }: UpdatePreferences): Promise<PreferencesView> {
    const { user } = await modifyUser(this.users, actor, userId, ifMatch, (user) => user.updatePreferences(patch));
    return { preferences: user.preferences.toJSON(), version: user.version };
  }
}
