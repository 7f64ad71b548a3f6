import { randomUUID } from 'node:crypto';
import { FieldError, ValidationFailed } from '../../common/domain-error';
import { checkText } from './text';
import { userEvent, UserEvent, UserEventType } from './events';
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

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const KEYCLOAK_ID = /^[\x21-\x7e]{1,255}$/;

/** Trim and lower-case, so that "Ann@X.io " and "ann@x.io" are one address. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class User {
  private state: UserState;
  private events: UserEvent[] = [];

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
      version: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    });
    user.events.push(userEvent('user.created', user.id, { keycloakId, email, fullName: profile.fullName }, now));
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

  delete(now = new Date()): void {
    this.apply({ status: 'deleted', deletedAt: now }, now, 'user.deleted', {
      deletedAt: now.toISOString(),
      keycloakId: this.state.keycloakId,
    });
  }

  /** Events recorded since the last call; the repository writes them to the outbox with the state. */
  pullEvents(): UserEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  private changeProfile(next: Profile, now: Date): boolean {
    const changes = this.state.profile.changesTo(next);
    if (Object.keys(changes).length === 0) return false;
    this.apply({ profile: next }, now, 'user.updated', { changes });
    return true;
  }

  /** One command is one version: several changes before a save bump the version once. */
  private apply(change: Partial<UserState>, now: Date, eventType: UserEventType, data: Record<string, unknown>): void {
    const firstChange = this.events.length === 0;
    this.state = {
      ...this.state,
      ...change,
      updatedAt: now,
      version: firstChange ? this.state.version + 1 : this.state.version,
    };
    this.events.push(userEvent(eventType, this.state.id, data, now));
  }
}
