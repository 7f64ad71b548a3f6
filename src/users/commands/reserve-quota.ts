import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { assertReservable, QuotaResource, ReservationNotFound, ReservationReceipt, reservationRequest } from '../domain/quota-reservation';
import { UserRepository } from '../persistence/user.repository';

const ENDPOINT = 'POST /users/:id/quota/reservations';

/**
 * Internal: the Interview or Media service holds `amount` of a user's quota before it creates the interview or
 * stores the file, so that two of its requests cannot both pass the last free slot. The consumed event carrying
 * `reference` (interview.created's interviewId, media.uploaded's fileId) settles it; until then, or until it is
 * released or expires, it counts against the limit. With an idempotency key a retry answers the first receipt.
 */
export class ReserveQuota extends Command<{ receipt: ReservationReceipt; replayed: boolean }> {
  constructor(
    readonly userId: string,
    readonly body: { resource: QuotaResource; amount: number; reference: string; ttlSeconds?: number },
    readonly idempotencyKey: string | null,
  ) {
    super();
  }
}

@CommandHandler(ReserveQuota)
export class ReserveQuotaHandler implements ICommandHandler<ReserveQuota> {
  constructor(private readonly users: UserRepository) {}

  execute({ userId, body, idempotencyKey }: ReserveQuota): Promise<{ receipt: ReservationReceipt; replayed: boolean }> {
    const request = reservationRequest(body);
    return this.users.reserveQuota(userId, request, idempotencyKey ? { key: idempotencyKey, endpoint: ENDPOINT } : null, (user, reserved) =>
      assertReservable(request, user.stats, user.quota, reserved),
    );
  }
}

/** Internal: gives back a reservation that will not be used (the interview was not created, the upload failed). */
export class ReleaseReservation extends Command<void> {
  constructor(
    readonly userId: string,
    readonly reservationId: string,
  ) {
    super();
  }
}

@CommandHandler(ReleaseReservation)
export class ReleaseReservationHandler implements ICommandHandler<ReleaseReservation> {
  constructor(private readonly users: UserRepository) {}

  async execute({ userId, reservationId }: ReleaseReservation): Promise<void> {
    if (!(await this.users.releaseReservation(userId, reservationId))) throw new ReservationNotFound(reservationId);
  }
}
