import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AccessDenied } from '../../common/domain-error';
import { Actor } from '../../common/token-verifier';
import { parseDirectoryParams } from '../directory-params';
import { UserReader } from '../persistence/user.repository';
import { toUserView, UserView } from '../user.view';
import { cursorFingerprint, DirectoryCursors } from './directory-cursor';

export interface UserPage {
  data: UserView[];
  /** null on the last page. */
  nextCursor: string | null;
  total?: number;
  totalIsEstimate?: boolean;
}

/** Up to this many matching users are counted for `total`; more are estimated. */
const EXACT_TOTAL_UP_TO = 10_000;
/** Statuses only admins may list. */
const ADMIN_ONLY_STATUSES = ['deleted'];

/** GET /api/v1/users: the directory, for admins and other services. `query` is the raw query string. */
export class FindUsers extends Query<UserPage> {
  constructor(
    readonly actor: Actor,
    readonly query: Record<string, unknown>,
  ) {
    super();
  }
}

@QueryHandler(FindUsers)
export class FindUsersHandler implements IQueryHandler<FindUsers> {
  constructor(
    private readonly reader: UserReader,
    private readonly cursors: DirectoryCursors,
  ) {}

  async execute({ actor, query }: FindUsers): Promise<UserPage> {
    if (actor.kind === 'user' && !actor.admin) throw new AccessDenied('The user directory is for admins and internal services');
    const { filters, sort, limit, cursor, includeTotal } = parseDirectoryParams(query);
    if (ADMIN_ONLY_STATUSES.includes(filters.status) && !actor.admin) {
      throw new AccessDenied(`Users with status ${filters.status} are listed for admin tokens only`);
    }
    const fingerprint = cursorFingerprint(filters, sort);
    const after = cursor === undefined ? undefined : await this.cursors.open(cursor, fingerprint, sort);
    const [page, total] = await Promise.all([
      this.reader.findPage({ filters, sort, limit, after }),
      includeTotal ? this.reader.countMatching(filters, EXACT_TOTAL_UP_TO) : undefined,
    ]);
    return {
      data: page.users.map(toUserView),
      nextCursor: page.more && page.last ? await this.cursors.seal(page.last, fingerprint) : null,
      ...(total ? { total: total.count, totalIsEstimate: !total.exact } : {}),
    };
  }
}
