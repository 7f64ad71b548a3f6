import { isoTimestamp } from '../../common/iso-timestamp';
import { Preferences, PreferencesFields } from '../domain/preferences';
import { Profile } from '../domain/profile';
import { Quota } from '../domain/quota';
import { Stats } from '../domain/stats';
import { UserState, UserStatus } from '../domain/user';
import type { UserView } from '../user.view';
import { UserEntity } from './user.entity';

/** The select list that reads a users row as a UserRecord. */
export const USER_COLUMNS = `id, keycloak_id AS "keycloakId", email, status, full_name AS "fullName", company_name AS "companyName",
  phone, bio, avatar_url AS "avatarUrl", avatar_keys AS "avatarKeys",
  interviews_created AS "interviewsCreated",
  interviews_active AS "interviewsActive", candidates_total AS "candidatesTotal", storage_used AS "storageUsed",
  max_interviews AS "maxInterviews", max_storage AS "maxStorage", preferences, version,
  created_at AS "createdAt", updated_at AS "updatedAt", deleted_at AS "deletedAt", erased_at AS "erasedAt",
  suspension_reason AS "suspensionReason", suspended_at AS "suspendedAt", suspended_until AS "suspendedUntil",
  legal_hold_reason AS "legalHoldReason", legal_hold_at AS "legalHoldAt"`;

/** A users row with camelCase names, as USER_COLUMNS selects it (pg returns bigints as strings). Erased rows are never mapped. */
export type UserRecord = Omit<UserEntity, 'storageUsed' | 'maxStorage' | 'searchText'> & {
  storageUsed: bigint | string;
  maxStorage: bigint | string;
};

export function toState(row: UserRecord): UserState {
  return {
    id: row.id,
    keycloakId: row.keycloakId!,
    email: row.email!,
    status: row.status as UserStatus,
    profile: Profile.restore({ fullName: row.fullName!, companyName: row.companyName, phone: row.phone, bio: row.bio }, row.avatarUrl),
    stats: Stats.restore({
      interviewsCreated: row.interviewsCreated,
      interviewsActive: row.interviewsActive,
      candidatesTotal: row.candidatesTotal,
      storageUsed: BigInt(row.storageUsed),
    }),
    quota: Quota.restore({ maxInterviews: row.maxInterviews, maxStorage: BigInt(row.maxStorage) }),
    preferences: Preferences.restore(row.preferences as Partial<PreferencesFields>),
    avatarKeys: row.avatarKeys ?? [],
    suspension: row.suspendedAt ? { reason: row.suspensionReason!, since: row.suspendedAt, until: row.suspendedUntil } : null,
    legalHold: row.legalHoldAt ? { reason: row.legalHoldReason!, since: row.legalHoldAt } : null,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    deletedAt: row.deletedAt,
    erasedAt: row.erasedAt,
  };
}

/** USER_COLUMNS with the timestamps as PostgreSQL's text: toView only writes them out (isoTimestamp). */
export const VIEW_COLUMNS = USER_COLUMNS.replace(
  /\b(created_at|updated_at|deleted_at|erased_at|suspended_at|suspended_until|legal_hold_at) AS/g,
  '$1::text AS',
);
type Timestamp = 'createdAt' | 'updatedAt' | 'deletedAt' | 'erasedAt' | 'suspendedAt' | 'suspendedUntil' | 'legalHoldAt';
/** A users row as VIEW_COLUMNS selects it. */
export type ViewRecord = Omit<UserRecord, Timestamp> & { createdAt: string; updatedAt: string } & Record<
    Exclude<Timestamp, 'createdAt' | 'updatedAt'>,
    string | null
  >;

const DEFAULT_PREFERENCES = Preferences.defaults().toJSON();

/**
 * The response view of a live user straight from its row: what toUserView(toState(row)) gives, without building the
 * aggregate's value objects only to read them back (GET /users/:id, by Keycloak id and by email; issue 13).
 * user.mapper.spec.ts holds the two equal.
 */
export function toView(row: ViewRecord): UserView {
  const preferences = row.preferences as Partial<PreferencesFields> | null;
  return {
    id: row.id,
    keycloakId: row.keycloakId!,
    email: row.email!,
    status: row.status as UserStatus,
    suspension:
      row.status === 'suspended' && row.suspendedAt
        ? {
            reason: row.suspensionReason!,
            since: isoTimestamp(row.suspendedAt),
            until: row.suspendedUntil ? isoTimestamp(row.suspendedUntil) : null,
          }
        : null,
    profile: { fullName: row.fullName!, companyName: row.companyName, phone: row.phone, bio: row.bio, avatarUrl: row.avatarUrl },
    stats: {
      interviewsCreated: row.interviewsCreated,
      interviewsActive: row.interviewsActive,
      candidatesTotal: row.candidatesTotal,
      storageUsed: Number(row.storageUsed),
    },
    quota: { maxInterviews: row.maxInterviews, maxStorage: Number(row.maxStorage) },
    preferences: {
      language: preferences?.language ?? DEFAULT_PREFERENCES.language,
      timezone: preferences?.timezone ?? DEFAULT_PREFERENCES.timezone,
      notifications: { ...DEFAULT_PREFERENCES.notifications, ...preferences?.notifications },
    },
    version: row.version,
    createdAt: isoTimestamp(row.createdAt),
    updatedAt: isoTimestamp(row.updatedAt),
  };
}

/** The columns the repository writes, in the order of rowValues(). */
export const ROW_COLUMNS = [
  'id',
  'keycloak_id',
  'email',
  'status',
  'full_name',
  'company_name',
  'phone',
  'bio',
  'avatar_url',
  'avatar_keys',
  'interviews_created',
  'interviews_active',
  'candidates_total',
  'storage_used',
  'max_interviews',
  'max_storage',
  'preferences',
  'version',
  'created_at',
  'updated_at',
  'deleted_at',
  'erased_at',
  'suspension_reason',
  'suspended_at',
  'suspended_until',
  'legal_hold_reason',
  'legal_hold_at',
] as const;

/** A user's row as statement parameters: bigints as strings (exact), preferences as JSON; an erased user's personal columns null. */
export function rowValues(state: UserState): unknown[] {
  const { profile, stats, quota, suspension, legalHold } = state;
  const personal = <T>(value: T): T | null => (state.status === 'erased' ? null : value);
  return [
    state.id,
    personal(state.keycloakId),
    personal(state.email),
    state.status,
    personal(profile.fullName),
    profile.companyName,
    profile.phone,
    profile.bio,
    profile.avatarUrl,
    [...state.avatarKeys],
    stats.interviewsCreated,
    stats.interviewsActive,
    stats.candidatesTotal,
    stats.storageUsed.toString(),
    quota.maxInterviews,
    quota.maxStorage.toString(),
    JSON.stringify(state.preferences.toJSON()),
    state.version,
    state.createdAt,
    state.updatedAt,
    state.deletedAt,
    state.erasedAt,
    suspension?.reason ?? null,
    suspension?.since ?? null,
    suspension?.until ?? null,
    legalHold?.reason ?? null,
    legalHold?.since ?? null,
  ];
}
