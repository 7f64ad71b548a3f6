import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { InvalidCursor } from '../../common/domain-error';
import { Actor } from '../../common/token-verifier';
import { UserNotFound } from '../domain/errors';
import { AuditEntry, AuditTrail } from '../persistence/audit-trail';
import { UserReader } from '../persistence/user.repository';
import { readAccessibleUser } from './get-user';

export interface AuditPage {
  data: AuditEntry[];
  /** Pass as `cursor` for the next (older) page; null on the last one. */
  nextCursor: string | null;
}

/**
 * A user's audit trail, newest first, in keyset pages: the cursor names the last entry shown, so a page costs the
 * same at any depth and entries written meanwhile never shift it. A person reads their own (while live), without the
 * legal hold entries (telling them of a hold could prejudice the proceedings it serves); admins and services any
 * user's, deleted and erased ones too (an erased user's trail is the erasure alone).
 */
export class GetAuditTrail extends Query<AuditPage> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
    readonly limit: number,
    readonly cursor: string | null,
  ) {
    super();
  }
}

@QueryHandler(GetAuditTrail)
export class GetAuditTrailHandler implements IQueryHandler<GetAuditTrail> {
  constructor(
    private readonly reader: UserReader,
    private readonly trail: AuditTrail,
  ) {}

  async execute({ actor, userId, limit, cursor }: GetAuditTrail): Promise<AuditPage> {
    const person = actor.kind === 'user' && !actor.admin;
    if (person) await readAccessibleUser(this.reader, actor, { id: userId });
    else if ((await this.reader.statusOf(userId)) === null) throw new UserNotFound(userId);
    const before = cursor === null ? null : readCursor(cursor, userId);
    const rows = await this.trail.page(userId, limit + 1, before, !person);
    const data = rows.slice(0, limit);
    return { data, nextCursor: rows.length > limit ? makeCursor(userId, data[data.length - 1].id) : null };
  }
}

/** Opaque to clients: the user it belongs to and the last entry's id. */
function makeCursor(userId: string, lastId: string): string {
  return Buffer.from(JSON.stringify({ u: userId, before: lastId })).toString('base64url');
}

function readCursor(cursor: string, userId: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor();
  }
  const { u, before } = (parsed ?? {}) as { u?: unknown; before?: unknown };
  if (u !== userId || typeof before !== 'string' || !/^[1-9]\d{0,17}$/.test(before)) throw new InvalidCursor();
  return before;
}
