import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';

/** One ingredient of a recipe as it stands now: the recipe's line plus the ingredient's live row. */
export interface RecipeIngredientLine {
  ingredient_id: number;
  name: string;
  unit: string;
  /** Units in one portion (≥ 1). */
  quantity: number;
  removable: boolean;
  /** Most units a customer may ask for; null: no more than `quantity`. */
  max_quantity: number | null;
  /** Price of one unit of the ingredient, now. */
  price_cents: number;
  stock: number;
  /** The ingredient's own switch (the manager's). */
  available: boolean;
  archived: boolean;
}

/** An active recipe with its price and availability computed from the current ingredient rows. */
export interface PricedRecipe {
  id: number;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  available: boolean;
  max_orderable: number;
  /** Ordered by ingredient id. */
  ingredients: RecipeIngredientLine[];
  /** The picture's upload id and full size; its objects are named from the id (catalog/recipe-images.ts). */
  image: StoredImage | null;
}

export interface StoredImage {
  id: string;
  width: number;
  height: number;
}

export interface RecipeFilter {
  afterId?: number | undefined;
  ids?: readonly number[] | undefined;
  category?: string | undefined;
  /** A LIKE pattern, already escaped and wrapped in `%`. */
  searchPattern?: string | undefined;
  available?: boolean | undefined;
  limit?: number | undefined;
}

/**
 * Everything a menu shows of a recipe, per recipe, in the lateral subquery: price = Σ price × quantity,
 * available = every line switched on, not archived, with stock ≥ quantity; max_orderable = the smallest
 * floor(stock / quantity) when available; the lines as JSON. Prices are multiplied in bigint so a large
 * price × quantity cannot overflow integer.
 */
const LIVE_RECIPE_LINES = `
  SELECT coalesce(sum(i.price_cents::bigint * ri.quantity), 0)::bigint AS price_cents,
         coalesce(bool_and(i.available AND i.archived_at IS NULL AND i.stock >= ri.quantity), false) AS available,
         CASE WHEN coalesce(bool_and(i.available AND i.archived_at IS NULL AND i.stock >= ri.quantity), false)
              THEN min(i.stock / ri.quantity) ELSE 0 END AS max_orderable,
         coalesce(json_agg(json_build_object(
           'ingredient_id', ri.ingredient_id,
           'name', i.name,
           'unit', i.unit,
           'quantity', ri.quantity,
           'removable', ri.removable,
           'max_quantity', ri.max_quantity,
           'price_cents', i.price_cents,
           'stock', i.stock,
           'available', i.available,
           'archived', i.archived_at IS NOT NULL
         ) ORDER BY ri.ingredient_id), '[]'::json) AS ingredients
    FROM recipe_ingredients ri
    JOIN ingredients i ON i.restaurant_id = ri.restaurant_id AND i.id = ri.ingredient_id
   WHERE ri.restaurant_id = r.restaurant_id AND ri.recipe_id = r.id`;

/**
 * Active recipes with live prices and availability, in id order: one statement whatever the number of
 * recipes (no query per recipe). Filters, including availability, are in the WHERE, so a page of N is
 * N matching recipes (the scan continues past non-matching ones) and keyset pages are never short.
 */
export async function selectPricedRecipes(db: Queryable, restaurantId: number, filter: RecipeFilter): Promise<PricedRecipe[]> {
  if (filter.ids !== undefined && filter.ids.length === 0) return [];
  const rows: Array<Record<string, unknown>> = await pricedRecipesQuery(db, restaurantId, filter);
  return rows.map(toPricedRecipe);
}

/**
 * The statement `selectPricedRecipes` runs, unexecuted. Exported so the benchmark's baseline runs exactly
 * this SQL (`.toSQL()`) and cannot drift from the menu page.
 */
export function pricedRecipesQuery(db: Queryable, restaurantId: number, filter: RecipeFilter): Knex.QueryBuilder {
  const query = db
    .select('r.id', 'r.name', 'r.description', 'r.category', 'r.image_id', 'r.image_width', 'r.image_height', 't.price_cents', 't.available', 't.max_orderable', 't.ingredients')
    .from('recipes as r')
    .joinRaw(`CROSS JOIN LATERAL (${LIVE_RECIPE_LINES}) AS t`)
    .where('r.restaurant_id', restaurantId)
    .whereNull('r.archived_at')
    .orderBy('r.id', 'asc');
  if (filter.afterId !== undefined) query.where('r.id', '>', filter.afterId);
  if (filter.ids !== undefined) query.whereIn('r.id', [...filter.ids]);
  if (filter.category !== undefined) query.where('r.category', filter.category);
  // The same expression as the trigram index recipes_search_trgm, so the index can serve it.
  if (filter.searchPattern !== undefined) query.whereRaw(`lower(r.name || ' ' || r.description) LIKE lower(?) ESCAPE '\\'`, [filter.searchPattern]);
  if (filter.available !== undefined) query.where('t.available', filter.available);
  if (filter.limit !== undefined) query.limit(filter.limit);
  // A named (prepared) statement: Postgres plans this one afresh each time otherwise, which costs as much as
  // running it. The name says which filters are set, so one name is always one SQL text (pg requires it).
  // Behind PgBouncer in transaction mode this needs its max_prepared_statements (PgBouncer 1.21 and later).
  const shape = [filter.afterId, filter.category, filter.searchPattern, filter.available, filter.limit].map((v) => (v === undefined ? '0' : '1')).join('');
  return query.options({ name: `priced_recipes_${shape}_${filter.ids?.length ?? 'all'}` });
}

