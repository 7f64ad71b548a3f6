/**
 * Avatar image pipeline: pure (no storage, no Nest).
 *
 * Untrusted bytes in -> a set of square, metadata-free, re-encoded variants out.
 *
 * Decisions (see also the report that came with this file):
 * - Only JPEG and PNG are accepted, decided by magic bytes (never by file name or
 *   the client's Content-Type). JPEG in -> JPEG out, PNG in -> PNG out.
 * - Everything is decoded and re-encoded; the original bytes are never meant to be
 *   stored. Output has NO metadata at all: no EXIF (so no GPS), no XMP, no ICC, no
 *   comments. Pixels are converted to 8-bit sRGB first (embedded ICC profiles are
 *   applied, then dropped; 16-bit PNGs become 8-bit).
 * - EXIF orientation is applied (auto-orient) before cropping.
 * - Each variant is a centre "cover" crop to a square. Never upscaled: a variant's
 *   side is min(size, shorter side of the oriented input). So a 100x80 upload gives
 *   four 80x80 variants; `size` stays the nominal slot (64/128/...), `width`/`height`
 *   are the real pixel dimensions. All requested slots are always present so storage
 *   keys are predictable.
 * - PNG keeps its alpha channel (transparent avatars are legitimate); JPEG has none.
 * - `hash` = sha256 (hex) of the canonical OUTPUT (every variant's slot, dimensions,
 *   content type and bytes, in ascending size order), not of the input. Object keys
 *   derived from it are then true content addresses: the same key always means the
 *   same stored bytes, which is what makes `Cache-Control: immutable` safe. If the
 *   encoder settings, the sizes or the sharp/libvips version change, the output and
 *   therefore the keys change too, instead of silently overwriting an "immutable"
 *   URL with different bytes. Two uploads that differ only in stripped metadata
 *   (e.g. GPS) dedupe to the same key. The pipeline is deterministic (same input,
 *   same sharp version -> identical bytes), which the spec checks.
 * - No global sharp settings are changed here. Measured on the 2-core box: sharp's
 *   concurrency is already 1 on glibc Linux (no jemalloc) and 2 bought nothing;
 *   sharp.cache(false) at bootstrap saves a few MB RSS (uploads never repeat).
 *   ~90-140 ms CPU per 4 MB JPEG; callers should bound parallel calls (libuv has 4
 *   threads and the box 2 cores).
 * - Errors (AvatarImageError.code):
 *     UNSUPPORTED_MEDIA_TYPE  not JPEG/PNG by magic bytes, OR the magic bytes say
 *                             JPEG/PNG but the header behind them does not parse as
 *                             one (e.g. "PNG signature + HTML" polyglot). Such a file
 *                             is not an image of a supported type at all, it merely
 *                             starts with 8 bytes of one -> 415.
 *     IMAGE_TOO_LARGE_PIXELS  width*height from the header > maxPixels; checked
 *                             before any pixel is decoded -> 422 (or 413).
 *     INVALID_IMAGE           header parses as JPEG/PNG but the pixel data is
 *                             truncated or corrupt -> 422 (or 400).
 */
import { createHash } from 'node:crypto';
// sharp >= 0.35 ships dual types (index.d.mts default export / index.d.cts `export =`);
// a default import type-checks under both moduleResolution node10 and nodenext, and
// needs "esModuleInterop": true at runtime (Nest's default tsconfig has it).
import sharp from 'sharp';
import type { Metadata, OutputInfo } from 'sharp';

export type AvatarFormat = 'jpeg' | 'png';

export type AvatarImageErrorCode = 'UNSUPPORTED_MEDIA_TYPE' | 'IMAGE_TOO_LARGE_PIXELS' | 'INVALID_IMAGE';

export class AvatarImageError extends Error {
  readonly code: AvatarImageErrorCode;

  constructor(code: AvatarImageErrorCode, message: string, cause?: unknown) {
    super(message);
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'AvatarImageError';
    this.code = code;
    if (cause !== undefined) {
      // assigned rather than passed to super() so this compiles with any `lib` setting
      (this as { cause?: unknown }).cause = cause;
    }
  }
}

export interface AvatarVariant {
  /** nominal slot requested (64, 128, ...) */
  size: number;
  /** 'image/jpeg' | 'image/png' */
  contentType: string;
  body: Buffer;
  /** real pixel dimensions; width === height === min(size, shorter input side) */
  width: number;
  height: number;
}

export interface ProcessedAvatar {
  format: AvatarFormat;
  /** sha256 hex of the canonical output (all variants), see file header */
  hash: string;
  /** ascending by size, one per distinct requested size */
  variants: AvatarVariant[];
}

export interface ProcessAvatarOptions {
  sizes?: number[];
  /** max width*height of the (un-oriented) input; default 40 megapixels */
  maxPixels?: number;
}

export const DEFAULT_AVATAR_SIZES: readonly number[] = Object.freeze([64, 128, 256, 512]);
export const DEFAULT_AVATAR_MAX_PIXELS = 40_000_000;
export const AVATAR_JPEG_QUALITY = 82;
const MAX_VARIANT_SIZE = 4096;

