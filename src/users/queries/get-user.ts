import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { assertCanAccess, canLookUpEmail } from '../../common/auth.guard';
import { AccessDenied } from '../../common/domain-error';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { UserErased, UserNotFound } from '../domain/errors';
import { UserState } from '../domain/user';
import { UserKey, UserReader } from '../persistence/user.repository';
import { UserView } from '../user.view';

export class GetUser extends Query<Versioned<UserView>> {
  constructor(
    readonly actor: Actor,
    readonly key: UserKey,
  ) {
    super();
  }
}

@QueryHandler(GetUser)
export class GetUserHandler implements IQueryHandler<GetUser> {
  constructor(private readonly reader: UserReader) {}

  /** The view comes straight from the row (UserReader.findView): no aggregate is built to answer a read. */
  async execute({ actor, key }: GetUser): Promise<Versioned<UserView>> {
    const view = await readAccessible(this.reader, actor, key, (k) => this.reader.findView(k));
    return { view, version: view.version };
  }
}

export type { UserKey };

/**
 * Loads a live (active or suspended) user the caller may see: 404 if there is none or it is deleted, 410 if it was
 * erased (a reference to it resolves to "an erased user"), 403 if it is someone else's.
 */
export function readAccessibleUser(reader: UserReader, actor: Actor, key: UserKey): Promise<UserState> {
  return readAccessible(reader, actor, key, (k) =>
    'id' in k ? reader.findById(k.id) : 'keycloakId' in k ? reader.findByKeycloakId(k.keycloakId) : reader.findByEmail(k.email),
  );
}

/** readAccessibleUser's rules around any read of a live user (its state or its view). */
async function readAccessible<T extends { keycloakId: string }>(
  reader: UserReader,
  actor: Actor,
  key: UserKey,
  find: (key: UserKey) => Promise<T | null>,
): Promise<T> {
  if ('email' in key) {
    // A person may look up only the address of their token, decided before the read (as for Keycloak ids).
    if (!canLookUpEmail(actor, key.email)) throw new AccessDenied();
    const found = await find(key);
    if (!found) throw new UserNotFound(key.email);
    assertCanAccess(actor, found.keycloakId);
    return found;
  }
  if ('keycloakId' in key) {
    // Checked before the read: whether another person's account exists is not ours to tell.
    assertCanAccess(actor, key.keycloakId);
    const found = await find(key);
    if (!found) throw new UserNotFound(key.keycloakId);
    return found;
  }
  const found = await find(key);
  if (!found) throw (await reader.statusOf(key.id)) === 'erased' ? new UserErased(key.id) : new UserNotFound(key.id);
  assertCanAccess(actor, found.keycloakId);
  return found;
}
