import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { noisy, PNG_SIG, pngBomb, pngChunk, pngHtmlPolyglot } from '../../test/support/images';
import { AvatarImageError, type AvatarImageErrorCode, DEFAULT_AVATAR_SIZES, processAvatar, sniffImageType } from './avatar-image';

// ---------------------------------------------------------------- fixtures (made here)

/** Insert a chunk right after IHDR (8 byte signature + 25 byte IHDR chunk). */
function withPngChunk(png: Buffer, type: string, data: Buffer): Buffer {
  return Buffer.concat([png.subarray(0, 33), pngChunk(type, data), png.subarray(33)]);
}

/** Left half red, right half blue. */
function twoTone(width: number, height: number): Sharp {
  const half = Math.floor(width / 2);
  return sharp({ create: { width, height, channels: 3, background: '#0000ff' } }).composite([
    { input: { create: { width: half, height, channels: 3, background: '#ff0000' } }, left: 0, top: 0 },
  ]);
}

async function pixelAt(img: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(img).raw().toBuffer({ resolveWithObject: true });
  const o = (y * info.width + x) * info.channels;
  return [...data.subarray(o, o + info.channels)];
}

async function expectAvatarError(p: Promise<unknown>, code: AvatarImageErrorCode): Promise<AvatarImageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AvatarImageError);
  expect((err as AvatarImageError).code).toBe(code);
  return err as AvatarImageError;
}

const isRed = (px: number[]) => px[0] > 200 && px[1] < 60 && px[2] < 60;
const isBlue = (px: number[]) => px[0] < 60 && px[1] < 60 && px[2] > 200;

// ---------------------------------------------------------------- tests

describe('sniffImageType', () => {
  it('recognises JPEG and PNG by magic bytes only', () => {
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBe('jpeg');
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff]))).toBe('jpeg');
    expect(sniffImageType(Buffer.concat([PNG_SIG, Buffer.from('rest')]))).toBe('png');
  });

  it('rejects everything else', () => {
    expect(sniffImageType(Buffer.alloc(0))).toBeNull();
    expect(sniffImageType(Buffer.from([0xff, 0xd8]))).toBeNull();
    expect(sniffImageType(PNG_SIG.subarray(0, 7))).toBeNull();
    expect(sniffImageType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x00]))).toBeNull();
    expect(sniffImageType(Buffer.from('GIF89a......'))).toBeNull();
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBeNull();
    expect(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(sniffImageType(Buffer.from('<!doctype html><html></html>'))).toBeNull();
    expect(sniffImageType(Buffer.from(' \xff\xd8\xff', 'latin1'))).toBeNull(); // not at offset 0
  });
});

describe('AvatarImageError', () => {
  it('is a plain Error subclass with a readonly code', () => {
    const e = new AvatarImageError('INVALID_IMAGE', 'bad', new Error('root'));
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(AvatarImageError);
    expect(e.name).toBe('AvatarImageError');
    expect(e.code).toBe('INVALID_IMAGE');
    expect(e.message).toBe('bad');
    expect((e as { cause?: unknown }).cause).toBeInstanceOf(Error);
  });
});

