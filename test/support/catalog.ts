import type { Express } from 'express';
import type { Knex } from 'knex';
import request from 'supertest';
import type { SignedInUser } from './users.js';

/**
 * Calls to one restaurant's API, as a given user or anonymously: the restaurant is chosen with
 * X-Restaurant-Domain as a frontend behind a shared API host would.
 */
export function catalogClient(app: Express, domain: string) {
  const withAuth = (req: request.Test, user: SignedInUser | undefined) => {
    req.set('X-Restaurant-Domain', domain);
    return user === undefined ? req : req.set('Authorization', user.auth);
  };
  return {
    get: (url: string, user?: SignedInUser) => withAuth(request(app).get(url), user),
    post: (url: string, body: unknown, user?: SignedInUser) => withAuth(request(app).post(url), user).send(body as object),
    patch: (url: string, body: unknown, user?: SignedInUser) => withAuth(request(app).patch(url), user).send(body as object),
    put: (url: string, body: unknown, user?: SignedInUser) => withAuth(request(app).put(url), user).send(body as object),
    delete: (url: string, user?: SignedInUser) => withAuth(request(app).delete(url), user),
  };
}

export type CatalogClient = ReturnType<typeof catalogClient>;

/** The problem body of an error response, checked for the envelope of API.md. */
export function problem(res: request.Response, status: number, code: string): { detail: string; errors?: Array<{ path: string; message: string }> } {
  if (res.status !== status) throw new Error(`expected ${status} ${code}, got ${res.status}: ${res.text}`);
  if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) throw new Error(`not problem+json: ${res.headers['content-type']}`);
  const body = JSON.parse(res.text) as { code: string; detail: string; errors?: Array<{ path: string; message: string }> };
  if (body.code !== code) throw new Error(`expected code ${code}, got ${body.code}: ${res.text}`);
  return body;
}

let sequence = 0;

/** An ingredient row straight into the database (for bulk fixtures; API tests create theirs through the API). */
export async function insertIngredientRow(
  knex: Knex,
  restaurantId: number,
  overrides: { name?: string; price_cents?: number; stock?: number; unit?: string; available?: boolean; low_stock_threshold?: number } = {},
): Promise<number> {
  sequence += 1;
  const [row] = (await knex('ingredients')
    .insert({
      restaurant_id: restaurantId,
      name: overrides.name ?? `Ingredient ${sequence}`,
      unit: overrides.unit ?? 'piece',
      price_cents: overrides.price_cents ?? 100,
      stock: overrides.stock ?? 100,
      available: overrides.available ?? true,
      low_stock_threshold: overrides.low_stock_threshold ?? 0,
    })
    .returning('id')) as Array<{ id: unknown }>;
  return Number(row?.id);
}

/** Recipes straight into the database, each with the given lines. Returns their ids in order. */
export async function insertRecipeRows(
  knex: Knex,
  restaurantId: number,
  recipes: Array<{ name: string; description?: string; category?: string; lines: Array<{ ingredient_id: number; quantity: number }> }>,
): Promise<number[]> {
  if (recipes.length === 0) return [];
  const rows = (await knex('recipes')
    .insert(
      recipes.map((recipe) => ({ restaurant_id: restaurantId, name: recipe.name, description: recipe.description ?? '', category: recipe.category ?? '' })),
    )
    .returning('id')) as Array<{ id: unknown }>;
  const ids = rows.map((row) => Number(row.id));
  await knex('recipe_ingredients').insert(
    recipes.flatMap((recipe, index) => recipe.lines.map((line) => ({ restaurant_id: restaurantId, recipe_id: ids[index], ...line }))),
  );
  return ids;
}

/** A placed order's ledger row as checkout writes it (the order itself is a bare row). */
export async function insertOrderReservation(knex: Knex, restaurantId: number, ingredientId: number, quantity: number): Promise<number> {
  sequence += 1;
  const [customer] = (await knex('customers')
    .insert({ restaurant_id: restaurantId, user_sub: `ledger-test-${sequence}-${Date.now()}` })
    .returning('id')) as Array<{ id: unknown }>;
  const [order] = (await knex('orders')
    .insert({ restaurant_id: restaurantId, customer_id: Number(customer?.id), payment_method: 'cash', fulfillment: 'pickup', currency: 'EUR', total_cents: 0 })
    .returning('id')) as Array<{ id: unknown }>;
  const orderId = Number(order?.id);
  const [updated] = (await knex('ingredients')
    .where({ restaurant_id: restaurantId, id: ingredientId })
    .decrement('stock', quantity)
    .returning('stock')) as Array<{ stock: unknown }>;
  await knex('inventory_movements').insert({
    restaurant_id: restaurantId,
    ingredient_id: ingredientId,
    delta: -quantity,
    reason: 'order_reserved',
    stock_after: Number(updated?.stock),
    order_id: orderId,
  });
  return orderId;
}
