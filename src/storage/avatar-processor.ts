import { Injectable } from '@nestjs/common';
import sharp from 'sharp';
import { DomainError } from '../common/domain-error';
import { Semaphore } from '../common/semaphore';
import { AvatarImageError, processAvatar, ProcessedAvatar } from './avatar-image';

/** Decoding a 4 MB photo takes ~100 ms of CPU and tens of MB: two at a time keeps both cores busy and memory flat. */
export const AVATAR_PROCESSING_CONCURRENCY = 2;
/**
 * Uploads whose bodies are read at once. The others wait unread (their bytes stay in the kernel's socket buffers,
 * TCP holds the client back), so memory does not grow with the number of clients: 20 concurrent 4 MB uploads
 * measured +230 MB RSS when all were read at once. Processing is the bottleneck anyway (2 at a time).
 */
export const AVATAR_UPLOADS_IN_FLIGHT = 4;

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
  private readonly uploads = new Semaphore(AVATAR_UPLOADS_IN_FLIGHT);

  constructor() {
    // Uploads never repeat, so libvips' operation cache only holds memory.
    sharp.cache(false);
  }

  /** Runs one upload, from reading its body to its stored result, in one of the in-flight slots. */
  admit<T>(upload: () => Promise<T>): Promise<T> {
    return this.uploads.run(upload);
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
