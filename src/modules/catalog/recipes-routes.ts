import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { catalogReadNote, catalogViewer, setCatalogCacheHeaders } from './catalog-http.js';
import { idParams } from '../../http/params.js';
import { createRecipeBody, listRecipesQuery, recipePageSchema, recipeSchema, updateRecipeBody } from './recipes-schemas.js';
import * as recipes from './recipes-service.js';
import { recipeImageUrls, removeRecipeImage, setRecipeImage } from './recipe-images.js';
import { ACCEPTED_IMAGE_TYPES, MAX_IMAGE_BYTES, isAcceptedImageType } from '../media/images.js';
import { z } from '../../http/zod.js';
import type { MenuPreferences } from '../../lib/allergens.js';

const tags = ['recipes'];

export interface RecipeRouteDeps {
  /** The signed-in user's saved menu preferences in a restaurant (the customers module's, given at composition). */
  preferencesOf: (restaurantId: number, userSub: string) => Promise<MenuPreferences | undefined>;
}

export function registerRecipeRoutes(api: ApiRouter, deps: RecipeRouteDeps): void {
  const images = recipeImageUrls(api.deps.media);
  defineRoute(api, {
    method: 'get',
    path: '/v1/recipes',
    summary: 'The menu: active recipes with live price and availability, filtered by allergens and diets',
    description:
      'Price and availability are computed from the ingredients now, so they follow stock. `search` matches name and description, case-insensitive; ' +
      '`exclude_allergens` and `dietary` filter by what the dish holds as served (or can be made free of by removing removable ingredients).',
    tags,
    access: access.optional,
    query: listRecipesQuery,
    responses: {
      200: {
        description:
          `A page of recipes, by id. ${catalogReadNote} Signed in, the caller's saved preferences filter the page as if they were in the ` +
          'query (`applied_preferences` says which); such a page is `private, no-cache`.',
        schema: recipePageSchema,
      },
      304: { description: 'Not modified (If-None-Match)' },
    },
    handler: async ({ tenant, query, res, principal, staffRole }) => {
      const viewer = catalogViewer(principal, staffRole);
      const saved = principal !== undefined && recipes.menuQueryTakesPreferences(query) ? await deps.preferencesOf(tenant.id, principal.sub) : undefined;
      const filter = recipes.menuFilterFor(query, saved);
      const page = await recipes.listRecipes(api.deps.db, tenant.id, { ...query, excludeAllergens: filter.excludeAllergens, dietary: filter.dietary }, images);
      setCatalogCacheHeaders(res, viewer, { personalised: filter.applied !== null });
      // The recipes are JSON text as PostgreSQL built it; only the page's own fields are serialised here.
      return {
        status: 200,
        json: `{"data":${page.data},"next_cursor":${JSON.stringify(page.next_cursor)},"applied_preferences":${JSON.stringify(filter.applied)}}`,
      };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/recipes/{id}',
    summary: 'One active recipe with live price and availability',
    description: `With its ingredients, which of them can be removed and how much of each may be asked for. ${catalogReadNote}`,
    tags,
    access: access.optional,
    params: idParams,
    responses: {
      200: { description: 'The recipe', schema: recipeSchema },
      304: { description: 'Not modified (If-None-Match)' },
    },
    handler: async ({ tenant, params, res, principal, staffRole }) => {
      const viewer = catalogViewer(principal, staffRole);
      const recipe = await recipes.getRecipe(api.deps.db, tenant.id, params.id, images);
      setCatalogCacheHeaders(res, viewer);
      return { status: 200, json: recipe };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/recipes',
    summary: 'Create a recipe (manager)',
    description:
      "Its price is the sum of its ingredients' prices times their quantities, always computed, never stored. Every ingredient must be an active one of this restaurant.",
    tags,
    access: access.manager,
    body: createRecipeBody,
    responses: { 201: { description: 'The recipe with its computed price and availability', schema: recipeSchema } },
    errors: { conflict: 'An active recipe already has this name' },
    handler: async ({ tenant, body }) => {
      return { status: 201, json: await recipes.createRecipe(api.deps.db, tenant.id, body, images) };
    },
  });

  defineRoute(api, {
    method: 'patch',
    path: '/v1/recipes/{id}',
    summary: 'Change a recipe (manager); `ingredients` and `option_groups` each replace the whole set',
    description: 'Only the fields sent change. Orders already placed keep the names, prices and options they were placed with.',
    tags,
    access: access.manager,
    params: idParams,
    body: updateRecipeBody,
    responses: { 200: { description: 'The recipe as it now stands', schema: recipeSchema } },
    errors: { conflict: 'An active recipe already has this name' },
    handler: async ({ tenant, params, body }) => {
      return { status: 200, json: await recipes.updateRecipe(api.deps.db, tenant.id, params.id, body, images) };
    },
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/recipes/{id}',
    summary: 'Archive a recipe (manager): off the menu; orders keep their snapshots',
    description: 'It is no longer listed, readable or orderable; cart lines holding it show `available: false`.',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 204: { description: 'Archived' } },
    handler: async ({ tenant, params }) => {
      await recipes.archiveRecipe(api.deps.db, tenant.id, params.id);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'put',
    path: '/v1/recipes/{id}/image',
    summary: "Set the recipe's picture (manager)",
    description:
      'The body is the image itself (JPEG, PNG or WebP, up to 5 MB). It is decoded, turned upright, stripped of every bit of metadata ' +
      '(EXIF, GPS) and re-encoded as WebP in four sizes: the full picture (at most 2048 px) and the thumb, medium and large variants. ' +
      'A picture it replaces is deleted.',
    tags,
    access: access.manager,
    params: idParams,
    rawBody: {
      description: 'The picture, as a file',
      schema: z.string().openapi({ format: 'binary' }),
      upload: { mediaTypes: ACCEPTED_IMAGE_TYPES, maxBytes: MAX_IMAGE_BYTES },
    },
    responses: { 200: { description: 'The recipe, its `image` with the URLs of the new picture', schema: recipeSchema } },
    errors: { validation_failed: 'The body is not a readable image of the type its Content-Type names' },
    handler: async ({ tenant, params, req, log }) => {
      const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      // readUpload has already refused any other type (415); this narrows it for the compiler.
      if (!isAcceptedImageType(type) || req.rawBody === undefined) throw new Error('upload read without an accepted type');
      await setRecipeImage({ db: api.deps.db, media: api.deps.media, logger: log }, tenant.id, params.id, { body: req.rawBody, type });
      return { status: 200, json: await recipes.getRecipe(api.deps.db, tenant.id, params.id, images) };
    },
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/recipes/{id}/image',
    summary: "Remove the recipe's picture (manager)",
    description: 'The recipe shows `image: null` and the picture is deleted from the store. Removing a picture that is not there is no error.',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 204: { description: 'The recipe has no picture' } },
    handler: async ({ tenant, params, log }) => {
      await removeRecipeImage({ db: api.deps.db, media: api.deps.media, logger: log }, tenant.id, params.id);
      return { status: 204 };
    },
  });
}
