import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { processImage } from '../src/modules/media/images.js';
import { AppError } from '../src/lib/errors.js';

async function photo(format: 'png' | 'jpeg' | 'webp', width = 1600, height = 1000): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .withExif({ IFD0: { Copyright: 'GPS secret 52.52N 13.40E', Artist: 'phone owner' } })
    [format]()
    .toBuffer();
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('processing an uploaded picture', () => {
  it('re-encodes a PNG carrying EXIF into WebP renditions that carry none of it', async () => {
    const upload = await photo('png');
    expect((await sharp(upload).metadata()).exif).toBeDefined();

    const image = await processImage(upload, 'image/png');

    expect(image.renditions.map((r) => r.name)).toEqual(['original', 'large', 'medium', 'thumb']);
    for (const rendition of image.renditions) {
      const meta = await sharp(rendition.body).metadata();
      expect(meta.format).toBe('webp');
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(rendition.body.includes('GPS secret')).toBe(false);
      expect([meta.width, meta.height]).toEqual([rendition.width, rendition.height]);
    }
  });

  it('keeps the aspect ratio and never enlarges: a 1600×1000 photo gives 1600, 1200, 600 and 200 wide', async () => {
    const image = await processImage(await photo('jpeg'), 'image/jpeg');
    expect(image.renditions.map((r) => [r.width, r.height])).toEqual([
      [1600, 1000],
      [1200, 750],
      [600, 375],
      [200, 125],
    ]);
    expect([image.width, image.height]).toEqual([1600, 1000]);
  });

  it('fits a tall picture inside the box by its height', async () => {
    const image = await processImage(await photo('webp', 500, 3000), 'image/webp');
    expect(image.renditions.map((r) => [r.width, r.height])).toEqual([
      [341, 2048],
      [200, 1200],
      [100, 600],
      [33, 200],
    ]);
  });

  it('refuses a text file sent as image/png with 400', async () => {
    const error = await rejection(processImage(Buffer.from('this is not a picture, just text\n'), 'image/png'));
    expect([error.status, error.code]).toEqual([400, 'validation_failed']);
  });

  it('refuses a JPEG that claims to be a PNG', async () => {
    const error = await rejection(processImage(await photo('jpeg'), 'image/png'));
    expect(error.status).toBe(400);
    expect(error.detail).toMatch(/not image\/png/);
  });

  it('refuses a truncated image with 400, not 500', async () => {
    const whole = await photo('png', 400, 400);
    const error = await rejection(processImage(whole.subarray(0, Math.floor(whole.length / 2)), 'image/png'));
    expect(error.status).toBe(400);
  });
});
