import { ApiQueryOptions } from '@nestjs/swagger';
import { FieldError, ValidationFailed } from '../common/domain-error';
import { canonicalLanguageTag, LANGUAGE_TAG_RULE } from './domain/preferences';
import { normaliseEmail } from './domain/user';
import { STATUS_PREDICATES } from './persistence/user-directory.sql';
import { DIRECTORY_SORTS, DirectoryFilters, DirectorySort } from './persistence/user.repository';

/** GET /api/v1/users, its query string checked and normalised. */
export interface DirectoryRequest {
  filters: DirectoryFilters;
  sort: DirectorySort;
  limit: number;
  cursor?: string;
  includeTotal: boolean;
}

export const DIRECTORY_STATUSES = Object.keys(STATUS_PREDICATES) as DirectoryFilters['status'][];
const MAX_LIST = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_RULE = 'must be an ISO 8601 date (2026-01-31) or date-time with a time zone (2026-01-31T09:30:00Z, 2026-01-31T10:30:00+01:00)';

/** Every parameter the list takes, as the OpenAPI document shows it; any other is refused. */
export const DIRECTORY_PARAMETERS: (ApiQueryOptions & { name: string })[] = [
  {
    name: 'q',
    type: String,
    minLength: 2,
    maxLength: 100,
    description: 'Fragment of the full name, email or company name; case and accents ignored',
  },
  { name: 'email', type: String, description: 'Exact email (trimmed, lower-cased)' },
  { name: 'id', type: String, description: `Comma-separated user ids (up to ${MAX_LIST}); unknown ones are absent from the answer` },
  { name: 'keycloakId', type: String, description: `Comma-separated Keycloak ids (up to ${MAX_LIST})` },
  { name: 'companyName', type: String, description: 'Exact company name, case-insensitive' },
  { name: 'language', type: String, description: 'Preferred language, a BCP 47 tag (exact after canonicalisation: pt-br = pt-BR)' },
  {
    name: 'status',
    enum: DIRECTORY_STATUSES,
    description: '`deleted` (soft-deleted users) for admin tokens only',
    schema: { default: 'active' },
  },
  { name: 'createdFrom', type: String, description: 'ISO 8601; inclusive (a date alone: from its start, UTC)' },
  { name: 'createdTo', type: String, description: 'ISO 8601; inclusive (a date alone: through its end, UTC)' },
  { name: 'updatedSince', type: String, description: 'ISO 8601; inclusive. With sort=updatedAt: incremental sync' },
  { name: 'sort', enum: [...DIRECTORY_SORTS], schema: { default: '-createdAt' }, description: 'A leading - sorts descending' },
  { name: 'limit', type: Number, minimum: 1, maximum: 100, description: 'Default 20, or the number of ids (keycloakIds) asked for' },
  { name: 'cursor', type: String, description: 'nextCursor of the previous page, with the same filters and sort' },
  { name: 'include', enum: ['total'], description: '`total` adds total and totalIsEstimate' },
].map((parameter) => ({ required: false, ...parameter }) as ApiQueryOptions & { name: string });

const KNOWN = new Set(DIRECTORY_PARAMETERS.map((parameter) => parameter.name));

