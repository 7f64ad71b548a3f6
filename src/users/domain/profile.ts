import { FieldError, ValidationFailed } from '../../common/domain-error';
import { checkOptionalText, checkText } from './text';

export interface ProfileFields {
  fullName: string;
  companyName: string | null;
  phone: string | null;
  bio: string | null;
}

export type ProfileInput = { fullName: string } & Partial<Omit<ProfileFields, 'fullName'>>;
/** Absent = unchanged, `null` = cleared (fullName cannot be cleared). */
export type ProfilePatch = Partial<{ [K in keyof ProfileFields]: ProfileFields[K] | null }>;

const PHONE = /^\+?[0-9 ()./-]{3,50}$/;
const EDITABLE: (keyof ProfileFields)[] = ['fullName', 'companyName', 'phone', 'bio'];

export class Profile implements ProfileFields {
  readonly fullName: string;
  readonly companyName: string | null;
  readonly phone: string | null;
  readonly bio: string | null;
  readonly avatarUrl: string | null;

  private constructor(fields: ProfileFields, avatarUrl: string | null) {
    Object.assign(this, fields);
    this.avatarUrl = avatarUrl;
    Object.freeze(this);
  }

  static create(input: ProfileInput, avatarUrl: string | null = null): Profile {
    const errors: FieldError[] = [];
    const fields: ProfileFields = {
      fullName: checkText('profile.fullName', String(input.fullName ?? ''), { min: 2, max: 100 }, errors),
      companyName: checkOptionalText('profile.companyName', input.companyName, { max: 100 }, errors),
      phone: checkOptionalText('profile.phone', input.phone, { max: 50 }, errors),
      bio: checkOptionalText('profile.bio', input.bio, { max: 2000, multiline: true }, errors),
    };
    if (fields.phone !== null && !PHONE.test(fields.phone)) {
      errors.push({ field: 'profile.phone', message: 'must be a phone number (digits, spaces, + ( ) . / -)' });
    }
    if (errors.length > 0) throw new ValidationFailed(errors);
    return new Profile(fields, avatarUrl);
  }

  /** Rebuilds a stored profile without re-validating it. */
  static restore(fields: ProfileFields, avatarUrl: string | null): Profile {
    return new Profile(fields, avatarUrl);
  }

  merge(patch: ProfilePatch): Profile {
    if (patch.fullName === null) throw ValidationFailed.field('profile.fullName', 'cannot be cleared');
    return Profile.create({ ...this.fields(), ...patch } as ProfileInput, this.avatarUrl);
  }

  /** Full replacement: fields left out are cleared. The avatar is managed on its own. */
  replace(input: ProfileInput): Profile {
    return Profile.create(input, this.avatarUrl);
  }

  withAvatar(avatarUrl: string | null): Profile {
    return new Profile(this.fields(), avatarUrl);
  }

  fields(): ProfileFields {
    return { fullName: this.fullName, companyName: this.companyName, phone: this.phone, bio: this.bio };
  }

  /** The editable fields whose value differs in `next`, with their new values. */
  changesTo(next: Profile): Partial<ProfileFields> {
    const changes: Record<string, string | null> = {};
    for (const key of EDITABLE) {
      if (this[key] !== next[key]) changes[key] = next[key];
    }
    return changes as Partial<ProfileFields>;
  }
}
