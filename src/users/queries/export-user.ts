import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor } from '../../common/token-verifier';
import { AvatarStorage } from '../../storage/avatar-storage';
import { UserState } from '../domain/user';
import { AuditEntry, AuditTrail } from '../persistence/audit-trail';
import { UserReader } from '../persistence/user.repository';
import { PreferencesView, QuotaView, StatsView, toQuotaView, toStatsView, toUserView, UserView } from '../user.view';
import { readAccessibleUser } from './get-user';

export interface StatusChange {
  at: string;
  status: string;
  action: string;
  actor: string;
  /** The suspension's reason, on a suspension. */
  reason?: string;
}

export interface AvatarExport {
  /** The canonical (256 px) variant, as profile.avatarUrl. */
  url: string;
  variants: Array<{ size: number; url: string; dataUrl?: string }>;
}

/** What the service keeps of a person, in one document (GDPR art. 15 access and art. 20 portability). */
export interface UserExport {
  exportedAt: string;
  user: Omit<UserView, 'profile' | 'preferences' | 'stats' | 'quota'>;
  profile: UserView['profile'];
  preferences: PreferencesView['preferences'];
  stats: StatsView;
  quota: QuotaView;
  statusHistory: StatusChange[];
  avatar: AvatarExport | null;
  auditTrail: AuditEntry[];
}

/**
 * The person themself (also while suspended), admins and services; `includeAvatar` adds the images as data URLs. The
 * person's own export leaves out legal hold entries, as their audit trail does.
 */
export class ExportUser extends Query<UserExport> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
    readonly includeAvatar: boolean,
  ) {
    super();
  }
}

@QueryHandler(ExportUser)
export class ExportUserHandler implements IQueryHandler<ExportUser> {
  constructor(
    private readonly reader: UserReader,
    private readonly trail: AuditTrail,
    private readonly storage: AvatarStorage,
  ) {}

  async execute({ actor, userId, includeAvatar }: ExportUser): Promise<UserExport> {
    const state = await readAccessibleUser(this.reader, actor, { id: userId });
    const person = actor.kind === 'user' && !actor.admin;
    const [auditTrail, avatar, reserved] = await Promise.all([
      this.trail.all(userId, !person),
      this.avatarOf(state, includeAvatar),
      this.reader.reservedFor(userId),
    ]);
    const { profile, preferences, stats, quota, ...user } = toUserView(state);
    return {
      exportedAt: new Date().toISOString(),
      user,
      profile,
      preferences,
      stats: toStatsView(state),
      quota: toQuotaView(state, reserved),
      statusHistory: statusHistory(auditTrail),
      avatar,
      auditTrail,
    };
  }

  private async avatarOf(state: UserState, includeBytes: boolean): Promise<AvatarExport | null> {
    const url = state.profile.avatarUrl;
    if (url === null) return null;
    const variants = await Promise.all(
      state.avatarKeys.map(async (key) => {
        const variant = { size: Number(/\/(\d+)\.\w+$/.exec(key)?.[1]), url: this.storage.publicUrl(key) };
        if (!includeBytes) return variant;
        const { body, contentType } = await this.storage.read(key);
        return { ...variant, dataUrl: `data:${contentType};base64,${body.toString('base64')}` };
      }),
    );
    return { url, variants: variants.sort((a, b) => a.size - b.size) };
  }
}

/** The changes of status the audit trail still holds (AUDIT_RETENTION_DAYS), oldest first. */
function statusHistory(trail: AuditEntry[]): StatusChange[] {
  return trail.flatMap(({ at, action, actor, changes }) => {
    const status = changes.find((c) => c.field === 'status');
    if (!status) return [];
    const reason = changes.find((c) => c.field === 'suspension.reason')?.new;
    return [{ at, status: String(status.new), action, actor, ...(typeof reason === 'string' ? { reason } : {}) }];
  });
}