export interface RecipeLineRow {
  ingredient_id: number;
  quantity: number;
  removable: boolean;
  max_quantity: number | null;
}

export async function insertRecipe(db: Queryable, restaurantId: number, recipe: { name: string; description: string; category: string }): Promise<number> {
  const [row] = (await db('recipes').insert({ restaurant_id: restaurantId, ...recipe }).returning('id')) as Array<{ id: unknown }>;
  if (row === undefined) throw new Error('insert into recipes returned no row');
  return Number(row.id);
}

/** Updates the given fields (and updated_at); false when there is no such active recipe. Locks the row either way it exists. */
export async function updateRecipe(
  db: Queryable,
  restaurantId: number,
  id: number,
  changes: { name?: string; description?: string; category?: string },
): Promise<boolean> {
  const rows: unknown[] = await db('recipes')
    .update({ ...changes, updated_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .returning('id');
  return rows.length > 0;
}

export async function archiveRecipe(db: Queryable, restaurantId: number, id: number): Promise<boolean> {
  const rows: unknown[] = await db('recipes')
    .update({ archived_at: db.fn.now(), updated_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .returning('id');
  return rows.length > 0;
}

export async function replaceRecipeLines(db: Queryable, restaurantId: number, recipeId: number, lines: readonly RecipeLineRow[]): Promise<void> {
  await db('recipe_ingredients').where({ restaurant_id: restaurantId, recipe_id: recipeId }).delete();
  if (lines.length === 0) return;
  await db('recipe_ingredients').insert(lines.map((line) => ({ restaurant_id: restaurantId, recipe_id: recipeId, ...line })));
}

/**
 * Which of these ingredient ids are active ingredients of the restaurant, locked `FOR SHARE` in id order
 * until the transaction ends: an ingredient cannot be archived under a recipe being written.
 */
export async function lockActiveIngredientIds(db: Queryable, restaurantId: number, ids: readonly number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows: Array<{ id: unknown }> = await db('ingredients')
    .select('id')
    .where('restaurant_id', restaurantId)
    .whereIn('id', [...ids])
    .whereNull('archived_at')
    .orderBy('id')
    .forShare();
  return new Set(rows.map((row) => Number(row.id)));
}

/** Active recipes with this ingredient in them, by id. */
export async function selectActiveRecipesUsingIngredient(db: Queryable, restaurantId: number, ingredientId: number): Promise<Array<{ id: number; name: string }>> {
  const rows: Array<{ id: unknown; name: unknown }> = await db('recipes as r')
    .select('r.id', 'r.name')
    .join('recipe_ingredients as ri', function joinLines() {
      this.on('ri.restaurant_id', '=', 'r.restaurant_id').andOn('ri.recipe_id', '=', 'r.id');
    })
    .where({ 'r.restaurant_id': restaurantId, 'ri.ingredient_id': ingredientId })
    .whereNull('r.archived_at')
    .orderBy('r.id');
  return rows.map((row) => ({ id: Number(row.id), name: String(row.name) }));
}

function toPricedRecipe(row: Record<string, unknown>): PricedRecipe {
  const lines = (typeof row['ingredients'] === 'string' ? JSON.parse(row['ingredients']) : row['ingredients']) as Array<Record<string, unknown>>;
  return {
    id: Number(row['id']),
    name: String(row['name']),
    description: String(row['description']),
    category: String(row['category']),
    price_cents: Number(row['price_cents']),
    available: Boolean(row['available']),
    max_orderable: Number(row['max_orderable']),
    image: typeof row['image_id'] === 'string' ? { id: row['image_id'], width: Number(row['image_width']), height: Number(row['image_height']) } : null,
    ingredients: lines.map((line) => ({
      ingredient_id: Number(line['ingredient_id']),
      name: String(line['name']),
      unit: String(line['unit']),
      quantity: Number(line['quantity']),
      removable: Boolean(line['removable']),
      max_quantity: line['max_quantity'] === null || line['max_quantity'] === undefined ? null : Number(line['max_quantity']),
      price_cents: Number(line['price_cents']),
      stock: Number(line['stock']),
      available: Boolean(line['available']),
      archived: Boolean(line['archived']),
    })),
  };
}

/**
 * Points the recipe at a new picture (or none) and answers the one it replaces; in the caller's transaction,
 * the row locked first so two uploads at once each learn what they replaced. `undefined`: no such active recipe.
 */
export async function replaceRecipeImage(trx: Knex.Transaction, restaurantId: number, recipeId: number, image: StoredImage | null): Promise<{ previous: string | null } | undefined> {
  const row: { image_id: string | null } | undefined = await trx('recipes')
    .first('image_id')
    .where({ restaurant_id: restaurantId, id: recipeId })
    .whereNull('archived_at')
    .forUpdate();
  if (row === undefined) return undefined;
  await trx('recipes')
    .update({ image_id: image?.id ?? null, image_width: image?.width ?? null, image_height: image?.height ?? null, updated_at: trx.fn.now() })
    .where({ restaurant_id: restaurantId, id: recipeId });
  return { previous: row.image_id };
}

export async function activeRecipeExists(db: Queryable, restaurantId: number, recipeId: number): Promise<boolean> {
  const row = await db('recipes').first('id').where({ restaurant_id: restaurantId, id: recipeId }).whereNull('archived_at');
  return row !== undefined;
}