/** Checks every parameter and reports all that are wrong at once (400 VALIDATION_FAILED, each by name). */
export function parseDirectoryParams(query: Record<string, unknown>): DirectoryRequest {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => void errors.push({ field, message });
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!KNOWN.has(name)) fail(name, 'is not a known parameter');
    else if (typeof value !== 'string') fail(name, 'must be given once (separate several values with commas)');
    else raw[name] = value;
  }
  const read = <T>(name: string, parse: (value: string) => T | null, rule: string): T | undefined => {
    if (raw[name] === undefined) return undefined;
    const parsed = parse(raw[name]);
    if (parsed === null) fail(name, rule);
    return parsed ?? undefined;
  };

  const filters: DirectoryFilters = {
    status: read('status', oneOf(DIRECTORY_STATUSES), `must be one of: ${DIRECTORY_STATUSES.join(', ')}`) ?? 'active',
    q: read('q', searchFragment, 'must be 2 to 100 characters, without control characters'),
    email: read('email', (v) => text(normaliseEmail(v), 254), 'must be an email address of at most 254 characters'),
    ids: read(
      'id',
      list((v) => (UUID.test(v) ? v.toLowerCase() : null)),
      `must be a comma-separated list of up to ${MAX_LIST} UUIDs`,
    ),
    keycloakIds: read(
      'keycloakId',
      list((v) => text(v, 255)),
      `must be a comma-separated list of up to ${MAX_LIST} Keycloak ids`,
    ),
    companyName: read('companyName', (v) => text(v.trim(), 100), 'must be 1 to 100 characters'),
    language: read('language', canonicalLanguageTag, LANGUAGE_TAG_RULE),
    createdFrom: read('createdFrom', (v) => instant(v)?.at ?? null, DATE_RULE),
    updatedSince: read('updatedSince', (v) => instant(v)?.at ?? null, DATE_RULE),
  };
  const createdTo = read('createdTo', instant, DATE_RULE);
  if (createdTo?.dateOnly) filters.createdBefore = new Date(createdTo.at.getTime() + 86_400_000);
  else if (createdTo) filters.createdTo = createdTo.at;
  const sort = read('sort', oneOf(DIRECTORY_SORTS), `must be one of: ${DIRECTORY_SORTS.join(', ')}`) ?? '-createdAt';
  const listed = Math.max(filters.ids?.length ?? 0, filters.keycloakIds?.length ?? 0);
  const limit = read('limit', (v) => (/^\d{1,3}$/.test(v) && +v >= 1 && +v <= 100 ? +v : null), 'must be a whole number from 1 to 100');
  const include = read('include', oneOf(['total']), 'must be total');
  if (errors.length > 0) throw new ValidationFailed(errors);

  for (const key of Object.keys(filters) as (keyof DirectoryFilters)[]) if (filters[key] === undefined) delete filters[key];
  return { filters, sort, limit: limit ?? (listed || 20), cursor: raw.cursor, includeTotal: include === 'total' };
}

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (value: string): T | null =>
    values.includes(value as T) ? (value as T) : null;

const text = (value: string, max: number) => (value.length >= 1 && value.length <= max ? value : null);

function searchFragment(value: string): string | null {
  const fragment = value.trim();
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(fragment)) return null;
  const length = [...fragment].length;
  return length >= 2 && length <= 100 ? fragment : null;
}

/** A comma-separated list of 1 to 100 values, each parsed; duplicates dropped. */
function list(parse: (value: string) => string | null) {
  return (value: string): string[] | null => {
    const items = value.split(',').map((item) => parse(item.trim()));
    if (items.length > MAX_LIST || items.some((item) => item === null)) return null;
    return [...new Set(items as string[])];
  };
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+\- ](\d{2}):(\d{2})))?$/;

/**
 * A date (midnight UTC) or a date-time with its offset. Calendar checked: Date would take 2026-02-30 as
 * 2 March. A space stands for the `+` of an offset that was not percent-encoded in the URL.
 */
function instant(value: string): { at: Date; dateOnly: boolean } | null {
  const match = ISO_8601.exec(value);
  if (!match) return null;
  const [, year, month, day, hour = '0', minute = '0', second = '0', zone, zoneHours = '0', zoneMinutes = '0'] = match;
  const date = new Date(Date.UTC(+year, +month - 1, +day));
  if (date.getUTCFullYear() !== +year || date.getUTCMonth() !== +month - 1 || date.getUTCDate() !== +day) return null;
  if (+hour > 23 || +minute > 59 || +second > 59 || +zoneHours > 23 || +zoneMinutes > 59) return null;
  const at = new Date(zone ? value.replace(' ', '+') : value);
  return Number.isNaN(at.getTime()) ? null : { at, dateOnly: zone === undefined };
}
