import type { Knex } from 'knex';

/**
 * A recipe's picture: the id of one upload (its objects are `<restaurant>/recipes/<recipe>/<image_id>/<rendition>.webp`
 * in the media store) and the size of its full rendition. URLs are derived from MEDIA_BASE_URL when read,
 * so moving the CDN needs no data change.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE recipes
      ADD COLUMN image_id text CHECK (image_id ~ '^[a-z0-9]{16,32}$'),
      ADD COLUMN image_width integer CHECK (image_width BETWEEN 1 AND 4096),
      ADD COLUMN image_height integer CHECK (image_height BETWEEN 1 AND 4096),
      ADD CONSTRAINT recipes_image_complete CHECK ((image_id IS NULL) = (image_width IS NULL) AND (image_id IS NULL) = (image_height IS NULL))
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE recipes
      DROP CONSTRAINT recipes_image_complete,
      DROP COLUMN image_height,
      DROP COLUMN image_width,
      DROP COLUMN image_id
  `);
}
