import { Injectable } from '@nestjs/common';
import { ReadPool } from '../../config/read-pool';
import { Metrics } from '../../observability/metrics';
import { Reserved } from '../domain/quota-reservation';
import { UserState, UserStatus } from '../domain/user';
import { reservedBy } from './quota-reservations.sql';
import { countStatement, estimateStatement, pageStatement } from './user-directory.sql';
import { toState, toView, USER_COLUMNS, UserRecord, VIEW_COLUMNS, ViewRecord } from './user.mapper';
import { DirectoryFilters, DirectoryPage, DirectoryPageRequest, UserKey, UserReader } from './user.repository';
import type { UserView } from '../user.view';

type PageRecord = UserRecord & { sortKey: string; snapshotXids?: string; snapshotAt?: string };

/** A named (prepared) statement reading one live user; the name is also the metrics operation. */
interface Statement {
  name: string;
  text: string;
}
const liveBy = (name: string, column: string, columns = USER_COLUMNS): Statement => ({
  name,
  text: `SELECT ${columns} FROM users WHERE ${column} = $1 AND deleted_at IS NULL`,
});
const BY_ID = liveBy('user_by_id', 'id');
const BY_KEYCLOAK_ID = liveBy('user_by_keycloak_id', 'keycloak_id');
const BY_EMAIL = liveBy('user_by_email', 'email');
const VIEW_BY_ID = liveBy('user_view_by_id', 'id', VIEW_COLUMNS);
const VIEW_BY_KEYCLOAK_ID = liveBy('user_view_by_keycloak_id', 'keycloak_id', VIEW_COLUMNS);
const VIEW_BY_EMAIL = liveBy('user_view_by_email', 'email', VIEW_COLUMNS);

const WITH_DELETED: Statement = {
  name: 'user_with_deleted',
  text: `SELECT ${USER_COLUMNS} FROM users WHERE id = $1 AND status <> 'erased'`,
};

const toStateOrNull = (row: UserRecord | undefined) => (row ? toState(row) : null);

/**
 * Reads straight through the pg pool with named (prepared) statements: the hot path of the service,
 * and measured here at ~1.2x the throughput of going through TypeORM. Every query goes through ReadPool,
 * so it reads from the replica when one is configured and fresh enough.
 */
@Injectable()
export class PgUserReader extends UserReader {
  constructor(
    private readonly db: ReadPool,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  findById(id: string): Promise<UserState | null> {
    return this.one(BY_ID, id).then(toStateOrNull);
  }

  findByKeycloakId(keycloakId: string): Promise<UserState | null> {
    return this.one(BY_KEYCLOAK_ID, keycloakId).then(toStateOrNull);
  }

  findByEmail(email: string): Promise<UserState | null> {
    return this.one(BY_EMAIL, email).then(toStateOrNull);
  }

  /** Timestamps read as text (VIEW_COLUMNS): the view only writes them out. Timed as the same reads as above. */
  async findView(key: UserKey): Promise<UserView | null> {
    const [operation, statement, value] =
      'id' in key
        ? [BY_ID.name, VIEW_BY_ID, key.id]
        : 'keycloakId' in key
          ? [BY_KEYCLOAK_ID.name, VIEW_BY_KEYCLOAK_ID, key.keycloakId]
          : [BY_EMAIL.name, VIEW_BY_EMAIL, key.email];
    const { rows } = await this.metrics.timeQuery(operation, () => this.db.query<ViewRecord>({ ...statement, values: [value] }));
    return rows[0] ? toView(rows[0]) : null;
  }

  /** Unnamed statements: their shapes vary, and each is planned for its values (trigram selectivity depends on q). */
  async findPage(page: DirectoryPageRequest): Promise<DirectoryPage> {
    const { rows } = await this.metrics.timeQuery('find_users', () => this.db.query<PageRecord>(pageStatement(page)));
    const more = rows.length > page.limit;
    const shown = more ? rows.slice(0, page.limit) : rows;
    const last = shown.at(-1);
    const snapshot = page.after?.snapshot ?? (last?.snapshotXids ? { xids: last.snapshotXids, takenAt: last.snapshotAt! } : undefined);
    return {
      users: shown.map(toState),
      last: last ? { sortKey: last.sortKey, id: last.id, ...(snapshot ? { snapshot } : {}) } : null,
      more,
    };
  }

  async countMatching(filters: DirectoryFilters, exactUpTo: number): Promise<{ count: number; exact: boolean }> {
    return this.metrics.timeQuery('count_users', async () => {
      const { rows } = await this.db.query<{ 'QUERY PLAN': unknown }>(estimateStatement(filters));
      const plan = rows[0]['QUERY PLAN'];
      const [{ Plan }] = (typeof plan === 'string' ? JSON.parse(plan) : plan) as [{ Plan: { 'Plan Rows': number } }];
      const estimate = Math.round(Plan['Plan Rows']);
      // Counting a large result would cost about as much as reading it: only a small one is counted.
      if (estimate > exactUpTo) return { count: estimate, exact: false };
      const counted = await this.db.query<{ n: number }>(countStatement(filters, exactUpTo + 1));
      const count = counted.rows[0].n;
      return count > exactUpTo ? { count: Math.max(estimate, count), exact: false } : { count, exact: true };
    });
  }

  async cursorKey(): Promise<Buffer> {
    const { rows } = await this.db.query<{ secret: Buffer }>(`SELECT secret FROM signing_keys WHERE name = 'directory_cursor'`);
    if (!rows[0]) throw new Error('signing_keys has no directory_cursor key: run the migrations');
    return Buffer.from(rows[0].secret); // PGlite gives a Uint8Array
  }

  findWithDeleted(id: string): Promise<UserState | null> {
    return this.one(WITH_DELETED, id).then(toStateOrNull);
  }

  async statusOf(id: string): Promise<UserStatus | null> {
    const { rows } = await this.db.query<{ status: UserStatus }>({
      name: 'user_status',
      text: 'SELECT status FROM users WHERE id = $1',
      values: [id],
    });
    return rows[0]?.status ?? null;
  }

  async countByStatus(): Promise<Record<UserStatus, number>> {
    const { rows } = await this.db.query<{ status: UserStatus; n: number }>('SELECT status, count(*)::int AS n FROM users GROUP BY status');
    const counts: Record<UserStatus, number> = { active: 0, suspended: 0, deleted: 0, erased: 0 };
    for (const { status, n } of rows) counts[status] = n;
    return counts;
  }

  reservedFor(id: string): Promise<Reserved> {
    return this.metrics.timeQuery('reserved_by', () => reservedBy(this.db, id));
  }

  async totalStorageUsed(): Promise<bigint> {
    const { rows } = await this.db.query<{ bytes: string }>(
      'SELECT coalesce(sum(storage_used), 0)::text AS bytes FROM users WHERE deleted_at IS NULL',
    );
    return BigInt(rows[0].bytes);
  }

  private async one({ name, text }: Statement, value: string): Promise<UserRecord | undefined> {
    const { rows } = await this.metrics.timeQuery(name, () => this.db.query<UserRecord>({ name, text, values: [value] }));
    return rows[0];
  }
}
