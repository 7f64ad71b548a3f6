import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { UserErased, UserNotFound } from '../domain/errors';
import { UserReader } from '../persistence/user.repository';
import { LegalHoldView, toLegalHoldView } from '../user.view';

/** Admins only (the route says so): whether a live or soft-deleted user is under a legal hold. */
export class GetLegalHold extends Query<Versioned<LegalHoldView>> {
  constructor(readonly userId: string) {
    super();
  }
}

@QueryHandler(GetLegalHold)
export class GetLegalHoldHandler implements IQueryHandler<GetLegalHold> {
  constructor(private readonly reader: UserReader) {}

  async execute({ userId }: GetLegalHold): Promise<Versioned<LegalHoldView>> {
    const state = await this.reader.findWithDeleted(userId);
    if (!state) throw (await this.reader.statusOf(userId)) === 'erased' ? new UserErased(userId) : new UserNotFound(userId);
    return { view: toLegalHoldView(state), version: state.version };
  }
}
