import { AuditContext } from '../domain/audit';
import { QuotaResource, Reserved, ReservationReceipt, ReservationRequest } from '../domain/quota-reservation';
import { User, UserState, UserStatus } from '../domain/user';
import type { UserView } from '../user.view';

/**
 * The users table, behind two ports: UserRepository for writes (under the user's row lock, with the user's
 * events written to the outbox in the same transaction) and UserReader for reads. No other code has SQL on
 * `users`: a use case that needs a new query or write adds a method here.
 *
 * Every save also appends the user's audit entries (what the aggregate recorded, with `context`'s actor and trace
 * id) in the same statement as the row, so a change and its audit trail commit together. Saving an erased user
 * also deletes what else the database keeps of them: idempotency records, the rest of the audit trail and the
 * events already published (those not yet published go out first; see scrubErasedEvents).
 */
export abstract class UserRepository {
  /** Inserts a new user; throws EmailTaken / KeycloakIdTaken when a live user holds either. */
  abstract create(user: User, context: AuditContext): Promise<void>;

  /**
   * Loads a live user (active or suspended; `withDeleted`: soft-deleted ones too) under a row lock, lets `change`
   * act on it, and saves the result if anything changed. Concurrent changes to one user therefore run one after
   * another, each on the other's result. Throws UserNotFound for a missing (or deleted) user, UserErased for an erased one.
   */
  abstract modify<T>(
    id: string,
    context: AuditContext,
    change: (user: User) => T | Promise<T>,
    options?: { withDeleted?: boolean },
  ): Promise<{ user: User; result: T }>;

  /**
   * modify() without the row lock, for changes of the row alone (none outside the database, such as avatar objects;
   * no erasure): reads the user, lets `change` act on it and saves it in one statement if its version is still the
   * one read; else reads it again (and after a few tries takes the lock). `change` may therefore run more than once.
   * The outcome is modify()'s: concurrent changes each apply to the other's result, If-Match sees the latest version.
   */
  abstract modifyRow<T>(
    id: string,
    context: AuditContext,
    change: (user: User) => T | Promise<T>,
    options?: { withDeleted?: boolean },
  ): Promise<{ user: User; result: T }>;

  /**
   * modify, once per idempotency key: the first call changes the user and stores `status` and the
   * result under the key in the same transaction; a repeat (even a concurrent one) returns the stored
   * result with the user as it is now (`replayed`) and changes nothing. Throws IdempotencyKeyReused for a
   * key used with another user or endpoint.
   */
  abstract modifyOnce<T>(
    id: string,
    context: AuditContext,
    idempotency: { key: string; endpoint: string; status: number },
    change: (user: User) => T | Promise<T>,
  ): Promise<{ user: User; result: T; replayed: boolean }>;

  /**
   * Consumed usage events, each applied once, in one transaction: claims their ids in the inbox
   * (processed_events), locks the live users the new ones name (in id order), lets `record` apply them,
   * saves the changed users' stats, quota and version in one statement with their events, runs
   * `beforeCommit` and commits. A redelivered event, or a second copy within `events`, is not passed to
   * `record` but returned among `duplicates`. A user `record` finds no entry for is missing or deleted: the claims of
   * its events are dropped again, so that the same events replayed once the user exists are applied.
   * Each changed user gets one audit entry, by `event:<topic>`. New events of users found settle the quota
   * reservations they name (`settles`) in the same transaction, so that a reserved amount turns into a used one
   * without ever counting twice or not at all.
   */
  abstract recordUsageOnce<E extends UsageEventRef, T>(
    events: E[],
    record: (fresh: E[], users: ReadonlyMap<string, UsageRecorder>) => T,
    beforeCommit: (result: T) => Promise<void>,
  ): Promise<{ result: T; duplicates: E[] }>;

  /**
   * Reserves quota for a live user, under the user's row lock (so concurrent reservations, and consumed events, run
   * one after another): deletes the user's expired reservations, refuses a reference that a live reservation holds
   * (ReservationExists), lets `check` decide against the user and what is reserved now (it throws QuotaExceeded to
   * refuse), and inserts the reservation. With `idempotency`, once per key, as modifyOnce: a repeat answers the stored
   * receipt (`replayed`). The user's row and version do not change.
   */
  abstract reserveQuota(
    id: string,
    request: ReservationRequest,
    idempotency: { key: string; endpoint: string } | null,
    check: (user: User, reserved: Reserved) => void,
  ): Promise<{ receipt: ReservationReceipt; replayed: boolean }>;

  /** Deletes a reservation of the user (live or soft-deleted) under its row lock; false when there was no live one. */
  abstract releaseReservation(id: string, reservationId: string): Promise<boolean>;

  /** What the user's live reservations hold, read on the primary. */
  abstract reservedFor(id: string): Promise<Reserved>;

  /**
   * Runs `fn` under the same row lock as modify() (deleted users included; no row: nothing to lock), with the
   * storage keys of the avatar the row holds now. Avatar objects are written and deleted only under this lock
   * or modify()'s, so a delete can check that no one has just made the objects current again.
   */
  abstract withAvatarLock<T>(id: string, fn: (currentKeys: readonly string[]) => Promise<T>): Promise<T>;

  /**
   * The jobs' batch: in one transaction, locks up to `limit` users that are `due` (FOR UPDATE SKIP LOCKED, so that
   * instances running the same job at once take different users and none changes a user twice), lets `change` act on
   * each and saves those it changed. Returns the users it changed.
   */
  abstract modifyDue(due: DueUsers, limit: number, context: AuditContext, change: (user: User) => Promise<void> | void): Promise<User[]>;

