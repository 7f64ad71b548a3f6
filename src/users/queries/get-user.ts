import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { assertCanAccess, canLookUpEmail } from '../../common/auth.guard';
import { AccessDenied } from '../../common/domain-error';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { UserErased, UserNotFound } from '../domain/errors';
import { UserState } from '../domain/user';
import { UserReader } from '../persistence/user.repository';
import { toUserView, UserView } from '../user.view';

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

  async execute({ actor, key }: GetUser): Promise<Versioned<UserView>> {
    const state = await readAccessibleUser(this.reader, actor, key);
    return { view: toUserView(state), version: state.version };
  }
}

/** How a user is looked up: by id, Keycloak id or (normalised) email. */
export type UserKey = { id: string } | { keycloakId: string } | { email: string };

/**
 * Loads a live (active or suspended) user the caller may see: 404 if there is none or it is deleted, 410 if it was
 * erased (a reference to it resolves to "an erased user"), 403 if it is someone else's.
 */
export async function readAccessibleUser(reader: UserReader, actor: Actor, key: UserKey): Promise<UserState> {
  if ('email' in key) {
    // A person may look up only the address of their token, decided before the read (as for Keycloak ids).
    if (!canLookUpEmail(actor, key.email)) throw new AccessDenied();
    const state = await reader.findByEmail(key.email);
    if (!state) throw new UserNotFound(key.email);
    assertCanAccess(actor, state.keycloakId);
    return state;
  }
  if ('keycloakId' in key) {
    // Checked before the read: whether another person's account exists is not ours to tell.
    assertCanAccess(actor, key.keycloakId);
    const state = await reader.findByKeycloakId(key.keycloakId);
    if (!state) throw new UserNotFound(key.keycloakId);
    return state;
  }
  const state = await reader.findById(key.id);
  if (!state) throw (await reader.statusOf(key.id)) === 'erased' ? new UserErased(key.id) : new UserNotFound(key.id);
  assertCanAccess(actor, state.keycloakId);
  return state;
}
