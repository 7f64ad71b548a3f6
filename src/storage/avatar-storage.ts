import { DomainError } from '../common/domain-error';

/** Avatar objects live under content-hash keys, so a key always means the same bytes: browsers and CDNs may keep them forever. */
export const AVATAR_CACHE_CONTROL = 'public, max-age=31536000, immutable';

export interface AvatarObject {
  key: string;
  body: Buffer;
  contentType: string;
}

/** A call to the store, named in the log when it fails: `{operation: 'PUT', key: 'users/…/256.jpg'}`. */
export interface StoreCall {
  operation: string;
  key: string;
}

/** The store is down, hung or refusing us: the request may succeed later (503). The log says which call and why. */
export class StorageUnavailable extends DomainError {
  constructor(cause: unknown, call: StoreCall) {
    super('SERVICE_UNAVAILABLE', 'Avatar storage is unavailable, try again later');
    (this as { cause?: unknown }).cause = cause;
    this.reason = { ...call, ...describe(cause) };
  }
}

/** Runs a call to the store, turning any failure into StorageUnavailable. */
export async function unavailableOnError<T>(call: StoreCall, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new StorageUnavailable(error, call);
  }
}

/** The error's code (ECONNRESET, ETIMEDOUT, an S3 code such as AccessDenied) and message. */
function describe(cause: unknown): { code?: string; message: string } {
  const { code, message, errors } = (cause ?? {}) as { code?: unknown; message?: unknown; errors?: { message?: unknown }[] };
  // Node reports a failed connection to every address of a name as an AggregateError without a message.
  const text = message || (Array.isArray(errors) ? errors.map((e) => String(e.message)).join('; ') : String(cause));
  return { ...(typeof code === 'string' ? { code } : {}), message: String(text) };
}

/** Where avatar objects are kept and served from. Every failure to reach it is a StorageUnavailable. */
export abstract class AvatarStorage {
  /** Creates the bucket (or directory) if missing. */
  abstract ensureBucket(): Promise<void>;
  /** Resolves when the store answers now (for /health); creates nothing. */
  abstract ping(): Promise<void>;
  /** Writes every object, with AVATAR_CACHE_CONTROL and its content type; on failure some may have been written. */
  abstract put(objects: AvatarObject[]): Promise<void>;
  /** Deletes the objects; keys that do not exist are fine. */
  abstract remove(keys: string[]): Promise<void>;
  /**
   * Deletes every object of a user: all keys under `users/<userId>/`, listed from the store rather than taken from
   * the database, so that objects a failed upload or delete left behind go too. Returns how many there were.
   */
  abstract removeAllOf(userId: string): Promise<number>;
  /** One object's bytes and content type. */
  abstract read(key: string): Promise<{ body: Buffer; contentType: string }>;
  /** Where clients fetch the object. */
  abstract publicUrl(key: string): string;
}

/** Keys are made by us (users/<uuid>/<sha256>/<size>.<ext>); anything else is refused before it reaches a store. */
export const AVATAR_KEY = /^users\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/[0-9a-f]{64}\/\d{1,4}\.(jpg|png)$/;

export function assertAvatarKey(key: string): void {
  if (!AVATAR_KEY.test(key)) throw new Error(`Not an avatar key: ${key}`);
}

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The prefix of a user's objects, `users/<id>/`; only for a lower-case UUID, so that no prefix reaches beyond one user. */
export function userPrefix(userId: string): string {
  if (!USER_ID.test(userId)) throw new Error(`Not a user id: ${userId}`);
  return `users/${userId}/`;
}

/** The type an avatar key's extension stands for (keys are made by us: .jpg or .png). */
export function contentTypeOf(key: string): string {
  return key.endsWith('.png') ? 'image/png' : 'image/jpeg';
}
