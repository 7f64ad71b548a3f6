import { PreferencesFields } from './domain/preferences';
import { ProfileFields } from './domain/profile';
import { QuotaUsage } from './domain/quota';
import { Reserved } from './domain/quota-reservation';
import { formatBytes } from './domain/stats';
import { UserState, UserStatus } from './domain/user';

export interface UserView {
  id: string;
  keycloakId: string;
  email: string;
  status: UserStatus;
  /** Why and until when the user is suspended; null unless suspended. */
  suspension: { reason: string; since: string; until: string | null } | null;
  profile: ProfileFields & { avatarUrl: string | null };
  stats: { interviewsCreated: number; interviewsActive: number; candidatesTotal: number; storageUsed: number };
  quota: { maxInterviews: number; maxStorage: number };
  preferences: PreferencesFields;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface PreferencesView {
  preferences: PreferencesFields;
  version: number;
}

export function toPreferencesView(state: Pick<UserState, 'preferences' | 'version'>): PreferencesView {
  return { preferences: state.preferences.toJSON(), version: state.version };
}

/** Byte counts are bounded by quotas well below 2^53, so JSON numbers carry them exactly. */
export function toUserView(state: UserState): UserView {
  const { profile, stats, quota } = state;
  return {
    id: state.id,
    keycloakId: state.keycloakId,
    email: state.email,
    status: state.status,
    suspension:
      state.status === 'suspended' && state.suspension
        ? {
            reason: state.suspension.reason,
            since: state.suspension.since.toISOString(),
            until: state.suspension.until?.toISOString() ?? null,
          }
        : null,
    profile: { ...profile.fields(), avatarUrl: profile.avatarUrl },
    stats: {
      interviewsCreated: stats.interviewsCreated,
      interviewsActive: stats.interviewsActive,
      candidatesTotal: stats.candidatesTotal,
      storageUsed: Number(stats.storageUsed),
    },
    quota: { maxInterviews: quota.maxInterviews, maxStorage: Number(quota.maxStorage) },
    preferences: state.preferences.toJSON(),
    version: state.version,
    createdAt: state.createdAt.toISOString(),
    updatedAt: state.updatedAt.toISOString(),
  };
}

export interface StatsView {
  interviewsCreated: number;
  interviewsActive: number;
  candidatesTotal: number;
  storageUsed: number;
  /** "1.5 GB" (binary multiples). */
  storageUsedFormatted: string;
}

export interface QuotaView {
  interviews: QuotaUsage;
  storage: QuotaUsage & { usedFormatted: string; limitFormatted: string };
  exceeded: boolean;
}

export function toStatsView({ stats }: Pick<UserState, 'stats'>): StatsView {
  return {
    interviewsCreated: stats.interviewsCreated,
    interviewsActive: stats.interviewsActive,
    candidatesTotal: stats.candidatesTotal,
    storageUsed: Number(stats.storageUsed),
    storageUsedFormatted: formatBytes(stats.storageUsed),
  };
}

/** Interviews "used" means active ones: closing an interview frees its slot. `reserved`: live quota reservations. */
export function toQuotaView({ stats, quota }: Pick<UserState, 'stats' | 'quota'>, reserved: Reserved): QuotaView {
  return {
    interviews: quota.interviews(stats, reserved.interviews),
    storage: {
      ...quota.storage(stats, reserved.storage),
      usedFormatted: formatBytes(stats.storageUsed),
      limitFormatted: formatBytes(quota.maxStorage),
    },
    exceeded: quota.exceeded(stats),
  };
}

export interface LegalHoldView {
  legalHold: { reason: string; since: string } | null;
}

export function toLegalHoldView({ legalHold }: Pick<UserState, 'legalHold'>): LegalHoldView {
  return { legalHold: legalHold ? { reason: legalHold.reason, since: legalHold.since.toISOString() } : null };
}
