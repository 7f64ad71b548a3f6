import { ValidationFailed } from './domain-error';

/** The Idempotency-Key header: absent, or 1 to 255 printable ASCII characters (a UUID is usual). */
export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw ValidationFailed.field('Idempotency-Key', 'must be 1 to 255 printable characters without spaces');
  }
  return header;
}
