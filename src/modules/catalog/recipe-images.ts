import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { withTransaction } from '../../db/transaction.js';
import { notFound } from '../../lib/errors.js';
import { processImage, renditionSizes, type AcceptedImageType, type RenditionName } from '../media/images.js';
import type { MediaStore } from '../media/store.js';
import type { RecipeImageUrls } from './menu-repo.js';
import { activeRecipeExists, replaceRecipeImage, type StoredImage } from './recipes-repo.js';

export type MediaUrls = Pick<MediaStore, 'urlFor'>;

// An upload's objects live under its own id, so a new picture never overwrites a URL a CDN or a browser holds.
const objectKey = (imageId: string, rendition: RenditionName) => `recipes/${imageId}/${rendition}.webp`;
const allRenditions = (): RenditionName[] => Object.keys(renditionSizes()) as RenditionName[];

// Any text that cannot be in a URL the media store makes, to find where the picture's id goes in one.
const ID_MARK = '\u0000';

/** How the menu's SQL makes the URLs of a picture's renditions (API.md "Pictures": WebP on MEDIA_BASE_URL). */
export function recipeImageUrls(media: MediaUrls): RecipeImageUrls {
  const parts = (rendition: RenditionName) => {
    const [prefix = '', suffix = ''] = media.urlFor(objectKey(ID_MARK, rendition)).split(ID_MARK);
    return { prefix, suffix };
  };
  return { original: parts('original'), thumb: parts('thumb'), medium: parts('medium'), large: parts('large') };
}

/**
 * Decodes and re-encodes the upload (nothing is kept as sent), stores its renditions, then points the recipe
 * at them. Objects go up before the row changes, so the recipe never shows a picture that is not there yet;
 * the pictures it no longer shows are deleted afterwards (a failure there leaves unreachable objects, never a
 * broken recipe).
 */
export async function setRecipeImage(
  deps: { db: Knex; media: MediaStore; logger: Logger },
  restaurantId: number,
  recipeId: number,
  upload: { body: Buffer; type: AcceptedImageType },
): Promise<void> {
  if (!(await activeRecipeExists(deps.db, restaurantId, recipeId))) throw notFound('The recipe');
  const processed = await processImage(upload.body, upload.type);
  const image: StoredImage = { id: randomBytes(12).toString('hex'), width: processed.width, height: processed.height };
  await Promise.all(processed.renditions.map((rendition) => deps.media.put(objectKey(image.id, rendition.name), rendition.body, 'image/webp')));
  const replaced = await withTransaction(deps.db, (trx) => replaceRecipeImage(trx, restaurantId, recipeId, image));
  if (replaced === undefined) {
    // Archived while the picture was being processed.
    await discard(deps, image.id);
    throw notFound('The recipe');
  }
  if (replaced.previous !== null) await discard(deps, replaced.previous);
}

/** Takes the picture off the recipe (nothing to take off is fine: the end state is the same). */
export async function removeRecipeImage(deps: { db: Knex; media: MediaStore; logger: Logger }, restaurantId: number, recipeId: number): Promise<void> {
  const replaced = await withTransaction(deps.db, (trx) => replaceRecipeImage(trx, restaurantId, recipeId, null));
  if (replaced === undefined) throw notFound('The recipe');
  if (replaced.previous !== null) await discard(deps, replaced.previous);
}

async function discard(deps: { media: MediaStore; logger: Logger }, imageId: string): Promise<void> {
  try {
    await deps.media.delete(allRenditions().map((rendition) => objectKey(imageId, rendition)));
  } catch (error) {
    deps.logger.warn({ err: error, imageId }, 'could not delete a replaced picture; its objects stay unreachable');
  }
}
