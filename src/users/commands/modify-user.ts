import { assertCanAccess } from '../../common/auth.guard';
import { assertVersion } from '../../common/if-match';
import { Actor } from '../../common/token-verifier';
import { User } from '../domain/user';
import { UserRepository } from '../persistence/user.repository';

/** The frame of every command on an existing user: lock it, check the caller and If-Match, change it, save it. */
export async function modifyUser(
  users: UserRepository,
  actor: Actor,
  id: string,
  ifMatch: number[] | null,
  change: (user: User) => unknown,
): Promise<User> {
  const { user } = await users.modify(id, async (user) => {
    assertCanAccess(actor, user.keycloakId);
    assertVersion(ifMatch, user.version);
    await change(user);
  });
  return user;
}
