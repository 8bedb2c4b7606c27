import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { catalogReadNote, catalogViewer, setCatalogCacheHeaders } from './catalog-http.js';
import { idParams } from '../../http/params.js';
import { createRecipeBody, listRecipesQuery, recipePageSchema, recipeSchema, updateRecipeBody } from './recipes-schemas.js';
import * as recipes from './recipes-service.js';
import type { MenuPreferences } from '../../lib/allergens.js';

const tags = ['recipes'];

export interface RecipeRouteDeps {
  /** The signed-in user's saved menu preferences in a restaurant (the customers module's, given at composition). */
  preferencesOf: (restaurantId: number, userSub: string) => Promise<MenuPreferences | undefined>;
}

export function registerRecipeRoutes(api: ApiRouter, deps: RecipeRouteDeps): void {
  defineRoute(api, {
    method: 'get',
    path: '/v1/recipes',
    summary: 'The menu: active recipes with live price and availability, filtered by allergens and diets',
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
      const page = await recipes.listRecipes(api.deps.db, tenant.id, { ...query, excludeAllergens: filter.excludeAllergens, dietary: filter.dietary });
      setCatalogCacheHeaders(res, viewer, { personalised: filter.applied !== null });
      return {
        status: 200,
        body: { data: page.data.map((recipe) => recipes.recipeView(recipe, filter.excludeAllergens)), next_cursor: page.next_cursor, applied_preferences: filter.applied },
      };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/recipes/{id}',
    summary: 'One active recipe with live price and availability',
    tags,
    access: access.optional,
    params: idParams,
    responses: {
      200: { description: `The recipe. ${catalogReadNote}`, schema: recipeSchema },
      304: { description: 'Not modified (If-None-Match)' },
    },
    handler: async ({ tenant, params, res, principal, staffRole }) => {
      const viewer = catalogViewer(principal, staffRole);
      const recipe = await recipes.getRecipe(api.deps.db, tenant.id, params.id);
      setCatalogCacheHeaders(res, viewer);
      return { status: 200, body: recipes.recipeView(recipe) };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/recipes',
    summary: 'Create a recipe (manager)',
    tags,
    access: access.manager,
    body: createRecipeBody,
    responses: {
      201: { description: 'The recipe with its computed price and availability', schema: recipeSchema },
      409: { description: 'An active recipe already has this name (conflict)' },
    },
    handler: async ({ tenant, body }) => {
      const recipe = await recipes.createRecipe(api.deps.db, tenant.id, body);
      return { status: 201, body: recipes.recipeView(recipe) };
    },
  });

  defineRoute(api, {
    method: 'patch',
    path: '/v1/recipes/{id}',
    summary: 'Change a recipe (manager); `ingredients` and `option_groups` each replace the whole set',
    tags,
    access: access.manager,
    params: idParams,
    body: updateRecipeBody,
    responses: {
      200: { description: 'The recipe as it now stands', schema: recipeSchema },
      409: { description: 'An active recipe already has this name (conflict)' },
    },
    handler: async ({ tenant, params, body }) => {
      const recipe = await recipes.updateRecipe(api.deps.db, tenant.id, params.id, body);
      return { status: 200, body: recipes.recipeView(recipe) };
    },
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/recipes/{id}',
    summary: 'Archive a recipe (manager): off the menu; orders keep their snapshots',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 204: { description: 'Archived' } },
    handler: async ({ tenant, params }) => {
      await recipes.archiveRecipe(api.deps.db, tenant.id, params.id);
      return { status: 204 };
    },
  });
}
