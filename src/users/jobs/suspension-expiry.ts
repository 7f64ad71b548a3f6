import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/config';
import { UserRepository } from '../persistence/user.repository';

const CONTEXT = { actor: 'system:suspension-expiry', traceId: null };

/**
 * Ends suspensions whose `until` has passed (user.reactivated with `expired: true`), a batch per transaction.
 * Every instance runs it: SKIP LOCKED gives racing instances different users, and a user reactivated by one is no
 * longer due for the other, so none is reactivated (or published) twice.
 */
@Injectable()
export class SuspensionExpiry {
  constructor(
    private readonly users: UserRepository,
    private readonly config: AppConfig,
  ) {}

  /** Returns how many suspensions ended. */
  async run(now = new Date()): Promise<number> {
    const batch = this.config.lifecycle.jobBatchSize;
    let ended = 0;
    for (;;) {
      const changed = await this.users.modifyDue({ kind: 'suspension_ended', at: now }, batch, CONTEXT, (user) => {
        user.expireSuspension(now);
      });
      ended += changed.length;
      if (changed.length < batch) return ended;
    }
  }
}
