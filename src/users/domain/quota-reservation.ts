import { DomainError, FieldError, ValidationFailed } from '../../common/domain-error';
import { Quota } from './quota';
import { Stats } from './stats';

export type QuotaResource = 'interviews' | 'storage';
export const QUOTA_RESOURCES: readonly QuotaResource[] = ['interviews', 'storage'];

export const DEFAULT_RESERVATION_TTL_SECONDS = 900;
/** A day: long enough for the largest upload, short enough that a forgotten reservation does not hold a slot for long. */
export const MAX_RESERVATION_TTL_SECONDS = 86_400;
const MAX_AMOUNT: Record<QuotaResource, bigint> = { interviews: 2n ** 31n - 1n, storage: BigInt(Number.MAX_SAFE_INTEGER) };

/** What live (unexpired) reservations hold of each resource. */
export interface Reserved {
  interviews: bigint;
  storage: bigint;
}
export const NOTHING_RESERVED: Reserved = Object.freeze({ interviews: 0n, storage: 0n });

/** A checked request: `reference` is what the consumed event that settles it carries (interviewId, fileId). */
export interface ReservationRequest {
  resource: QuotaResource;
  amount: bigint;
  reference: string;
  ttlSeconds: number;
}

export function reservationRequest(input: {
  resource: QuotaResource;
  amount: number;
  reference: string;
  ttlSeconds?: number;
}): ReservationRequest {
  const errors: FieldError[] = [];
  const max = MAX_AMOUNT[input.resource];
  if (!Number.isSafeInteger(input.amount) || input.amount < 1 || BigInt(input.amount) > max) {
    errors.push({ field: 'amount', message: `must be a whole number from 1 to ${max}` });
  }
  if (input.reference.length < 1 || input.reference.length > 255) {
    errors.push({ field: 'reference', message: 'must be 1 to 255 characters' });
  }
  const ttlSeconds = input.ttlSeconds ?? DEFAULT_RESERVATION_TTL_SECONDS;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_RESERVATION_TTL_SECONDS) {
    errors.push({ field: 'ttlSeconds', message: `must be a whole number from 1 to ${MAX_RESERVATION_TTL_SECONDS}` });
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
  return { resource: input.resource, amount: BigInt(input.amount), reference: input.reference, ttlSeconds };
}

/** How much of `resource` is used now: active interviews, stored bytes. */
export function usedOf(resource: QuotaResource, stats: Stats): bigint {
  return resource === 'interviews' ? BigInt(stats.interviewsActive) : stats.storageUsed;
}

export function limitOf(resource: QuotaResource, quota: Quota): bigint {
  return resource === 'interviews' ? BigInt(quota.maxInterviews) : quota.maxStorage;
}

/** What may still be reserved (or used): the limit less what is used and what is reserved, never below zero. */
export function remainingOf(resource: QuotaResource, stats: Stats, quota: Quota, reserved: Reserved): bigint {
  const left = limitOf(resource, quota) - usedOf(resource, stats) - reserved[resource];
  return left < 0n ? 0n : left;
}

/** Throws QuotaExceeded unless `request` fits in what remains. */
export function assertReservable(request: ReservationRequest, stats: Stats, quota: Quota, reserved: Reserved): void {
  const remaining = remainingOf(request.resource, stats, quota, reserved);
  if (request.amount <= remaining) return;
  throw new QuotaExceeded({
    resource: request.resource,
    requested: Number(request.amount),
    used: Number(usedOf(request.resource, stats)),
    reserved: Number(reserved[request.resource]),
    limit: Number(limitOf(request.resource, quota)),
    remaining: Number(remaining),
  });
}

/** What the error body of QUOTA_EXCEEDED carries. */
export interface QuotaShortfall {
  resource: QuotaResource;
  requested: number;
  used: number;
  reserved: number;
  limit: number;
  remaining: number;
}

export class QuotaExceeded extends DomainError {
  constructor(readonly quota: QuotaShortfall) {
    super(
      'QUOTA_EXCEEDED',
      `Reserving ${quota.requested} of ${quota.resource} would exceed the limit: ${quota.remaining} of ${quota.limit} remain ` +
        `(${quota.used} used, ${quota.reserved} reserved)`,
    );
    this.extra = { quota };
  }
}

export class ReservationExists extends DomainError {
  constructor(readonly reservationId: string) {
    super('RESERVATION_EXISTS', `A live reservation with this resource and reference exists: ${reservationId}`);
    this.extra = { reservationId };
  }
}

export class ReservationNotFound extends DomainError {
  constructor(id: string) {
    super('RESERVATION_NOT_FOUND', `No live reservation ${id} for this user (never made, or already settled, released or expired)`);
  }
}

/** The answer to a reservation, as stored for Idempotency-Key replays. */
export interface ReservationReceipt {
  reservationId: string;
  resource: QuotaResource;
  amount: number;
  reference: string;
  expiresAt: string;
  /** What remains of the resource after this reservation. */
  remaining: number;
}
