import type { Metadata } from 'sharp';
import { AppError, validationFailed } from '../../lib/errors.js';

type Sharp = typeof import('sharp').default;
let sharpModule: Promise<Sharp> | undefined;

/**
 * sharp, loaded with the first picture: libvips (its library, its threads, its cache) is 10 MB or more of
 * memory that a web process would otherwise carry from its start for the rare upload. Its operation cache is off:
 * every upload is a different image, so a cached one is never asked for again and only holds memory.
 */
export function loadSharp(): Promise<Sharp> {
  sharpModule ??= import('sharp').then(({ default: sharp }) => {
    sharp.cache(false);
    return sharp;
  });
  return sharpModule;
}

/** What PUT /v1/recipes/{id}/image accepts (API.md, "Pictures"). */
export const ACCEPTED_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type AcceptedImageType = (typeof ACCEPTED_IMAGE_TYPES)[number];
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** The renditions every picture gets, each a WebP no wider or taller than `size` (never enlarged). */
export function renditionSizes(): Record<RenditionName, number> {
  return { original: 2048, large: 1200, medium: 600, thumb: 200 };
}
export type RenditionName = 'original' | 'large' | 'medium' | 'thumb';

export interface Rendition {
  name: RenditionName;
  body: Buffer;
  width: number;
  height: number;
}

export interface ProcessedImage {
  /** Of the `original` rendition, as the recipe's `image.width/height` says. */
  width: number;
  height: number;
  renditions: Rendition[];
}

// What sharp reports for each accepted Content-Type: the bytes must be what the header says they are.
const formatOfType: Record<AcceptedImageType, string> = { 'image/jpeg': 'jpeg', 'image/png': 'png', 'image/webp': 'webp' };

// A decompression bomb (a tiny file that decodes to gigapixels) is refused before it is decoded.
const MAX_INPUT_PIXELS = 40_000_000;

export function isAcceptedImageType(type: string): type is AcceptedImageType {
  return (ACCEPTED_IMAGE_TYPES as readonly string[]).includes(type);
}

/**
 * Decodes an upload and re-encodes it as WebP renditions. Nothing of the file is kept as sent: pixels are
 * decoded, turned upright by their EXIF orientation, and encoded anew without any metadata (sharp drops
 * EXIF, XMP, ICC comments and GPS unless asked to keep them), so a phone's location never leaves with a
 * dish's photo and a file that only claims to be an image is refused.
 */
export async function processImage(body: Buffer, contentType: AcceptedImageType): Promise<ProcessedImage> {
  const sharp = await loadSharp();
  let metadata: Metadata;
  try {
    metadata = await sharp(body, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' }).metadata();
  } catch {
    throw validationFailed('The body is not a readable JPEG, PNG or WebP image');
  }
  if (metadata.format !== formatOfType[contentType]) {
    throw validationFailed(`The body is not ${contentType}: send the Content-Type of the image's real format`);
  }
  if (metadata.pages !== undefined && metadata.pages > 1) {
    throw validationFailed('Animated images are not accepted: send a single picture');
  }
  const renditions: Rendition[] = [];
  try {
    for (const [name, size] of Object.entries(renditionSizes()) as Array<[RenditionName, number]>) {
      const { data, info } = await sharp(body, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
        .rotate()
        .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer({ resolveWithObject: true });
      renditions.push({ name, body: data, width: info.width, height: info.height });
    }
  } catch {
    // The header parsed but the pixels do not decode (a truncated or corrupt file).
    throw validationFailed('The image data is damaged and cannot be decoded');
  }
  const original = renditions[0];
  if (original === undefined) throw new AppError('internal', 500, 'No rendition was produced');
  return { width: original.width, height: original.height, renditions };
}
