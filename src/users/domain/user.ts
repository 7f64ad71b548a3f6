import { randomUUID } from 'node:crypto';
import { FieldError, ValidationFailed } from '../../common/domain-error';
import { AuditAction, AuditRecord, fieldChanges, mergeChanges } from './audit';
import { assertTransition, GracePeriodExpired, LegalHold, LegalHoldActive, Suspension, UserStatus } from './lifecycle';
import { checkText } from './text';
import { userEvent, UserEvent, UserEventType } from './user-events';
import { Preferences, PreferencesPatch } from './preferences';
import { Profile, ProfileInput, ProfilePatch } from './profile';
import { Quota } from './quota';
import { Stats } from './stats';

export type { UserStatus } from './lifecycle';

export interface UserState {
  id: string;
  keycloakId: string;
  email: string;
  status: UserStatus;
  profile: Profile;
  stats: Stats;
  quota: Quota;
  preferences: Preferences;
  /** Storage keys of every object of the current avatar (empty without one): what to delete when it goes. */
  avatarKeys: readonly string[];
  /** Set while suspended, and kept through a deletion (a restored user comes back suspended). */
  suspension: Suspension | null;
  legalHold: LegalHold | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  erasedAt: Date | null;
}

export interface NewUser {
  keycloakId: string;
  email: string;
  profile: ProfileInput;
}

export interface AvatarVariantRef {
  /** the nominal slot (64, 128, 256, 512); width and height are the real pixels (never upscaled) */
  size: number;
  url: string;
  width: number;
  height: number;
}

