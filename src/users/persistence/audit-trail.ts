import { AuditAction, FieldChange } from '../domain/audit';

/** One entry of a user's audit trail, as the API shows it. */
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  traceId: string | null;
  action: AuditAction;
  changes: FieldChange[];
}

/**
 * Reads of the audit_log table and its retention. Entries are written only by UserRepository, in the transaction of
 * the change they record.
 */
export abstract class AuditTrail {
  /**
   * Newest first: up to `limit` entries of the user older than the entry `before` (all when null); without the legal
   * hold entries when `withLegalHolds` is false (what the person sees).
   */
  abstract page(userId: string, limit: number, before: string | null, withLegalHolds: boolean): Promise<AuditEntry[]>;
  /** Every entry of the user, oldest first (legal hold entries as for page). */
  abstract all(userId: string, withLegalHolds: boolean): Promise<AuditEntry[]>;
  /** Deletes entries older than `days`, `batchSize` per statement; returns how many went. */
  abstract deleteOlderThan(days: number, batchSize: number): Promise<number>;
}
