import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error';
import { DirectoryFilters, DirectoryPosition, DirectorySort, MOVING_SORTS, UserReader } from '../persistence/user.repository';

export class InvalidCursor extends DomainError {
  constructor(message: string) {
    super('INVALID_CURSOR', message);
  }
}

/** What a cursor carries: the filters' fingerprint, the last row's sort key (k) and id (i), the walk's snapshot (x, t). */
interface Payload {
  v: 1;
  f: string;
  k: string;
  i: string;
  x?: string;
  t?: string;
}

const MAC_BYTES = 16;
const SHAPE = /^([A-Za-z0-9_-]{1,4000})\.([A-Za-z0-9_-]{22})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const SNAPSHOT = /^\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20})*)?$/;

/** The filters and sort a cursor belongs to, in a fixed order (lists sorted: the same set is the same filter). */
export function cursorFingerprint(filters: DirectoryFilters, sort: DirectorySort): string {
  const canonical = JSON.stringify([
    sort,
    filters.status,
    filters.q ?? null,
    filters.email ?? null,
    filters.ids ? [...filters.ids].sort() : null,
    filters.keycloakIds ? [...filters.keycloakIds].sort() : null,
    filters.companyName?.toLowerCase() ?? null,
    filters.language ?? null,
    ...[filters.createdFrom, filters.createdTo, filters.createdBefore, filters.updatedSince].map((date) => date?.toISOString() ?? null),
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/** Opaque to clients: base64url JSON and an HMAC of it, so that an altered cursor is detected. */
export function sealCursor(key: Buffer, position: DirectoryPosition, fingerprint: string): string {
  const payload: Payload = { v: 1, f: fingerprint, k: position.sortKey, i: position.id };
  if (position.snapshot) Object.assign(payload, { x: position.snapshot.xids, t: position.snapshot.takenAt });
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/**
 * The position a cursor names, if this service made it for these filters and this sort. Every part is checked
 * for its shape as well (as if the key could leak): what reaches SQL is a typed parameter of a known form.
 */
export function openCursor(key: Buffer, cursor: string, fingerprint: string, sort: DirectorySort): DirectoryPosition {
  const shape = SHAPE.exec(cursor);
  if (!shape) throw malformed();
  const [, body, signature] = shape;
  const expected = mac(key, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InvalidCursor('The cursor was altered or was not made by this service');
  }
  const payload = parse(body);
  if (payload?.f !== fingerprint) {
    throw new InvalidCursor('The cursor was made for other filters or another sort: repeat the first request without it');
  }
  const { v, k, i, x, t } = payload;
  if (v !== 1 || !isText(k) || !isText(i) || !UUID.test(i)) throw malformed();
  if (sort.endsWith('fullName') ? k.length > 1100 : !TIMESTAMP.test(k)) throw malformed();
  if (!MOVING_SORTS.includes(sort)) {
    if (x !== undefined) throw malformed();
    return { sortKey: k, id: i };
  }
  if (!isText(x) || !SNAPSHOT.test(x) || !isText(t) || !TIMESTAMP.test(t)) throw malformed();
  return { sortKey: k, id: i, snapshot: { xids: x, takenAt: t } };
}

const malformed = () => new InvalidCursor('The cursor is malformed: pass nextCursor exactly as it was given');
const isText = (value: unknown): value is string => typeof value === 'string';

function parse(body: string): Partial<Payload> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString());
    return typeof value === 'object' ? (value as Partial<Payload>) : null;
  } catch {
    throw malformed();
  }
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, MAC_BYTES);
}

/** Seals and opens cursors with the key stored in the database, read once (on first use) and kept. */
@Injectable()
export class DirectoryCursors {
  private key?: Promise<Buffer>;

  constructor(private readonly reader: UserReader) {}

  async seal(position: DirectoryPosition, fingerprint: string): Promise<string> {
    return sealCursor(await this.signingKey(), position, fingerprint);
  }

  async open(cursor: string, fingerprint: string, sort: DirectorySort): Promise<DirectoryPosition> {
    return openCursor(await this.signingKey(), cursor, fingerprint, sort);
  }

  private signingKey(): Promise<Buffer> {
    this.key ??= this.reader.cursorKey().catch((error: unknown) => {
      this.key = undefined; // the database was away: ask again next time
      throw error;
    });
    return this.key;
  }
}
