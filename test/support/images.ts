import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** Fixtures made with sharp at test time. */

export const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Pseudo-random pixels (xorshift), so images compress like photos and different seeds give different images. */
function noise(width: number, height: number, channels: 3 | 4, seed: number): Buffer {
  const buf = Buffer.alloc(width * height * channels);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < buf.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

export function noisy(width: number, height: number, seed = 1, channels: 3 | 4 = 3) {
  return sharp(noise(width, height, channels, seed), { raw: { width, height, channels } });
}

export const jpeg = (width = 600, height = 400, seed = 1) => noisy(width, height, seed).jpeg({ quality: 90 }).toBuffer();
export const png = (width = 600, height = 400, seed = 1) => noisy(width, height, seed, 4).png().toBuffer();

export function jpegWithGps(): Promise<Buffer> {
  return noisy(400, 400, 7)
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: { Make: 'SpyCam' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 31/1 12/1', GPSLongitudeRef: 'E', GPSLongitude: '13/1 24/1 36/1' },
    })
    .toBuffer();
}

/** Valid image followed by filler: decoders stop at the image's end, so the file is any size we like. */
export function padTo(image: Buffer, size: number): Buffer {
  if (image.length > size) throw new Error(`fixture is ${image.length} bytes, more than ${size}`);
  return Buffer.concat([image, Buffer.alloc(size - image.length, 0x20)]);
}

/** One PNG chunk: length, type, data and CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([len, typeAndData, crc]);
}

/** A valid one-colour 1-bit PNG of width x height pixels in a few dozen KB. */
export function pngBomb(width = 20000, height = 20000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1;
  ihdr[9] = 0;
  const scanlines = Buffer.alloc((1 + Math.ceil(width / 8)) * height);
  return Buffer.concat([
    PNG_SIG,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(scanlines, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export const pngHtmlPolyglot = () => Buffer.concat([PNG_SIG, Buffer.from('<html><script>alert(document.cookie)</script></html>')]);
export const svg = () =>
  Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(1)</script><rect width="64" height="64"/></svg>',
  );
export const gif = () => noisy(64, 64).gif().toBuffer();
export const webp = () => noisy(64, 64).webp().toBuffer();
