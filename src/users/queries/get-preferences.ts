import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { UserReader } from '../persistence/user.repository';
import { PreferencesView, toPreferencesView } from '../user.view';
import { readAccessibleUser } from './get-user';

export class GetPreferences extends Query<Versioned<PreferencesView>> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
  ) {
    super();
  }
}

@QueryHandler(GetPreferences)
export class GetPreferencesHandler implements IQueryHandler<GetPreferences> {
  constructor(private readonly reader: UserReader) {}

  async execute({ actor, userId }: GetPreferences): Promise<Versioned<PreferencesView>> {
    const state = await readAccessibleUser(this.reader, actor, { id: userId });
    return { view: toPreferencesView(state), version: state.version };
  }
}
