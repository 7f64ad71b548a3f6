import { Logger } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Versioned } from '../../common/etag';
import { Actor } from '../../common/token-verifier';
import { AuditContext } from '../domain/audit';
import { Metrics } from '../../observability/metrics';
import { AvatarProcessor } from '../../storage/avatar-processor';
import { AvatarObject, AvatarStorage } from '../../storage/avatar-storage';
import { AvatarVariantRef, NewAvatar } from '../domain/user';
import { UserRepository } from '../persistence/user.repository';
import { modifyUser } from './modify-user';

/** The variant that profile.avatarUrl points at. */
export const CANONICAL_AVATAR_SIZE = 256;

export interface AvatarView {
  avatarUrl: string;
  variants: AvatarVariantRef[];
  fileSize: number;
}

export class ReplaceAvatar extends Command<Versioned<AvatarView>> {
  constructor(
    readonly actor: Actor,
    readonly audit: AuditContext,
    readonly userId: string,
    readonly image: Buffer,
    readonly ifMatch: number[] | null,
  ) {
    super();
  }
}

/**
 * Image -> variants under content-hash keys -> stored -> made current -> the replaced avatar's objects deleted.
 *
 * Every write and delete of a user's avatar objects happens under that user's row lock, and a delete first checks
 * that the objects are not the current avatar's. Concurrent uploads for one user (even of the same picture, which
 * share keys) therefore end with the last committed avatar intact and every other object gone; a failed upload
 * removes what it wrote unless that is the current avatar.
 */
@CommandHandler(ReplaceAvatar)
export class ReplaceAvatarHandler implements ICommandHandler<ReplaceAvatar> {
  private readonly logger = new Logger('Avatars');

  constructor(
    private readonly users: UserRepository,
    private readonly storage: AvatarStorage,
    private readonly processor: AvatarProcessor,
    private readonly metrics: Metrics,
  ) {}

  async execute({ actor, audit, userId, image, ifMatch }: ReplaceAvatar): Promise<Versioned<AvatarView>> {
    const processed = await this.processor.process(image);
    const extension = processed.format === 'png' ? 'png' : 'jpg';
    const objects: AvatarObject[] = processed.variants.map((v) => ({
      key: `users/${userId}/${processed.hash}/${v.size}.${extension}`,
      body: v.body,
      contentType: v.contentType,
    }));
    const variants = processed.variants.map((v, i) => ({
      size: v.size,
      url: this.storage.publicUrl(objects[i].key),
      width: v.width,
      height: v.height,
    }));
    const avatar: NewAvatar = {
      url: variants.find((v) => v.size === CANONICAL_AVATAR_SIZE)!.url,
      keys: objects.map((o) => o.key),
      fileSize: image.length,
      variants,
    };

    let written = false;
    let replaced: string[] = [];
    let version: number;
    try {
      const { user, changed } = await modifyUser(this.users, actor, audit, userId, ifMatch, async (user) => {
        written = true;
        await this.storage.put(objects);
        replaced = user.replaceAvatar(avatar);
      });
      version = user.version;
      if (changed) this.metrics.avatarUploaded();
    } catch (error) {
      if (written) await this.removeUnused(userId, avatar.keys);
      throw error;
    }
    await this.removeUnused(userId, replaced);
    return { view: { avatarUrl: avatar.url, variants, fileSize: avatar.fileSize }, version };
  }

  /** Deletes those of `keys` the user's current avatar does not use. A failure leaves orphans and is only logged. */
  private async removeUnused(userId: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.users.withAvatarLock(userId, async (current) => {
        const unused = keys.filter((key) => !current.includes(key));
        if (unused.length > 0) await this.storage.remove(unused);
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      this.logger.warn(`Orphaned avatar objects of user ${userId} (delete them by hand): ${keys.join(' ')}: ${cause}`);
    }
  }
}
