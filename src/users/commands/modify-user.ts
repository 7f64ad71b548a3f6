import { assertCanAccess } from '../../common/auth.guard';
import { assertVersion } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { AccountSuspended } from '../domain/errors';
import { User, UserStatus } from '../domain/user';
import { UserRepository } from '../persistence/user.repository';

export interface ModifyOptions {
  /** A suspended person may still do this to their own account (delete it). */
  whileSuspended?: boolean;
  /** Soft-deleted users too (restore, erase, legal holds). */
  withDeleted?: boolean;
  /** The change touches the row alone (see UserRepository.modifyRow): no lock, two round trips. */
  rowOnly?: boolean;
}

/**
 * The frame of every command on an existing user: lock it, check the caller and If-Match, change it, save it with
 * its audit entries. `changed` tells whether the change did anything (only then is a version and an event written).
 */
export async function modifyUser(
  users: UserRepository,
  actor: Actor,
  audit: AuditContext,
  id: string,
  ifMatch: number[] | null,
  change: (user: User) => unknown,
  options: ModifyOptions = {},
): Promise<{ user: User; changed: boolean }> {
  let before = 0;
  const { user } = await (options.rowOnly ? users.modifyRow.bind(users) : users.modify.bind(users))(
    id,
    audit,
    async (user) => {
      assertCanAccess(actor, user.keycloakId);
      if (!options.whileSuspended) assertMayChange(actor, user.status);
      assertVersion(ifMatch, user.version);
      before = user.version;
      await change(user);
    },
    { withDeleted: options.withDeleted },
  );
  return { user, changed: user.version !== before };
}

/** A suspended person may read their record but change nothing; admins, services and consumed events are unaffected. */
export function assertMayChange(actor: Actor, status: UserStatus): void {
  if (actor.kind === 'user' && !actor.admin && status === 'suspended') throw new AccountSuspended();
}