export interface NewAvatar {
  /** URL of the canonical variant (what profile.avatarUrl shows) */
  url: string;
  keys: string[];
  /** bytes of the uploaded file */
  fileSize: number;
  variants: AvatarVariantRef[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const KEYCLOAK_ID = /^[\x21-\x7e]{1,255}$/;

/** Trim and lower-case, so that "Ann@X.io " and "ann@x.io" are one address. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class User {
  private state: UserState;
  private events: UserEvent[] = [];
  private auditRecords: AuditRecord[] = [];
  private dirty = false;

  private constructor(state: UserState) {
    this.state = state;
  }

  static create(input: NewUser, now = new Date()): User {
    const errors: FieldError[] = [];
    const keycloakId = input.keycloakId.trim();
    if (!KEYCLOAK_ID.test(keycloakId)) {
      errors.push({ field: 'keycloakId', message: 'must be 1 to 255 printable characters without spaces' });
    }
    const email = normaliseEmail(checkText('email', input.email, { max: 254 }, errors));
    if (!EMAIL.test(email)) errors.push({ field: 'email', message: 'must be an email address' });
    let profile: Profile | undefined;
    try {
      profile = Profile.create(input.profile);
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      errors.push(...(error.details ?? []));
    }
    if (errors.length > 0 || !profile) throw new ValidationFailed(errors);

    const user = new User({
      id: randomUUID(),
      keycloakId,
      email,
      status: 'active',
      profile,
      stats: Stats.empty(),
      quota: Quota.default(),
      preferences: Preferences.defaults(),
      avatarKeys: [],
      suspension: null,
      legalHold: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      erasedAt: null,
    });
    user.dirty = true;
    user.record('user.created', { keycloakId, email, fullName: profile.fullName }, now);
    user.auditRecords.push({ action: 'created', at: now, changes: fieldChanges(null, user.state) });
    return user;
  }

  static restore(state: UserState): User {
    return new User(state);
  }

  get id(): string {
    return this.state.id;
  }
  get keycloakId(): string {
    return this.state.keycloakId;
  }
  get version(): number {
    return this.state.version;
  }
  get status(): UserStatus {
    return this.state.status;
  }
  get isDeleted(): boolean {
    return this.state.deletedAt !== null;
  }
  get suspension(): Suspension | null {
    return this.state.suspension;
  }
  get legalHold(): LegalHold | null {
    return this.state.legalHold;
  }
  get profile(): Profile {
    return this.state.profile;
  }
  get stats(): Stats {
    return this.state.stats;
  }
  get quota(): Quota {
    return this.state.quota;
  }
  get preferences(): Preferences {
    return this.state.preferences;
  }
  get avatarKeys(): readonly string[] {
    return this.state.avatarKeys;
  }

  /** Whether there is state to save (stats changes bump the version but publish no event). */
  get changed(): boolean {
    return this.dirty;
  }

  snapshot(): Readonly<UserState> {
    return { ...this.state };
  }

  /** Merge semantics: absent fields stay, `null` clears an optional field. Returns whether anything changed. */
  updateProfile(patch: ProfilePatch, now = new Date()): boolean {
    return this.changeProfile(this.state.profile.merge(patch), now, 'profile.updated');
  }

  replaceProfile(input: ProfileInput, now = new Date()): boolean {
    return this.changeProfile(this.state.profile.replace(input), now, 'profile.replaced');
  }

  updatePreferences(patch: PreferencesPatch, now = new Date()): boolean {
    const next = this.state.preferences.merge(patch);
    const changes = this.state.preferences.changesTo(next);
    if (Object.keys(changes).length === 0) return false;
    this.apply('preferences.updated', { preferences: next }, now, 'user.updated', { changes: { preferences: changes } });
    return true;
  }

  /**
   * Makes `avatar` the current one (user.avatar_uploaded). Returns the keys of the replaced avatar's objects that
   * the new one does not reuse: the caller deletes them once this change is committed. The same avatar again
   * (same content, so the same keys) changes nothing.
   */
  replaceAvatar(avatar: NewAvatar, now = new Date()): string[] {
    const previous = this.state.avatarKeys;
    if (this.state.profile.avatarUrl === avatar.url && sameKeys(previous, avatar.keys)) return [];
    const change = { profile: this.state.profile.withAvatar(avatar.url), avatarKeys: [...avatar.keys] };
    this.apply('avatar.replaced', change, now, 'user.avatar_uploaded', {
      avatarUrl: avatar.url,
      fileSize: avatar.fileSize,
      variants: avatar.variants,
    });
    return previous.filter((key) => !avatar.keys.includes(key));
  }

  /** Clears the avatar (user.updated with `avatarUrl: null`); returns the keys of its objects. */
  removeAvatar(now = new Date()): string[] {
    const previous = this.state.avatarKeys;
    if (this.state.profile.avatarUrl === null && previous.length === 0) return [];
    this.apply('avatar.removed', { profile: this.state.profile.withAvatar(null), avatarKeys: [] }, now, 'user.updated', {
      changes: { avatarUrl: null },
    });
    return [...previous];
  }

  /** Soft delete; a suspended user may be deleted too (the suspension stays with the record). */
  delete(now = new Date()): void {
    assertTransition('delete', this.state.status);
    this.apply('deleted', { status: 'deleted', deletedAt: now }, now, 'user.deleted', {
      deletedAt: now.toISOString(),
      keycloakId: this.state.keycloakId,
    });
  }

  /** `until` null: until an admin reactivates the user. */
  suspend(reason: string, until: Date | null, now = new Date()): void {
    const errors: FieldError[] = [];
    const text = checkReason(reason, errors);
    if (until !== null && !(until.getTime() > now.getTime())) errors.push({ field: 'until', message: 'must be a time in the future' });
    if (errors.length > 0) throw new ValidationFailed(errors);
    assertTransition('suspend', this.state.status);
    this.apply('suspended', { status: 'suspended', suspension: { reason: text, since: now, until } }, now, 'user.suspended', {
      reason: text,
      until: until?.toISOString() ?? null,
    });
  }

  reactivate(now = new Date()): void {
    assertTransition('reactivate', this.state.status);
    this.endSuspension(false, now);
  }

  /** Ends a suspension whose `until` has passed (user.reactivated with `expired: true`); false when none is due. */
  expireSuspension(now = new Date()): boolean {
    const until = this.state.suspension?.until;
    if (this.state.status !== 'suspended' || !until || until.getTime() > now.getTime()) return false;
    this.endSuspension(true, now);
    return true;
  }

  /** Back under the same id within `graceDays` of the deletion, suspended again if it was. */
  restore(graceDays: number, now = new Date()): void {
    assertTransition('restore', this.state.status);
    if (now.getTime() - this.state.deletedAt!.getTime() > graceDays * DAY_MS) throw new GracePeriodExpired(graceDays);
    const status = this.state.suspension ? 'suspended' : 'active';
    this.apply('restored', { status, deletedAt: null }, now, 'user.restored', { keycloakId: this.state.keycloakId, status });
  }

  /**
   * Deletes the user first if needed, then forgets every personal datum: the state keeps the id, status, times,
   * stats and quota. user.erased carries the id alone. The audit trail keeps one entry: the erasure.
   */
  erase(now = new Date()): void {
    if (this.state.legalHold) throw new LegalHoldActive();
    if (this.state.status === 'active' || this.state.status === 'suspended') this.delete(now);
    assertTransition('erase', this.state.status);
    this.apply(
      'erased',
      {
        status: 'erased',
        erasedAt: now,
        keycloakId: '',
        email: '',
        profile: Profile.restore({ fullName: '', companyName: null, phone: null, bio: null }, null),
        preferences: Preferences.defaults(),
        avatarKeys: [],
        suspension: null,
      },
      now,
      'user.erased',
      { userId: this.state.id },
    );
    this.auditRecords = [{ action: 'erased', at: now, changes: [] }];
  }

  /** A hold the purge and erase respect; placing it again with the same reason changes nothing. */
  placeLegalHold(reason: string, now = new Date()): boolean {
    const errors: FieldError[] = [];
    const text = checkReason(reason, errors);
    if (errors.length > 0) throw new ValidationFailed(errors);
    assertTransition('hold', this.state.status);
    if (this.state.legalHold?.reason === text) return false;
    this.apply('legal_hold.placed', { legalHold: { reason: text, since: this.state.legalHold?.since ?? now } }, now);
    return true;
  }

  releaseLegalHold(now = new Date()): boolean {
    assertTransition('hold', this.state.status);
    if (!this.state.legalHold) return false;
    this.apply('legal_hold.released', { legalHold: null }, now);
    return true;
  }

  recordInterviewCreated(now = new Date()): boolean {
    return this.changeUsage('usage.recorded', { stats: this.state.stats.interviewCreated() }, now);
  }

  /** An interview completed or deleted: one fewer active. */
  recordInterviewClosed(now = new Date()): boolean {
    return this.changeUsage('usage.recorded', { stats: this.state.stats.interviewClosed() }, now);
  }

  recordCandidateAdded(now = new Date()): boolean {
    return this.changeUsage('usage.recorded', { stats: this.state.stats.candidateAdded() }, now);
  }

  recordStorageAdded(bytes: bigint, now = new Date()): boolean {
    return this.changeUsage('usage.recorded', { stats: this.state.stats.storageAdded(bytes) }, now);
  }

  recordStorageRemoved(bytes: bigint, now = new Date()): boolean {
    return this.changeUsage('usage.recorded', { stats: this.state.stats.storageRemoved(bytes) }, now);
  }

  changeQuota(quota: Quota, now = new Date()): boolean {
    return this.changeUsage('quota.changed', { quota }, now);
  }

  /** Events recorded since the last call; the repository writes them to the outbox with the state. */
  pullEvents(): UserEvent[] {
    const events = this.events;
    this.events = [];
    this.dirty = false;
    return events;
  }

  /** Audit entries recorded since the last call; the repository writes them with the state (call before pullEvents). */
  pullAudit(): AuditRecord[] {
    const records = this.auditRecords;
    this.auditRecords = [];
    return records;
  }

  /**
   * Stats and quota changes. Crossing 80% or 100% of a limit upwards records
   * user.quota_threshold_reached, once per crossing: it is recorded again only after usage fell below.
   */
  private changeUsage(action: AuditAction, next: { stats?: Stats; quota?: Quota }, now: Date): boolean {
    const stats = next.stats ?? this.state.stats;
    const quota = next.quota ?? this.state.quota;
    if (sameUsage(stats, this.state.stats) && sameQuota(quota, this.state.quota)) return false;
    const before = usageRatios(this.state.stats, this.state.quota);
    const after = usageRatios(stats, quota);
    this.apply(action, { stats, quota }, now);
    for (const resource of ['interviews', 'storage'] as const) {
      for (const threshold of QUOTA_THRESHOLDS) {
        if (before[resource] < threshold / 100 && after[resource] >= threshold / 100) {
          const usage = resource === 'interviews' ? quota.interviews(stats) : quota.storage(stats);
          this.record('user.quota_threshold_reached', { resource, threshold, used: usage.used, limit: usage.limit }, now);
        }
      }
    }
    return true;
  }

  private changeProfile(next: Profile, now: Date, action: AuditAction): boolean {
    const changes = this.state.profile.changesTo(next);
    if (Object.keys(changes).length === 0) return false;
    this.apply(action, { profile: next }, now, 'user.updated', { changes });
    return true;
  }

  private endSuspension(expired: boolean, now: Date): void {
    this.apply('reactivated', { status: 'active', suspension: null }, now, 'user.reactivated', { expired });
  }

  /**
   * One command is one version: several changes before a save bump the version once. Each change is audited;
   * consecutive changes of one action make one entry.
   */
  private apply(
    action: AuditAction,
    change: Partial<UserState>,
    now: Date,
    eventType?: UserEventType,
    data?: Record<string, unknown>,
  ): void {
    const before = this.state;
    this.state = { ...before, ...change, updatedAt: now, version: this.dirty ? before.version : before.version + 1 };
    this.dirty = true;
    const changes = fieldChanges(before, this.state);
    const last = this.auditRecords.at(-1);
    if (last?.action === action) last.changes = mergeChanges(last.changes, changes);
    else this.auditRecords.push({ action, at: now, changes });
    if (eventType) this.record(eventType, data ?? {}, now);
  }

  private record(eventType: UserEventType, data: Record<string, unknown>, now: Date): void {
    this.events.push(userEvent(eventType, this.state.id, data, now));
  }
}

export const QUOTA_THRESHOLDS = [80, 100];

/** Why a user is suspended or held: said by an admin, shown to them (and the reason for a suspension to the person). */
function checkReason(reason: string, errors: FieldError[]): string {
  return checkText('reason', typeof reason === 'string' ? reason : '', { min: 1, max: 500 }, errors);
}

/** Share of each limit in use; a zero limit counts as full. */
function usageRatios(stats: Stats, quota: Quota): { interviews: number; storage: number } {
  return {
    interviews: quota.maxInterviews === 0 ? 1 : stats.interviewsActive / quota.maxInterviews,
    storage: quota.maxStorage === 0n ? 1 : Number(stats.storageUsed) / Number(quota.maxStorage),
  };
}

function sameUsage(a: Stats, b: Stats): boolean {
  return (
    a.interviewsCreated === b.interviewsCreated &&
    a.interviewsActive === b.interviewsActive &&
    a.candidatesTotal === b.candidatesTotal &&
    a.storageUsed === b.storageUsed
  );
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key) => b.includes(key));
}

function sameQuota(a: Quota, b: Quota): boolean {
  return a.maxInterviews === b.maxInterviews && a.maxStorage === b.maxStorage;
}
