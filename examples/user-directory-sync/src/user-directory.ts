import { EventMessage, parseUserEvent, UserEvent, UserServiceClient } from '@user-service/contracts';

export interface DirectoryEntry {
  id: string;
  email: string;
  fullName: string;
  companyName: string | null;
  avatarUrl: string | null;
  version: number;
}

/**
 * A local copy of the users' public records, kept in step with the user.* events. An event says that a user
 * changed; the full record comes from GET /api/v1/users/{id}, which also makes the order of events across
 * topics (and their redelivery) harmless: the newest version wins.
 */
export class UserDirectory {
  readonly entries = new Map<string, DirectoryEntry>();

  constructor(
    private readonly client: UserServiceClient,
    private readonly report: (line: object) => void,
  ) {}

  async handle(message: EventMessage): Promise<void> {
    const parsed = parseUserEvent(message);
    if (!parsed.ok) {
      // A real consumer would dead-letter it; here it is reported and skipped.
      this.report({ skipped: { key: message.key?.toString() ?? null, ...parsed.error } });
      return;
    }
    await this.apply(parsed.event);
  }

  private async apply(event: UserEvent): Promise<void> {
    switch (event.eventType) {
      case 'user.deleted':
        return this.remove(event.userId, `deleted at ${event.data.deletedAt}`);
      case 'user.quota_threshold_reached':
        this.report({ quota: { userId: event.userId, resource: event.data.resource, threshold: event.data.threshold } });
        return;
      default:
        // user.created, user.updated, user.avatar_uploaded, and whatever a later version of the service adds.
        return this.refresh(event.userId);
    }
  }

  private async refresh(id: string): Promise<void> {
    const { data, error, response } = await this.client.GET('/api/v1/users/{id}', { params: { path: { id } } });
    if (error) {
      if (error.code === 'USER_NOT_FOUND') return this.remove(id, 'not found');
      // Thrown, the message is not committed and comes again.
      throw new Error(`GET /api/v1/users/${id}: ${response.status} ${error.code}: ${error.message}`);
    }
    const known = this.entries.get(id);
    if (known && known.version >= data.version) return;
    const { fullName, companyName, avatarUrl } = data.profile;
    const entry = { id, email: data.email, fullName, companyName, avatarUrl, version: data.version };
    this.entries.set(id, entry);
    this.report({ synced: entry });
  }

  private remove(id: string, reason: string): void {
    this.entries.delete(id);
    this.report({ removed: id, reason });
  }
}
