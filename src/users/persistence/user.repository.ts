import { User, UserState } from '../domain/user';

/** Where users are kept. Every write stores the user's recorded events in the outbox in the same transaction. */
export abstract class UserRepository {
  /** Inserts a new user; throws EmailTaken / KeycloakIdTaken when a live user holds either. */
  abstract create(user: User): Promise<void>;

  /**
   * Loads a live user under a row lock, lets `change` act on it, and saves the result if anything changed.
   * Concurrent changes to one user therefore run one after another, each on the other's result.
   * Throws UserNotFound for a missing or deleted user.
   */
  abstract modify<T>(id: string, change: (user: User) => T | Promise<T>): Promise<{ user: User; result: T }>;

  /**
   * modify, once per idempotency key: the first call changes the user and stores `status` and the
   * result under the key in the same transaction; a repeat (even a concurrent one) returns what was
   * stored and changes nothing. Throws IdempotencyKeyReused for a key used with another user or endpoint.
   */
  abstract modifyOnce<T>(
    id: string,
    idempotency: { key: string; endpoint: string; status: number },
    change: (user: User) => T | Promise<T>,
  ): Promise<Remembered<T>>;

  /**
   * Runs `fn` under the same row lock as modify() (deleted users included; no row: nothing to lock), with the
   * storage keys of the avatar the row holds now. Avatar objects are written and deleted only under this lock
   * or modify()'s, so a delete can check that no one has just made the objects current again.
   */
  abstract withAvatarLock<T>(id: string, fn: (currentKeys: readonly string[]) => Promise<T>): Promise<T>;
}

export interface Remembered<T> {
  status: number;
  body: T;
  replayed: boolean;
}

/** Reads for queries: no aggregate, no lock, no transaction. */
export abstract class UserReader {
  abstract findById(id: string): Promise<UserState | null>;
  abstract findByKeycloakId(keycloakId: string): Promise<UserState | null>;
}
