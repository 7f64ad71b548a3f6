import { randomUUID } from 'node:crypto';
import { FieldError, ValidationFailed } from '../../common/domain-error';
import { checkText } from './text';
import { userEvent, UserEvent, UserEventType } from './user-events';
import { Preferences, PreferencesPatch } from './preferences';
import { Profile, ProfileInput, ProfilePatch } from './profile';
import { Quota } from './quota';
import { Stats } from './stats';

export type UserStatus = 'active' | 'deleted';

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
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
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

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const KEYCLOAK_ID = /^[\x21-\x7e]{1,255}$/;

/** Trim and lower-case, so that "Ann@X.io " and "ann@x.io" are one address. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class User {
  private state: UserState;
  private events: UserEvent[] = [];
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
      version: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    });
    user.dirty = true;
    user.record('user.created', { keycloakId, email, fullName: profile.fullName }, now);
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
  get isDeleted(): boolean {
    return this.state.deletedAt !== null;
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
    return this.changeProfile(this.state.profile.merge(patch), now);
  }

  replaceProfile(input: ProfileInput, now = new Date()): boolean {
    return this.changeProfile(this.state.profile.replace(input), now);
  }

  updatePreferences(patch: PreferencesPatch, now = new Date()): boolean {
    const next = this.state.preferences.merge(patch);
    const changes = this.state.preferences.changesTo(next);
    if (Object.keys(changes).length === 0) return false;
    this.apply({ preferences: next }, now, 'user.updated', { changes: { preferences: changes } });
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
    this.apply({ profile: this.state.profile.withAvatar(avatar.url), avatarKeys: [...avatar.keys] }, now, 'user.avatar_uploaded', {
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
    this.apply({ profile: this.state.profile.withAvatar(null), avatarKeys: [] }, now, 'user.updated', {
      changes: { avatarUrl: null },
    });
    return [...previous];
  }

  delete(now = new Date()): void {
    this.apply({ status: 'deleted', deletedAt: now }, now, 'user.deleted', {
      deletedAt: now.toISOString(),
      keycloakId: this.state.keycloakId,
    });
  }

  recordInterviewCreated(now = new Date()): boolean {
    return this.changeUsage({ stats: this.state.stats.interviewCreated() }, now);
  }

  /** An interview completed or deleted: one fewer active. */
  recordInterviewClosed(now = new Date()): boolean {
    return this.changeUsage({ stats: this.state.stats.interviewClosed() }, now);
  }

  recordCandidateAdded(now = new Date()): boolean {
    return this.changeUsage({ stats: this.state.stats.candidateAdded() }, now);
  }

  recordStorageAdded(bytes: bigint, now = new Date()): boolean {
    return this.changeUsage({ stats: this.state.stats.storageAdded(bytes) }, now);
  }

  recordStorageRemoved(bytes: bigint, now = new Date()): boolean {
    return this.changeUsage({ stats: this.state.stats.storageRemoved(bytes) }, now);
  }

  changeQuota(quota: Quota, now = new Date()): boolean {
    return this.changeUsage({ quota }, now);
  }

  /** Events recorded since the last call; the repository writes them to the outbox with the state. */
  pullEvents(): UserEvent[] {
    const events = this.events;
    this.events = [];
    this.dirty = false;
    return events;
  }

  /**
   * Stats and quota changes. Crossing 80% or 100% of a limit upwards records
   * user.quota_threshold_reached, once per crossing: it is recorded again only after usage fell below.
   */
  private changeUsage(next: { stats?: Stats; quota?: Quota }, now: Date): boolean {
    const stats = next.stats ?? this.state.stats;
    const quota = next.quota ?? this.state.quota;
    if (sameUsage(stats, this.state.stats) && sameQuota(quota, this.state.quota)) return false;
    const before = usageRatios(this.state.stats, this.state.quota);
    const after = usageRatios(stats, quota);
    this.apply({ stats, quota }, now);
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

  private changeProfile(next: Profile, now: Date): boolean {
    const changes = this.state.profile.changesTo(next);
    if (Object.keys(changes).length === 0) return false;
    this.apply({ profile: next }, now, 'user.updated', { changes });
    return true;
  }

  /** One command is one version: several changes before a save bump the version once. */
  private apply(change: Partial<UserState>, now: Date, eventType?: UserEventType, data?: Record<string, unknown>): void {
    this.state = {
      ...this.state,
      ...change,
      updatedAt: now,
      version: this.dirty ? this.state.version : this.state.version + 1,
    };
    this.dirty = true;
    if (eventType) this.record(eventType, data ?? {}, now);
  }

  private record(eventType: UserEventType, data: Record<string, unknown>, now: Date): void {
    this.events.push(userEvent(eventType, this.state.id, data, now));
  }
}

export const QUOTA_THRESHOLDS = [80, 100];

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
