import { Preferences, PreferencesFields } from '../domain/preferences';
import { Profile } from '../domain/profile';
import { Quota } from '../domain/quota';
import { Stats } from '../domain/stats';
import { UserState, UserStatus } from '../domain/user';
import { UserEntity } from './user.entity';

/** A users row with camelCase names, as the entity holds it or as UserReader selects it (bigints may be strings). */
export type UserRecord = Omit<UserEntity, 'storageUsed' | 'maxStorage'> & {
  storageUsed: bigint | string;
  maxStorage: bigint | string;
};

export function toState(row: UserRecord): UserState {
  return {
    id: row.id,
    keycloakId: row.keycloakId,
    email: row.email,
    status: row.status as UserStatus,
    profile: Profile.restore(
      { fullName: row.fullName, companyName: row.companyName, phone: row.phone, bio: row.bio },
      row.avatarUrl,
    ),
    stats: Stats.restore({
      interviewsCreated: row.interviewsCreated,
      interviewsActive: row.interviewsActive,
      candidatesTotal: row.candidatesTotal,
      storageUsed: BigInt(row.storageUsed),
    }),
    quota: Quota.restore({ maxInterviews: row.maxInterviews, maxStorage: BigInt(row.maxStorage) }),
    preferences: Preferences.restore(row.preferences as Partial<PreferencesFields>),
    avatarKeys: row.avatarKeys ?? [],
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    deletedAt: row.deletedAt,
  };
}

export function toEntity(state: UserState): UserEntity {
  const { profile, stats, quota } = state;
  return Object.assign(new UserEntity(), {
    id: state.id,
    keycloakId: state.keycloakId,
    email: state.email,
    status: state.status,
    fullName: profile.fullName,
    companyName: profile.companyName,
    phone: profile.phone,
    bio: profile.bio,
    avatarUrl: profile.avatarUrl,
    avatarKeys: [...state.avatarKeys],
    interviewsCreated: stats.interviewsCreated,
    interviewsActive: stats.interviewsActive,
    candidatesTotal: stats.candidatesTotal,
    storageUsed: stats.storageUsed,
    maxInterviews: quota.maxInterviews,
    maxStorage: quota.maxStorage,
    preferences: state.preferences.toJSON(),
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    deletedAt: state.deletedAt,
  });
}
