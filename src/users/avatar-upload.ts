import type { Readable } from 'node:stream';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { DomainError, ValidationFailed } from '../common/domain-error';
import { sniffImageType } from '../storage/avatar-image';
import { UnsupportedImageType } from '../storage/avatar-processor';

export const AVATAR_MAX_BYTES = 5 * 1024 * 1024;
/** A client that takes longer to send its file holds an upload slot no longer (5 MB in 30 s is ~1.4 Mbit/s). */
export const AVATAR_READ_TIMEOUT_MS = 30_000;
/** The form field that carries the image. */
export const AVATAR_FIELD = 'file';

export class AvatarTooLarge extends DomainError {
  constructor() {
    super('PAYLOAD_TOO_LARGE', 'Avatar file size exceeds 5MB limit');
  }
}

class NotMultipart extends DomainError {
  constructor() {
    super('UNSUPPORTED_MEDIA_TYPE', `Send the avatar as multipart/form-data with the image in the "${AVATAR_FIELD}" field`);
  }
}

class UploadTooSlow extends DomainError {
  constructor() {
    super('REQUEST_TIMEOUT', `The avatar did not arrive within ${AVATAR_READ_TIMEOUT_MS / 1000} s`);
  }
}

class MalformedMultipart extends DomainError {
  constructor() {
    super('BAD_REQUEST', 'The multipart body is malformed');
  }
}

/** Busboy limits: one file of at most 5 MB, a few small text fields (ignored). */
const LIMITS = { fileSize: AVATAR_MAX_BYTES, files: 2, fields: 10, fieldSize: 1024, parts: 16, headerPairs: 32 };

/**
 * Reads the one image of an avatar upload while it streams in. Nothing beyond the first 5 MB of the file is kept:
 * past the limit busboy discards the rest of the body as it arrives (memory stays flat whatever the client sends),
 * and the answer is a 413 at once. The type is decided by the first bytes, so a GIF is refused before it is read.
 */
export async function readAvatarUpload(request: FastifyRequest): Promise<Buffer> {
  if (!request.isMultipart()) throw new NotMultipart();
  let image: Buffer | null = null;
  try {
    for await (const part of request.parts({ limits: LIMITS })) {
      if (part.type !== 'file') continue;
      if (part.fieldname !== AVATAR_FIELD) {
        discard(part.file);
        throw ValidationFailed.field(part.fieldname, 'is not an allowed field');
      }
      if (image) {
        discard(part.file);
        throw ValidationFailed.field(AVATAR_FIELD, 'only one file may be sent');
      }
      image = await readImage(part, request.raw);
    }
  } catch (error) {
    throw asUploadError(error);
  }
  if (!image) throw ValidationFailed.field(AVATAR_FIELD, 'is required (a JPEG or PNG image)');
  return image;
}

/**
 * Collects the file part. Busboy signals the size limit with 'limit' but ends the stream only where the part ends
 * (after the whole 50 MB, say), so the limit is answered from the event, and the rest drains unread.
 */
function readImage(part: MultipartFile, body: Readable): Promise<Buffer> {
  const file = part.file;
  return new Promise<Buffer>((resolve, reject) => {
    let chunks: Buffer[] = [];
    let length = 0;
    let sniffed = false;
    let ended = false;
    const deadline = setTimeout(() => fail(new UploadTooSlow()), AVATAR_READ_TIMEOUT_MS).unref();
    const fail = (error: unknown) => {
      clearTimeout(deadline);
      file.removeListener('data', onData);
      chunks = [];
      discard(file);
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (!sniffed && length >= 8) {
        sniffed = true;
        if (!sniffImageType(Buffer.concat(chunks))) fail(new UnsupportedImageType());
      }
    };
    file.on('data', onData);
    file.once('limit', () => fail(new AvatarTooLarge()));
    file.once('error', fail);
    // destroyed by @fastify/multipart when the body breaks off (a settled promise ignores this)
    file.once('close', () => fail(new MalformedMultipart()));
    // A body cut off inside the part may fail it before we listen (busboy's error is swallowed by the plugin);
    // then the part never ends. Once the whole body is read, it has ended or it never will.
    const afterBody = () => setTimeout(() => ended || fail(new MalformedMultipart()), 200).unref();
    if (body.readableEnded) afterBody();
    else body.once('end', afterBody);
    file.once('end', () => {
      ended = true;
      if (file.truncated) return fail(new AvatarTooLarge());
      if (length === 0) return fail(ValidationFailed.field(AVATAR_FIELD, 'is empty'));
      const image = Buffer.concat(chunks, length);
      if (!sniffImageType(image)) return fail(new UnsupportedImageType());
      clearTimeout(deadline);
      resolve(image);
    });
  });
}

/** Lets busboy read past a part we refuse (it waits for the part's consumer), so the body keeps draining. */
function discard(stream: Readable): void {
  stream.on('error', () => undefined);
  stream.resume();
}

/** @fastify/multipart's and busboy's errors, in our codes. */
function asUploadError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  const code = (error as { code?: unknown })?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new AvatarTooLarge();
  if (code === 'FST_FILES_LIMIT') return ValidationFailed.field(AVATAR_FIELD, 'only one file may be sent');
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return ValidationFailed.field('body', 'has too many fields');
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return new NotMultipart();
  return new MalformedMultipart();
}
