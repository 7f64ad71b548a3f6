import { FieldError, ValidationFailed } from '../../common/domain-error';
import { Stats } from './stats';

export interface QuotaFields {
  maxInterviews: number;
  /** Bytes. */
  maxStorage: bigint;
}

export const DEFAULT_MAX_INTERVIEWS = 10;
export const DEFAULT_MAX_STORAGE = 5n * 1024n ** 3n;

export interface QuotaUsage {
  used: number;
  limit: number;
  /** Held by live quota reservations (see quota-reservation.ts). */
  reserved: number;
  /** limit − used − reserved, never below zero: what may still be reserved or used. */
  remaining: number;
}

export class Quota implements QuotaFields {
  readonly maxInterviews: number;
  readonly maxStorage: bigint;

  private constructor(fields: QuotaFields) {
    Object.assign(this, fields);
    Object.freeze(this);
  }

  static default(): Quota {
    return new Quota({ maxInterviews: DEFAULT_MAX_INTERVIEWS, maxStorage: DEFAULT_MAX_STORAGE });
  }

  static create(fields: QuotaFields): Quota {
    const errors: FieldError[] = [];
    if (!Number.isSafeInteger(fields.maxInterviews) || fields.maxInterviews < 0 || fields.maxInterviews > 2 ** 31 - 1) {
      errors.push({ field: 'maxInterviews', message: 'must be a whole number from 0 to 2147483647' });
    }
    if (fields.maxStorage < 0n || fields.maxStorage > BigInt(Number.MAX_SAFE_INTEGER)) {
      errors.push({ field: 'maxStorage', message: `must be a whole number of bytes from 0 to ${Number.MAX_SAFE_INTEGER}` });
    }
    if (errors.length > 0) throw new ValidationFailed(errors);
    return new Quota(fields);
  }

  static restore(fields: QuotaFields): Quota {
    return new Quota(fields);
  }

  interviews(stats: Stats, reserved = 0n): QuotaUsage {
    return usage(stats.interviewsActive, this.maxInterviews, Number(reserved));
  }

  storage(stats: Stats, reserved = 0n): QuotaUsage {
    return usage(Number(stats.storageUsed), Number(this.maxStorage), Number(reserved));
  }

  exceeded(stats: Stats): boolean {
    return stats.interviewsActive >= this.maxInterviews || stats.storageUsed >= this.maxStorage;
  }
}

function usage(used: number, limit: number, reserved: number): QuotaUsage {
  return { used, limit, reserved, remaining: Math.max(0, limit - used - reserved) };
}
