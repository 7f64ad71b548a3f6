import type { UserState } from './user';

/** What a change did to the user, as the audit trail keeps it: `profile.updated`, `suspended`, ... */
export type AuditAction =
  | 'created'
  | 'profile.updated'
  | 'profile.replaced'
  | 'preferences.updated'
  | 'avatar.replaced'
  | 'avatar.removed'
  | 'quota.changed'
  | 'usage.recorded'
  | 'suspended'
  | 'reactivated'
  | 'deleted'
  | 'restored'
  | 'erased'
  | 'legal_hold.placed'
  | 'legal_hold.released';

/** One changed field: old and new values for the others, the name alone for a personal field. */
export interface FieldChange {
  field: string;
  old?: unknown;
  new?: unknown;
}

/** An entry the aggregate records with each change; the repository adds who and which trace and writes it with the change. */
export interface AuditRecord {
  action: AuditAction;
  at: Date;
  changes: FieldChange[];
}

/** Who made a change and in which request (or batch): `user:<sub>`, `admin:<sub>`, `service`, `event:<topic>`, `system:<job>`. */
export interface AuditContext {
  actor: string;
  traceId: string | null;
}

/** Fields whose values never enter the audit log (GDPR): names, contact details, free text about the person, their picture. */
export const PERSONAL_FIELDS: ReadonlySet<string> = new Set([
  'keycloakId',
  'email',
  'profile.fullName',
  'profile.companyName',
  'profile.phone',
  'profile.bio',
  'profile.avatarUrl',
]);

type Flat = Record<string, string | number | boolean | null>;

/** The audited fields of a user, flat; dates as ISO strings and bigints as numbers (bounded by quotas well below 2^53). */
function flatten(s: UserState): Flat {
  const { profile, stats, quota, preferences, suspension, legalHold } = s;
  return {
    keycloakId: s.keycloakId,
    email: s.email,
    status: s.status,
    'profile.fullName': profile.fullName,
    'profile.companyName': profile.companyName,
    'profile.phone': profile.phone,
    'profile.bio': profile.bio,
    'profile.avatarUrl': profile.avatarUrl,
    'preferences.language': preferences.language,
    'preferences.timezone': preferences.timezone,
    'preferences.notifications.email': preferences.notifications.email,
    'preferences.notifications.productNews': preferences.notifications.productNews,
    'preferences.notifications.interviewReminders': preferences.notifications.interviewReminders,
    'stats.interviewsCreated': stats.interviewsCreated,
    'stats.interviewsActive': stats.interviewsActive,
    'stats.candidatesTotal': stats.candidatesTotal,
    'stats.storageUsed': Number(stats.storageUsed),
    'quota.maxInterviews': quota.maxInterviews,
    'quota.maxStorage': Number(quota.maxStorage),
    'suspension.reason': suspension?.reason ?? null,
    'suspension.until': suspension?.until?.toISOString() ?? null,
    'legalHold.reason': legalHold?.reason ?? null,
  };
}

/** The fields that differ from `before` to `after` (from nothing, for a new user: every field that has a value). */
export function fieldChanges(before: UserState | null, after: UserState): FieldChange[] {
  const old = before ? flatten(before) : null;
  const changes: FieldChange[] = [];
  for (const [field, value] of Object.entries(flatten(after))) {
    const previous = old ? old[field] : null;
    if (previous === value) continue;
    changes.push(PERSONAL_FIELDS.has(field) ? { field } : old ? { field, old: previous, new: value } : { field, new: value });
  }
  return changes;
}

/**
 * Folds a later change of the same action into an entry: first old value, last new value per field (a consumed
 * batch is one entry per user, not one per event). A field back where it started is dropped.
 */
export function mergeChanges(earlier: FieldChange[], later: FieldChange[]): FieldChange[] {
  const merged = earlier.map((change) => ({ ...change }));
  for (const change of later) {
    const existing = merged.find((c) => c.field === change.field);
    if (!existing) merged.push({ ...change });
    else if ('new' in change) existing.new = change.new;
  }
  return merged.filter((c) => !('old' in c) || c.old !== c.new);
}
