import { USER_COLUMNS } from './user.mapper';
import { DirectoryFilters, DirectoryPageRequest, DirectorySnapshot, DirectoryStatus, MOVING_SORTS } from './user.repository';

/**
 * What each value of the `status` filter selects. Erased users are never listed: nothing of them is left to show
 * (GET /users/:id answers 410 for their ids). The `deleted_at` terms are implied by the status; they are there so
 * that the planner may use the partial indexes on email and Keycloak id (live ones, deleted ones).
 */
export const STATUS_PREDICATES: Record<DirectoryStatus, string> = {
  active: `status = 'active' AND deleted_at IS NULL`,
  suspended: `status = 'suspended' AND deleted_at IS NULL`,
  deleted: `status = 'deleted' AND deleted_at IS NOT NULL`,
};

// The sorts' keys are the expressions of the indexes migration CreateUserDirectory builds, written the same way.
const utcText = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Each sort's key: the indexed expression, the same as text for the cursor (exact, microseconds included), its type. */
const SORT_KEYS = {
  createdAt: { expression: 'created_at', text: utcText('created_at'), type: 'timestamptz' },
  updatedAt: { expression: 'updated_at', text: utcText('updated_at'), type: 'timestamptz' },
  fullName: { expression: 'search_fold(full_name)', text: 'search_fold(full_name)', type: 'text' },
} as const;

/** Statement text and its bind parameters; every value, cursor parts included, travels as a parameter. */
class Statement {
  readonly values: unknown[] = [];

  param(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

function where(filters: DirectoryFilters, sql: Statement): string[] {
  const clauses = [STATUS_PREDICATES[filters.status]];
  if (filters.q !== undefined) {
    const fragment = `search_fold(${sql.param(filters.q, 'text')})`;
    // LIKE's wildcards in the fragment match themselves.
    clauses.push(`search_text LIKE '%' || replace(replace(replace(${fragment}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`);
  }
  if (filters.email !== undefined) clauses.push(`email = ${sql.param(filters.email, 'text')}`);
  if (filters.ids) clauses.push(`id = ANY(${sql.param(filters.ids, 'uuid[]')})`);
  if (filters.keycloakIds) clauses.push(`keycloak_id = ANY(${sql.param(filters.keycloakIds, 'text[]')})`);
  if (filters.companyName !== undefined) clauses.push(`lower(company_name) = lower(${sql.param(filters.companyName, 'text')})`);
  if (filters.language !== undefined) clauses.push(`preferences ->> 'language' = ${sql.param(filters.language, 'text')}`);
  if (filters.createdFrom) clauses.push(`created_at >= ${sql.param(filters.createdFrom, 'timestamptz')}`);
  if (filters.createdTo) clauses.push(`created_at <= ${sql.param(filters.createdTo, 'timestamptz')}`);
  if (filters.createdBefore) clauses.push(`created_at < ${sql.param(filters.createdBefore, 'timestamptz')}`);
  if (filters.updatedSince) clauses.push(`updated_at >= ${sql.param(filters.updatedSince, 'timestamptz')}`);
  return clauses;
}

/**
 * Whether a row's current version is one the snapshot saw, i.e. it has not changed since. Its writer is `xmin`,
 * a 32-bit transaction id, widened here to the 64-bit ids of pg_snapshot next to the snapshot's xmax (the
 * nearest such id: transactions a few billion apart would alias). Rows last changed an hour before the snapshot
 * are taken as seen without asking: that old, xmin may have wrapped around.
 */
function unchangedSince(snapshot: DirectorySnapshot, sql: Statement): string {
  const xids = sql.param(snapshot.xids, 'pg_snapshot');
  const xmax = `pg_snapshot_xmax(${xids})::text::bigint`;
  const writer = `greatest(${xmax} + (xmin::text::bigint - ${xmax} % 4294967296 + 6442450944) % 4294967296 - 2147483648, 0)`;
  return `(updated_at < ${sql.param(snapshot.takenAt, 'timestamptz')} - interval '1 hour' OR pg_visible_in_snapshot(${writer}::text::xid8, ${xids}))`;
}

/** The statement findPage runs: `limit` + 1 rows, so that the extra one tells whether another page follows. */
export function pageStatement({ filters, sort, limit, after }: DirectoryPageRequest): { text: string; values: unknown[] } {
  const sql = new Statement();
  const descending = sort.startsWith('-');
  const key = SORT_KEYS[(descending ? sort.slice(1) : sort) as keyof typeof SORT_KEYS];
  const clauses = where(filters, sql);
  const columns = [USER_COLUMNS, `${key.text} AS "sortKey"`];
  if (after) {
    const position = `(${sql.param(after.sortKey, key.type)}, ${sql.param(after.id, 'uuid')})`;
    clauses.push(`(${key.expression}, id) ${descending ? '<' : '>'} ${position}`);
    if (after.snapshot) clauses.push(unchangedSince(after.snapshot, sql));
  } else if (MOVING_SORTS.includes(sort)) {
    columns.push(`pg_current_snapshot()::text AS "snapshotXids"`, `${utcText('statement_timestamp()')} AS "snapshotAt"`);
  }
  const direction = descending ? 'DESC' : 'ASC';
  const text = `SELECT ${columns.join(', ')} FROM users WHERE ${clauses.join(' AND ')}
    ORDER BY ${key.expression} ${direction}, id ${direction} LIMIT ${sql.param(limit + 1, 'int')}`;
  return { text, values: sql.values };
}

/** Counts matching rows, but no more than `upTo`. */
export function countStatement(filters: DirectoryFilters, upTo: number): { text: string; values: unknown[] } {
  const sql = new Statement();
  const clauses = where(filters, sql);
  const text = `SELECT count(*)::int AS n FROM (SELECT 1 FROM users WHERE ${clauses.join(' AND ')} LIMIT ${sql.param(upTo, 'int')}) AS matching`;
  return { text, values: sql.values };
}

/** The planner's estimate of the matching rows (EXPLAIN, nothing is read). */
export function estimateStatement(filters: DirectoryFilters): { text: string; values: unknown[] } {
  const sql = new Statement();
  const clauses = where(filters, sql);
  return { text: `EXPLAIN (FORMAT JSON) SELECT 1 FROM users WHERE ${clauses.join(' AND ')}`, values: sql.values };
}