const CONTENT_TYPES: Record<AvatarFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
};

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Sharp input options for untrusted data.
 * failOn 'error': abort on truncated data ('truncated' is implied) and on decoder
 * errors, but not on mere libjpeg warnings ('warning', sharp's default, also rejects
 * e.g. "Corrupt JPEG data: extraneous bytes before marker", which some phones/apps
 * produce in otherwise fine photos).
 */
const FAIL_ON = 'error' as const;

/** Image type by magic bytes only. */
export function sniffImageType(head: Buffer): AvatarFormat | null {
  if (!Buffer.isBuffer(head)) return null;
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    return 'jpeg';
  }
  if (head.length >= PNG_SIGNATURE.length && head.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    return 'png';
  }
  return null;
}

function normaliseSizes(sizes: readonly number[] | undefined): number[] {
  const list = sizes ?? DEFAULT_AVATAR_SIZES;
  if (!Array.isArray(list) || list.length === 0) {
    throw new RangeError('processAvatar: sizes must be a non-empty array');
  }
  for (const s of list) {
    if (!Number.isInteger(s) || s < 1 || s > MAX_VARIANT_SIZE) {
      throw new RangeError(`processAvatar: invalid size ${String(s)} (integer 1..${MAX_VARIANT_SIZE})`);
    }
  }
  return [...new Set(list)].sort((a, b) => a - b);
}

function isPixelLimitError(err: unknown): boolean {
  // no `instanceof Error`: errors from Node internals come from another realm under Jest
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /pixel limit/i.test(message);
}

/**
 * Decode, auto-orient, strip metadata, centre-crop to squares and re-encode.
 * Throws AvatarImageError for bad input; RangeError for bad options.
 */
export async function processAvatar(input: Buffer, opts: ProcessAvatarOptions = {}): Promise<ProcessedAvatar> {
  const sizes = normaliseSizes(opts.sizes);
  const maxPixels = opts.maxPixels ?? DEFAULT_AVATAR_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels < 1) {
    throw new RangeError('processAvatar: maxPixels must be a positive integer');
  }

  const format = Buffer.isBuffer(input) ? sniffImageType(input) : null;
  if (!format) {
    throw new AvatarImageError('UNSUPPORTED_MEDIA_TYPE', 'Only JPEG and PNG images are accepted');
  }

  // 1) Header only (no pixel decode). The pixel limit is checked here by us, so a
  //    decompression bomb is refused in ~1 ms whatever sharp's own limit does.
  let meta: Metadata;
  try {
    meta = await sharp(input, { failOn: FAIL_ON, limitInputPixels: false }).metadata();
  } catch (err) {
    throw new AvatarImageError('UNSUPPORTED_MEDIA_TYPE', `Not a decodable ${format.toUpperCase()} image`, err);
  }
  if (meta.format !== format || !meta.width || !meta.height) {
    throw new AvatarImageError('UNSUPPORTED_MEDIA_TYPE', `Not a decodable ${format.toUpperCase()} image`);
  }
  if (meta.width * meta.height > maxPixels) {
    throw new AvatarImageError(
      'IMAGE_TOO_LARGE_PIXELS',
      `Image has ${meta.width}x${meta.height} pixels, more than the ${maxPixels} allowed`,
    );
  }

  // EXIF orientations 5..8 swap width and height, but the square side is the same.
  const side = Math.min(meta.width, meta.height);
  const baseSide = Math.min(side, sizes[sizes.length - 1]);

  // 2) One decode: auto-orient, cover-crop to a square of the largest needed side,
  //    8-bit sRGB, raw pixels. No metadata survives a raw round-trip. For JPEG,
  //    libvips uses shrink-on-load here, so a 12 MP photo is decoded at 1/2..1/8 scale.
  let base: { data: Buffer; info: OutputInfo };
  try {
    base = await sharp(input, { failOn: FAIL_ON, limitInputPixels: maxPixels, autoOrient: true })
      .resize(baseSide, baseSide, { fit: 'cover', position: 'centre' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (isPixelLimitError(err)) {
      throw new AvatarImageError('IMAGE_TOO_LARGE_PIXELS', 'Image has too many pixels', err);
    }
    throw new AvatarImageError('INVALID_IMAGE', `Corrupt or truncated ${format.toUpperCase()} image`, err);
  }

  const { width, channels } = base.info; // square: height === width
  const raw = { width, height: width, channels: channels as 1 | 2 | 3 | 4 };
  const contentType = CONTENT_TYPES[format];

  // 3) Encode every slot from the small raw square (cheap: <= 512x512 pixels).
  const variants = await Promise.all(
    sizes.map(async (size): Promise<AvatarVariant> => {
      const target = Math.min(size, width);
      let pipeline = sharp(base.data, { raw });
      if (target !== width) {
        pipeline = pipeline.resize(target, target, { fit: 'fill' });
      }
      pipeline = format === 'jpeg' ? pipeline.jpeg({ quality: AVATAR_JPEG_QUALITY, mozjpeg: true }) : pipeline.png({ compressionLevel: 9 });
      const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
      return { size, contentType, body: data, width: info.width, height: info.height };
    }),
  );

  const h = createHash('sha256');
  for (const v of variants) {
    h.update(`${v.size}:${v.width}x${v.height}:${v.contentType}:${v.body.length}\n`);
    h.update(v.body);
  }
  return { format, hash: h.digest('hex'), variants };
}
