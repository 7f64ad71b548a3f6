import { FieldError, ValidationFailed } from '../../common/domain-error';

export interface NotificationSettings {
  email: boolean;
  productNews: boolean;
  interviewReminders: boolean;
}

export interface PreferencesFields {
  /** BCP 47 language tag, canonicalised ("en-us" becomes "en-US"). */
  language: string;
  /** IANA time zone name. */
  timezone: string;
  notifications: NotificationSettings;
}

export type PreferencesPatch = Partial<Omit<PreferencesFields, 'notifications'>> & {
  notifications?: Partial<NotificationSettings>;
};

const NOTIFICATION_KEYS: (keyof NotificationSettings)[] = ['email', 'productNews', 'interviewReminders'];

export class Preferences implements PreferencesFields {
  readonly language: string;
  readonly timezone: string;
  readonly notifications: NotificationSettings;

  private constructor(fields: PreferencesFields) {
    this.language = fields.language;
    this.timezone = fields.timezone;
    this.notifications = Object.freeze({ ...fields.notifications });
    Object.freeze(this);
  }

  private static readonly DEFAULTS = new Preferences({
    language: 'en',
    timezone: 'UTC',
    notifications: { email: true, productNews: false, interviewReminders: true },
  });

  static defaults(): Preferences {
    return Preferences.DEFAULTS;
  }

  /** Stored preferences are read leniently: keys missing from older rows take the defaults. */
  static restore(stored: Partial<PreferencesFields> | null): Preferences {
    const defaults = Preferences.DEFAULTS;
    return new Preferences({
      language: stored?.language ?? defaults.language,
      timezone: stored?.timezone ?? defaults.timezone,
      notifications: { ...defaults.notifications, ...stored?.notifications },
    });
  }

  merge(patch: PreferencesPatch): Preferences {
    const errors: FieldError[] = [];
    const next: PreferencesFields = {
      language: patch.language === undefined ? this.language : canonicalLanguage(patch.language, errors),
      timezone: patch.timezone === undefined ? this.timezone : checkTimezone(patch.timezone, errors),
      notifications: { ...this.notifications },
    };
    for (const [key, value] of Object.entries(patch.notifications ?? {})) {
      if (!NOTIFICATION_KEYS.includes(key as keyof NotificationSettings)) {
        errors.push({ field: `notifications.${key}`, message: 'is not a known notification setting' });
      } else if (typeof value !== 'boolean') {
        errors.push({ field: `notifications.${key}`, message: 'must be true or false' });
      } else {
        next.notifications[key as keyof NotificationSettings] = value;
      }
    }
    if (errors.length > 0) throw new ValidationFailed(errors);
    return new Preferences(next);
  }

  /** The settings that differ in `next`, shaped like a patch. */
  changesTo(next: Preferences): PreferencesPatch {
    const changes: PreferencesPatch = {};
    if (next.language !== this.language) changes.language = next.language;
    if (next.timezone !== this.timezone) changes.timezone = next.timezone;
    for (const key of NOTIFICATION_KEYS) {
      if (next.notifications[key] !== this.notifications[key]) {
        changes.notifications = { ...changes.notifications, [key]: next.notifications[key] };
      }
    }
    return changes;
  }

  toJSON(): PreferencesFields {
    return { language: this.language, timezone: this.timezone, notifications: { ...this.notifications } };
  }
}

export const LANGUAGE_TAG_RULE = 'must be a BCP 47 language tag such as "en" or "pt-BR"';

/** The canonical form of a BCP 47 tag ("pt-br" becomes "pt-BR"), or null if it is not one. */
export function canonicalLanguageTag(tag: unknown): string | null {
  try {
    if (typeof tag === 'string' && tag.length <= 35) return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    // RangeError: not a well-formed BCP 47 tag
  }
  return null;
}

function canonicalLanguage(tag: unknown, errors: FieldError[]): string {
  const canonical = canonicalLanguageTag(tag);
  if (canonical) return canonical;
  errors.push({ field: 'language', message: LANGUAGE_TAG_RULE });
  return '';
}

// IANA names only: offsets such as "+01:00" are valid for Intl but are not time zones.
const ZONE_NAME = /^[A-Za-z][A-Za-z_]*(\/[A-Za-z0-9_+-]+)*$/;

function checkTimezone(zone: unknown, errors: FieldError[]): string {
  if (typeof zone === 'string' && zone.length <= 64 && ZONE_NAME.test(zone)) {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    } catch {
      // RangeError: unknown time zone
    }
  }
  errors.push({ field: 'timezone', message: 'must be an IANA time zone such as "Europe/Berlin" or "UTC"' });
  return '';
}
