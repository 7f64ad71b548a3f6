import { assertCanAccess } from '../../common/auth.guard';
import { assertVersion } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { User } from '../domain/user';
import { UserRepository } from '../persistence/user.repository';

/**
 * The frame of every command on an existing user: lock it, check the caller and If-Match, change it, save it.
 * `changed` tells whether the change did anything (only then is a version and an event written).
 */
export async function modifyUser(
  users: UserRepository,
  actor: Actor,
  id: string,
  ifMatch: number[] | null,
  change: (user: User) => unknown,
): Promise<{ user: User; changed: boolean }> {
  let before = 0;
  const { user } = await users.modify(id, async (user) => {
    assertCanAccess(actor, user.keycloakId);
    assertVersion(ifMatch, user.version);
    before = user.version;
    await change(user);
  });
  return { user, changed: user.version !== before };
}
