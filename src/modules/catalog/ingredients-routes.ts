import { AppError } from '../../http/errors.js';
import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { idParams } from '../../http/params.js';
import type { Clock } from '../../lib/clock.js';
import { catalogReadNote, catalogViewer, isStaff, setCatalogCacheHeaders } from './catalog-http.js';
import {
  createAdjustmentBody,
  createIngredientBody,
  ingredientPageSchema,
  ingredientSchema,
  kitchenIngredientFields,
  listIngredientsQuery,
  listMovementsQuery,
  movementPageSchema,
  movementSchema,
  updateIngredientBody,
} from './ingredients-schemas.js';
import * as ingredients from './ingredients-service.js';
import * as stock from './stock-service.js';

const tags = ['ingredients'];

export function registerIngredientRoutes(api: ApiRouter, clock: Clock): void {
  defineRoute(api, {
    method: 'get',
    path: '/v1/ingredients',
    summary: 'List active ingredients (stock figures for staff only)',
    description: `Anyone may list them; staff see \`stock\` and \`low_stock_threshold\` too, and may filter with \`low_stock=true\`. ${catalogReadNote}`,
    tags,
    access: access.optional,
    query: listIngredientsQuery,
    responses: {
      200: { description: 'A page of ingredients, by id', schema: ingredientPageSchema },
      304: { description: 'Not modified (If-None-Match)' },
    },
    errors: { unauthenticated: '`low_stock` without a token, or a token that is not valid', forbidden: '`low_stock` from someone who is not staff here' },
    handler: async ({ tenant, query, res, principal, staffRole }) => {
      const viewer = catalogViewer(principal, staffRole);
      if (query.low_stock !== undefined && !isStaff(viewer)) {
        if (viewer.kind === 'anonymous') {
          throw new AppError('unauthenticated', 401, 'low_stock is for staff: send a staff access token', undefined, { 'WWW-Authenticate': 'Bearer' });
        }
        throw new AppError('forbidden', 403, 'low_stock needs a staff role in this restaurant');
      }
      const page = await ingredients.listIngredients(api.deps.db, tenant.id, { limit: query.limit, cursor: query.cursor, lowStock: query.low_stock });
      const view = isStaff(viewer) ? ingredients.staffIngredient : ingredients.publicIngredient;
      setCatalogCacheHeaders(res, viewer);
      return { status: 200, body: { data: page.data.map(view), next_cursor: page.next_cursor } };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/ingredients/{id}',
    summary: 'One active ingredient (stock figures for staff only)',
    description: `An archived ingredient is 404. ${catalogReadNote}`,
    tags,
    access: access.optional,
    params: idParams,
    responses: {
      200: { description: 'The ingredient', schema: ingredientSchema },
      304: { description: 'Not modified (If-None-Match)' },
    },
    handler: async ({ tenant, params, res, principal, staffRole }) => {
      const viewer = catalogViewer(principal, staffRole);
      const row = await ingredients.getIngredient(api.deps.db, tenant.id, params.id);
      setCatalogCacheHeaders(res, viewer);
      return { status: 200, body: isStaff(viewer) ? ingredients.staffIngredient(row) : ingredients.publicIngredient(row) };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/ingredients',
    summary: 'Create an ingredient (manager)',
    description: 'Names are unique among active ingredients. The starting stock is written to the ledger as a `restock` row.',
    tags,
    access: access.manager,
    body: createIngredientBody,
    responses: { 201: { description: 'The ingredient, staff view', schema: ingredientSchema } },
    errors: { conflict: 'An active ingredient already has this name' },
    handler: async ({ tenant, principal, body }) => {
      const row = await ingredients.createIngredient(api.deps.db, tenant.id, principal.sub, body);
      return { status: 201, body: ingredients.staffIngredient(row) };
    },
  });

  defineRoute(api, {
    method: 'patch',
    path: '/v1/ingredients/{id}',
    summary: 'Change an ingredient (manager), or switch it off and on ("86", kitchen too); stock changes go through adjustments',
    description:
      'Only the fields sent change. `available: false` takes every recipe and option using it off the orderable menu at once; with ' +
      '`unavailable_until` (an instant, or "end_of_day") it comes back by itself then. The kitchen role may send only `available` and `unavailable_until`.',
    tags,
    access: access.staff,
    params: idParams,
    body: updateIngredientBody,
    responses: { 200: { description: 'The ingredient, staff view', schema: ingredientSchema } },
    errors: {
      validation_failed: 'Invalid input, including a return time (`unavailable_until`) already past',
      forbidden: 'The kitchen role sent a field other than `available` and `unavailable_until`',
      conflict: 'An active ingredient already has this name',
    },
    handler: async ({ tenant, params, body, staffRole }) => {
      const managerOnly = Object.keys(body).filter((field) => !(kitchenIngredientFields as readonly string[]).includes(field));
      if (staffRole !== 'manager' && managerOnly.length > 0) {
        throw new AppError('forbidden', 403, `The kitchen may switch an ingredient off and on; ${managerOnly.join(', ')} needs the manager role`);
      }
      const row = await ingredients.updateIngredient(api.deps.db, tenant, params.id, body, clock());
      return { status: 200, body: ingredients.staffIngredient(row) };
    },
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/ingredients/{id}',
    summary: 'Archive an ingredient (manager)',
    description: 'Refused while an active recipe uses it (`errors` names them, path `recipes.<id>`): change or archive those recipes first.',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 204: { description: 'Archived: no longer listed or readable' } },
    errors: { conflict: 'Active recipes use it; `errors` names them, path `recipes.<id>`' },
    handler: async ({ tenant, params }) => {
      await ingredients.archiveIngredient(api.deps.db, tenant.id, params.id);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/ingredients/{id}/adjustments',
    summary: 'Adjust the stock of an ingredient (staff)',
    description:
      'Adds `delta` (negative for waste) to the stock and writes a ledger row, atomically: concurrent adjustments and orders never lose one another.',
    tags,
    access: access.staff,
    params: idParams,
    body: createAdjustmentBody,
    responses: { 201: { description: 'The ledger row written', schema: movementSchema } },
    errors: { insufficient_stock: 'The stock would go below 0; nothing changes', conflict: 'The stock would pass its maximum' },
    handler: async ({ tenant, principal, params, body }) => {
      const movement = await stock.adjustStock(api.deps.db, tenant.id, params.id, principal.sub, body);
      return { status: 201, body: movement };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/ingredients/{id}/adjustments',
    summary: 'The stock ledger of an ingredient, newest first (staff)',
    description: 'Every stock change with its reason, who or which order made it, and the stock after it.',
    tags,
    access: access.staff,
    params: idParams,
    query: listMovementsQuery,
    responses: {
      200: { description: 'A page of ledger rows, manual adjustments and order reservations/releases alike', schema: movementPageSchema },
    },
    handler: async ({ tenant, params, query, res }) => {
      const page = await ingredients.listMovements(api.deps.db, tenant.id, params.id, { limit: query.limit, cursor: query.cursor });
      res.set('Cache-Control', 'private, no-store');
      return { status: 200, body: page };
    },
  });
}