  /**
   * Deletes up to `limit` outbox rows of erased users other than their user.erased: those already published, and
   * with `unpublished` the others too (when nothing will ever publish them). Returns how many went.
   */
  abstract scrubErasedEvents(limit: number, unpublished: boolean): Promise<number>;
}

/** Users a job acts on: suspensions whose `until` has passed, deleted users (not under a legal hold) past the grace window. */
export type DueUsers = { kind: 'suspension_ended'; at: Date } | { kind: 'grace_ended'; deletedBefore: Date };

/** What recordUsageOnce needs of a consumed event; `eventType` is also the topic it came from. */
export interface UsageEventRef {
  eventId: string;
  eventType: string;
  userId: string;
  /** The trace id the producer sent (W3C traceparent), for the audit entry. */
  traceId?: string | null;
  /** The quota reservation this event settles, when applied: its amount now counts as used. */
  settles?: { resource: QuotaResource; reference: string } | null;
}

/** The part of a user that consumed events change: recordUsageOnce saves only usage. */
export type UsageRecorder = Pick<
  User,
  'recordInterviewCreated' | 'recordInterviewClosed' | 'recordCandidateAdded' | 'recordStorageAdded' | 'recordStorageRemoved'
>;

/** Reads for queries: no aggregate, no lock, no transaction. */
/** How a user is looked up: by id, Keycloak id or (normalised) email. */
export type UserKey = { id: string } | { keycloakId: string } | { email: string };

export abstract class UserReader {
  /** A live user (active or suspended). */
  abstract findById(id: string): Promise<UserState | null>;
  abstract findByKeycloakId(keycloakId: string): Promise<UserState | null>;
  /** A live user by (normalised) email. */
  abstract findByEmail(email: string): Promise<UserState | null>;
  /** The response view of a live user by id, Keycloak id or email, read straight from the row (the hot path). */
  abstract findView(key: UserKey): Promise<UserView | null>;

  /**
   * One page of the directory: up to `limit` users matching `filters`, in `sort` order, after `after` (keyset).
   * `more` says whether another page follows. Sorted on a field that changes (fullName, updatedAt), a page also
   * carries the database snapshot it was read in: later pages given it return only users unchanged since.
   */
  abstract findPage(page: DirectoryPageRequest): Promise<DirectoryPage>;

  /** How many users match: counted exactly up to `exactUpTo`, above that (or when counting would be slow) the planner's estimate. */
  abstract countMatching(filters: DirectoryFilters, exactUpTo: number): Promise<{ count: number; exact: boolean }>;

  /** The secret that signs directory cursors, the same for every instance (the migration created it). */
  abstract cursorKey(): Promise<Buffer>;
  /** A live or soft-deleted user (not an erased one). */
  abstract findWithDeleted(id: string): Promise<UserState | null>;
  /** The status of any user, erased and deleted ones too; null when there never was one. */
  abstract statusOf(id: string): Promise<UserStatus | null>;
  /** Bytes stored by all live users (a metrics gauge: one scan per scrape instead of a series per user). */
  abstract totalStorageUsed(): Promise<bigint>;
  /** How many users are in each status (a metrics gauge, read at scrape time). */
  abstract countByStatus(): Promise<Record<UserStatus, number>>;
  /** What the user's live quota reservations hold. */
  abstract reservedFor(id: string): Promise<Reserved>;
}

export type DirectorySort = 'createdAt' | '-createdAt' | 'fullName' | '-fullName' | 'updatedAt' | '-updatedAt';
export const DIRECTORY_SORTS: readonly DirectorySort[] = ['-createdAt', 'createdAt', 'fullName', '-fullName', 'updatedAt', '-updatedAt'];
/** A row's place in these sorts can move while someone pages (see findPage). */
export const MOVING_SORTS: readonly DirectorySort[] = ['fullName', '-fullName', 'updatedAt', '-updatedAt'];

/** The directory's filters, combined with AND; values are normalised (emails lower-cased, dates parsed). */
/** The statuses the directory lists (erased users hold nothing to list). */
export type DirectoryStatus = Exclude<UserStatus, 'erased'>;

export interface DirectoryFilters {
  status: DirectoryStatus;
  /** A fragment of the full name, email or company name (case and accents ignored). */
  q?: string;
  email?: string;
  ids?: string[];
  keycloakIds?: string[];
  /** Compared case-insensitively. */
  companyName?: string;
  language?: string;
  createdFrom?: Date;
  /** Inclusive. */
  createdTo?: Date;
  /** Exclusive (createdTo given as a date: the next day's midnight). */
  createdBefore?: Date;
  updatedSince?: Date;
}

/** Where a page ends: the last row's sort key (as text) and id, and the snapshot of the walk's first page. */
export interface DirectoryPosition {
  sortKey: string;
  id: string;
  snapshot?: DirectorySnapshot;
}

/** A PostgreSQL snapshot (`pg_current_snapshot()` as text) and the database's clock when it was taken. */
export interface DirectorySnapshot {
  xids: string;
  takenAt: string;
}

export interface DirectoryPageRequest {
  filters: DirectoryFilters;
  sort: DirectorySort;
  limit: number;
  after?: DirectoryPosition;
}

export interface DirectoryPage {
  users: UserState[];
  /** Where the last user is; null without users. */
  last: DirectoryPosition | null;
  more: boolean;
}
