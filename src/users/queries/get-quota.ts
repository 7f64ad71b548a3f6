import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { UserReader } from '../persistence/user.repository';
import { QuotaView, toQuotaView } from '../user.view';
import { readAccessibleUser } from './get-user';

export class GetQuota extends Query<Versioned<QuotaView>> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
  ) {
    super();
  }
}

@QueryHandler(GetQuota)
export class GetQuotaHandler implements IQueryHandler<GetQuota> {
  constructor(private readonly reader: UserReader) {}

  async execute({ actor, userId }: GetQuota): Promise<Versioned<QuotaView>> {
    const state = await readAccessibleUser(this.reader, actor, { id: userId });
    return { view: toQuotaView(state, await this.reader.reservedFor(userId)), version: state.version };
  }
}