describe('processAvatar', () => {
  it('strips EXIF incl. GPS (and XMP, ICC, comments) from a JPEG', async () => {
    const input = await noisy(600, 400)
      .jpeg({ quality: 90 })
      .withExif({
        IFD0: { Copyright: 'secret-owner', ImageDescription: 'home' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '48/1 51/1 2400/100',
          GPSLongitudeRef: 'E',
          GPSLongitude: '2/1 21/1 0/1',
        },
      })
      .withXmp(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>xmp-secret</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>',
      )
      .withIccProfile('p3')
      .toBuffer();

    // the fixture really carries what we claim it carries
    const inMeta = await sharp(input).metadata();
    expect(inMeta.exif).toBeDefined();
    const exif = inMeta.exif as Buffer;
    // GPS IFD pointer tag 0x8825, in either byte order
    expect(exif.includes(Buffer.from([0x88, 0x25])) || exif.includes(Buffer.from([0x25, 0x88]))).toBe(true);
    expect(exif.toString('latin1')).toContain('secret-owner');
    expect(inMeta.xmp).toBeDefined();
    expect(inMeta.icc).toBeDefined();

    const out = await processAvatar(input);
    expect(out.format).toBe('jpeg');
    for (const v of out.variants) {
      const m = await sharp(v.body).metadata();
      expect(m.format).toBe('jpeg');
      expect(m.exif).toBeUndefined();
      expect(m.xmp).toBeUndefined();
      expect(m.icc).toBeUndefined();
      expect(m.iptc).toBeUndefined();
      expect(m.comments).toBeUndefined();
      expect(m.orientation).toBeUndefined();
      expect(m.space).toBe('srgb');
      const latin1 = v.body.toString('latin1');
      expect(latin1).not.toContain('secret-owner');
      expect(latin1).not.toContain('xmp-secret');
      expect(latin1).not.toContain('Exif');
    }
  });

  it('strips PNG text chunks', async () => {
    const png = await noisy(300, 300).png().toBuffer();
    const input = withPngChunk(png, 'tEXt', Buffer.from('Comment\0gps=48.85,2.35 png-secret', 'latin1'));
    expect((await sharp(input).metadata()).comments).toBeDefined(); // fixture check
    const out = await processAvatar(input);
    for (const v of out.variants) {
      expect(v.body.toString('latin1')).not.toContain('png-secret');
      expect((await sharp(v.body).metadata()).comments).toBeUndefined();
    }
  });

  it('auto-orients by EXIF orientation 6 (rotate 90° clockwise) before cropping', async () => {
    // stored 400x200: red left, blue right. Orientation 6 displays it as 200x400 with red on TOP.
    const input = await twoTone(400, 200).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(input).metadata()).orientation).toBe(6);

    const out = await processAvatar(input, { sizes: [128] });
    const [v] = out.variants;
    expect([v.width, v.height]).toEqual([128, 128]);
    expect((await sharp(v.body).metadata()).orientation).toBeUndefined();
    expect(isRed(await pixelAt(v.body, 64, 10))).toBe(true); // top
    expect(isBlue(await pixelAt(v.body, 64, 117))).toBe(true); // bottom
    // and NOT the un-rotated layout (red left / blue right on every row)
    expect(isBlue(await pixelAt(v.body, 120, 10))).toBe(false);

    // sanity: without the orientation tag the same pixels stay left/right
    const plain = await processAvatar(await twoTone(400, 200).jpeg({ quality: 95 }).toBuffer(), { sizes: [128] });
    expect(isRed(await pixelAt(plain.variants[0].body, 10, 64))).toBe(true);
    expect(isBlue(await pixelAt(plain.variants[0].body, 117, 64))).toBe(true);
  });

  it('PNG in -> PNG out (whatever it was called), alpha kept', async () => {
    const input = await sharp({
      create: { width: 300, height: 200, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    const out = await processAvatar(input);
    expect(out.format).toBe('png');
    for (const v of out.variants) {
      expect(v.contentType).toBe('image/png');
      expect(sniffImageType(v.body)).toBe('png');
      const m = await sharp(v.body).metadata();
      expect(m.format).toBe('png');
      expect(m.hasAlpha).toBe(true);
    }
    const px = await pixelAt(out.variants[0].body, 5, 5);
    expect(px[3]).toBeGreaterThan(100);
    expect(px[3]).toBeLessThan(155);
  });

  it('JPEG in -> JPEG out with image/jpeg content type', async () => {
    const out = await processAvatar(await noisy(700, 700).jpeg().toBuffer());
    expect(out.format).toBe('jpeg');
    for (const v of out.variants) {
      expect(v.contentType).toBe('image/jpeg');
      expect(sniffImageType(v.body)).toBe('jpeg');
    }
  });

  it('16-bit PNG becomes 8-bit sRGB', async () => {
    const input = await noisy(200, 200).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(input).metadata()).depth).toBe('ushort');
    const out = await processAvatar(input, { sizes: [64] });
    const m = await sharp(out.variants[0].body).metadata();
    expect(m.depth).toBe('uchar');
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const input = await noisy(200, 200).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(input).metadata()).space).toBe('cmyk'); // fixture check
    const out = await processAvatar(input, { sizes: [64] });
    const m = await sharp(out.variants[0].body).metadata();
    expect([m.format, m.space, m.channels]).toEqual(['jpeg', 'srgb', 3]);
  });

  it.each([
    ['GIF', true, () => noisy(64, 64).gif().toBuffer()],
    ['WebP', true, () => noisy(64, 64).webp().toBuffer()],
    ['AVIF', true, () => noisy(64, 64).avif().toBuffer()],
    ['TIFF', true, () => noisy(64, 64).tiff().toBuffer()],
    [
      'SVG',
      true,
      async () =>
        Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(1)</script><rect width="64" height="64"/></svg>',
        ),
    ],
    ['HTML', false, async () => Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>')],
    ['empty', false, async () => Buffer.alloc(0)],
  ])('rejects %s as UNSUPPORTED_MEDIA_TYPE', async (_name, sharpCanDecode, make) => {
    const input = await make();
    if (sharpCanDecode) {
      // sharp itself would happily decode these: rejecting them is our decision
      await expect(sharp(input).metadata()).resolves.toBeDefined();
    }
    await expectAvatarError(processAvatar(input), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('rejects non-Buffer input as UNSUPPORTED_MEDIA_TYPE', async () => {
    await expectAvatarError(processAvatar('not a buffer' as unknown as Buffer), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('rejects a "PNG signature + HTML" polyglot as UNSUPPORTED_MEDIA_TYPE', async () => {
    const polyglot = pngHtmlPolyglot();
    expect(sniffImageType(polyglot)).toBe('png'); // passes the magic-byte check...
    await expectAvatarError(processAvatar(polyglot), 'UNSUPPORTED_MEDIA_TYPE'); // ...but is no PNG
    const jpegPolyglot = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('<html></html>')]);
    await expectAvatarError(processAvatar(jpegPolyglot), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('accepts an image with HTML appended after its end, and drops the trailing bytes', async () => {
    // A valid image followed by junk is decodable; the re-encoded output must not carry the junk.
    const png = await noisy(100, 100).png().toBuffer();
    const input = Buffer.concat([png, Buffer.from('<html><script>alert(1)</script></html>')]);
    const out = await processAvatar(input, { sizes: [64] });
    expect(out.variants[0].body.toString('latin1')).not.toContain('<script>');
  });

  it.each([
    ['JPEG', () => noisy(400, 300).jpeg({ quality: 90 }).toBuffer()],
    ['PNG', () => noisy(400, 300).png().toBuffer()],
  ])('rejects a truncated %s as INVALID_IMAGE', async (_name, make) => {
    const full = await make();
    for (const fraction of [0.5, 0.9]) {
      const truncated = full.subarray(0, Math.floor(full.length * fraction));
      await expectAvatarError(processAvatar(truncated), 'INVALID_IMAGE');
    }
  });

  it('rejects a PNG with corrupted pixel data as INVALID_IMAGE', async () => {
    const png = Buffer.from(await noisy(400, 300).png().toBuffer());
    for (let i = Math.floor(png.length * 0.4); i < png.length * 0.45; i++) png[i] ^= 0x5a;
    await expectAvatarError(processAvatar(png), 'INVALID_IMAGE');
  });

  it('refuses a decompression bomb (20000x20000 one-colour PNG, ~50 KB) fast', async () => {
    const bomb = pngBomb(20000, 20000);
    expect(bomb.length).toBeLessThan(100_000);
    const m = await sharp(bomb, { limitInputPixels: false }).metadata(); // fixture is a real PNG header
    expect([m.format, m.width, m.height]).toEqual(['png', 20000, 20000]);

    const started = performance.now();
    const err = await expectAvatarError(processAvatar(bomb), 'IMAGE_TOO_LARGE_PIXELS');
    expect(performance.now() - started).toBeLessThan(500);
    expect(err.message).toContain('20000x20000');
  });

  it('applies the maxPixels option', async () => {
    const input = await noisy(300, 200).jpeg().toBuffer(); // 60 000 px
    await expectAvatarError(processAvatar(input, { maxPixels: 59_999 }), 'IMAGE_TOO_LARGE_PIXELS');
    await expect(processAvatar(input, { maxPixels: 60_000, sizes: [64] })).resolves.toBeDefined();
  });

  it('produces square cover-cropped variants of the default sizes', async () => {
    expect(DEFAULT_AVATAR_SIZES).toEqual([64, 128, 256, 512]);
    const out = await processAvatar(await noisy(1000, 600).jpeg().toBuffer());
    expect(out.variants.map((v) => [v.size, v.width, v.height])).toEqual([
      [64, 64, 64],
      [128, 128, 128],
      [256, 256, 256],
      [512, 512, 512],
    ]);
    for (const v of out.variants) {
      const m = await sharp(v.body).metadata();
      expect([m.width, m.height]).toEqual([v.width, v.height]);
    }
  });

  it('never upscales: small inputs give min(size, shorter side) squares', async () => {
    const out = await processAvatar(await noisy(150, 100).png().toBuffer());
    expect(out.variants.map((v) => [v.size, v.width, v.height])).toEqual([
      [64, 64, 64],
      [128, 100, 100],
      [256, 100, 100],
      [512, 100, 100],
    ]);
  });

  it('honours custom sizes (sorted, de-duplicated) and rejects bad ones', async () => {
    const input = await noisy(400, 400).jpeg().toBuffer();
    const out = await processAvatar(input, { sizes: [200, 32, 200] });
    expect(out.variants.map((v) => [v.size, v.width])).toEqual([
      [32, 32],
      [200, 200],
    ]);
    await expect(processAvatar(input, { sizes: [] })).rejects.toBeInstanceOf(RangeError);
    await expect(processAvatar(input, { sizes: [0] })).rejects.toBeInstanceOf(RangeError);
    await expect(processAvatar(input, { sizes: [1.5] })).rejects.toBeInstanceOf(RangeError);
    await expect(processAvatar(input, { maxPixels: 0 })).rejects.toBeInstanceOf(RangeError);
  });

  it('hash: same input -> same hash and bytes; different pixels -> different hash', async () => {
    const input = await noisy(500, 400, 7).jpeg().toBuffer();
    const a = await processAvatar(input);
    const b = await processAvatar(Buffer.from(input));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    expect(b.variants.map((v) => v.body.equals(a.variants.find((x) => x.size === v.size)!.body))).toEqual([true, true, true, true]);
    const other = await processAvatar(await noisy(500, 400, 8).jpeg().toBuffer());
    expect(other.hash).not.toBe(a.hash);
    // content hash of the OUTPUT: other sizes -> other stored bytes -> other key
    const fewer = await processAvatar(input, { sizes: [64] });
    expect(fewer.hash).not.toBe(a.hash);
  });

  it('hash is of the output: same pixels with and without EXIF/GPS dedupe to one hash', async () => {
    const plain = await noisy(300, 300, 3, 3).jpeg({ quality: 90 }).toBuffer();
    const withGps = await noisy(300, 300, 3, 3)
      .jpeg({ quality: 90 })
      .withExif({ IFD3: { GPSLatitudeRef: 'S', GPSLatitude: '33/1 51/1 0/1' } })
      .toBuffer();
    expect(withGps.equals(plain)).toBe(false);
    expect((await processAvatar(withGps)).hash).toBe((await processAvatar(plain)).hash);
  });
});
