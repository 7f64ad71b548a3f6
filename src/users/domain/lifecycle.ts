import { DomainError } from '../../common/domain-error';

/**
 * active ⇄ suspended; active or suspended → deleted (soft) → restored (within the grace window) or erased.
 * A legal hold may be placed or released in any state but `erased`, and blocks erasure. An erased user keeps only its
 * id, status, times and counters; nothing leads out of `erased`.
 */
export type UserStatus = 'active' | 'suspended' | 'deleted' | 'erased';

/** `hold`: placing or releasing a legal hold. */
export type Transition = 'suspend' | 'reactivate' | 'delete' | 'restore' | 'erase' | 'hold';

/** The states each transition may start from. */
const FROM: Record<Transition, readonly UserStatus[]> = {
  suspend: ['active'],
  reactivate: ['suspended'],
  delete: ['active', 'suspended'],
  restore: ['deleted'],
  erase: ['deleted'],
  hold: ['active', 'suspended', 'deleted'],
};

export function assertTransition(transition: Transition, status: UserStatus): void {
  if (!FROM[transition].includes(status)) throw new InvalidStateTransition(transition, status);
}

export interface Suspension {
  reason: string;
  since: Date;
  /** When it ends by itself; null: until an admin reactivates the user. */
  until: Date | null;
}

export interface LegalHold {
  reason: string;
  since: Date;
}

export class InvalidStateTransition extends DomainError {
  constructor(transition: Transition, status: UserStatus) {
    super('INVALID_STATE_TRANSITION', `Cannot ${transition === 'hold' ? 'change the legal hold of' : transition} a user who is ${status}`);
  }
}

export class LegalHoldActive extends DomainError {
  constructor() {
    super('LEGAL_HOLD', 'The user is under a legal hold and cannot be erased; release the hold first');
  }
}

export class GracePeriodExpired extends DomainError {
  constructor(graceDays: number) {
    super('GRACE_PERIOD_EXPIRED', `The user was deleted more than ${graceDays} days ago and can no longer be restored`);
  }
}
