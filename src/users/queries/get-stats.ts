import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { UserReader } from '../persistence/user.repository';
import { StatsView, toStatsView } from '../user.view';
import { readAccessibleUser } from './get-user';

export class GetStats extends Query<Versioned<StatsView>> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
  ) {
    super();
  }
}

@QueryHandler(GetStats)
export class GetStatsHandler implements IQueryHandler<GetStats> {
  constructor(private readonly reader: UserReader) {}

  async execute({ actor, userId }: GetStats): Promise<Versioned<StatsView>> {
    const state = await readAccessibleUser(this.reader, actor, { id: userId });
    return { view: toStatsView(state), version: state.version };
  }
}
