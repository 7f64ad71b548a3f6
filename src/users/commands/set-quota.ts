import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { Quota } from '../domain/quota';
import { UserRepository } from '../persistence/user.repository';
import { QuotaView, toQuotaView } from '../user.view';
import { modifyUser } from './modify-user';

/** Billing changes a user's plan. Lowering a limit below usage records the threshold events at once. */
export class SetQuota extends Command<Versioned<QuotaView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly limits: { maxInterviews: number; maxStorage: number },
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

@CommandHandler(SetQuota)
export class SetQuotaHandler implements ICommandHandler<SetQuota> {
  constructor(private readonly users: UserRepository) {}

  async execute({ actor, audit, userId, limits, ifMatch }: SetQuota): Promise<Versioned<QuotaView>> {
    const quota = Quota.create({ maxInterviews: limits.maxInterviews, maxStorage: BigInt(limits.maxStorage) });
    const { user } = await modifyUser(this.users, actor, audit, userId, ifMatch, (user) => user.changeQuota(quota));
    return { view: toQuotaView(user.snapshot(), await this.users.reservedFor(userId)), version: user.version };
  }
}
