import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { deleteInBatches } from '../../common/delete-in-batches';
import { PgPool } from '../../config/pg-pool';
import { AuditEntry, AuditTrail } from './audit-trail';

// ORDER BY names the table's id: the bare name would be this text column, and '9' sorts after '10'.
const COLUMNS = `a.id::text AS id, a.at, a.actor, a.trace_id AS "traceId", a.action, a.changes`;

type Row = Omit<AuditEntry, 'at'> & { at: Date };

/** Legal hold entries only when the boolean parameter `asked` is true. */
const holds = (asked: string) => `(${asked} OR a.action NOT LIKE 'legal_hold.%')`;

/** audit_log on the pg pool; a user's entries come off the (user_id, id) index. */
@Injectable()
export class PgAuditTrail extends AuditTrail {
  constructor(
    private readonly db: PgPool,
    private readonly dataSource: DataSource,
  ) {
    super();
  }

  async page(userId: string, limit: number, before: string | null, withLegalHolds: boolean): Promise<AuditEntry[]> {
    const { rows } = await this.db.pool.query<Row>(
      `SELECT ${COLUMNS} FROM audit_log AS a WHERE a.user_id = $1 AND ($2::bigint IS NULL OR a.id < $2::bigint) AND ${holds('$4')}
       ORDER BY a.id DESC LIMIT $3`,
      [userId, before, limit, withLegalHolds],
    );
    return rows.map(withIsoTime);
  }

  async all(userId: string, withLegalHolds: boolean): Promise<AuditEntry[]> {
    const { rows } = await this.db.pool.query<Row>(
      `SELECT ${COLUMNS} FROM audit_log AS a WHERE a.user_id = $1 AND ${holds('$2')} ORDER BY a.id`,
      [userId, withLegalHolds],
    );
    return rows.map(withIsoTime);
  }

  deleteOlderThan(days: number, batchSize: number): Promise<number> {
    return deleteInBatches(
      this.dataSource,
      `DELETE FROM audit_log WHERE id IN (
         SELECT id FROM audit_log WHERE at < now() - make_interval(days => $1) ORDER BY at LIMIT $2)`,
      [days],
      batchSize,
    );
  }
}

function withIsoTime(row: Row): AuditEntry {
  return { ...row, at: row.at.toISOString() };
}
