import { Injectable } from '@nestjs/common';
import sharp from 'sharp';
import { DomainError } from '../common/domain-error';
import { Semaphore } from '../common/semaphore';
import { AvatarImageError, processAvatar, ProcessedAvatar } from './avatar-image';

/** Decoding a 4 MB photo takes ~100 ms of CPU and tens of MB: two at a time keeps both cores busy and memory flat. */
export const AVATAR_PROCESSING_CONCURRENCY = 2;

export class UnsupportedImageType extends DomainError {
  constructor() {
    super('UNSUPPORTED_MEDIA_TYPE', 'Only JPEG and PNG images are supported');
  }
}

export class InvalidImage extends DomainError {
  constructor(code: 'INVALID_IMAGE' | 'IMAGE_TOO_LARGE_PIXELS', message: string) {
    super(code, message);
  }
}

@Injectable()
export class AvatarProcessor {
  private readonly slots = new Semaphore(AVATAR_PROCESSING_CONCURRENCY);

  constructor() {
    // Uploads never repeat, so libvips' operation cache only holds memory.
    sharp.cache(false);
  }

  /** Bad images become 415 / 422 domain errors. */
  async process(image: Buffer): Promise<ProcessedAvatar> {
    try {
      return await this.slots.run(() => processAvatar(image));
    } catch (error) {
      if (!(error instanceof AvatarImageError)) throw error;
      if (error.code === 'UNSUPPORTED_MEDIA_TYPE') throw new UnsupportedImageType();
      if (error.code === 'IMAGE_TOO_LARGE_PIXELS') throw new InvalidImage(error.code, error.message);
      throw new InvalidImage('INVALID_IMAGE', 'The image is truncated or corrupt');
    }
  }
}
