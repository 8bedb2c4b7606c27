import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import type { Allergen } from '../../lib/allergens.js';

/** What a menu needs to know of an ingredient, live: whether it can be used now, and what it contains. */
export interface IngredientFacts {
  ingredient_id: number;
  name: string;
  unit: string;
  /** Price of one unit of the ingredient, now. */
  price_cents: number;
  stock: number;
  /** The ingredient's own switch (the manager's or the kitchen's "86"). */
  available: boolean;
  archived: boolean;
  allergens: Allergen[];
}

/** One ingredient of a recipe as it stands now: the recipe's line plus the ingredient's live row. */
export interface RecipeIngredientLine extends IngredientFacts {
  /** Units in one portion (≥ 1). */
  quantity: number;
  removable: boolean;
  /** Most units a customer may ask for; null: no more than `quantity`. */
  max_quantity: number | null;
}

/** One ingredient an option adds to a portion. */
export interface OptionIngredientLine extends IngredientFacts {
  quantity: number;
}

export interface RecipeOption {
  id: number;
  name: string;
  /** Added to the line's unit price when chosen. */
  price_cents: number;
  default: boolean;
  /** Every ingredient of it switched on, not archived, and in stock for it plus the recipe's own need of it. */
  available: boolean;
  /** Ordered by ingredient id. */
  ingredients: OptionIngredientLine[];
}

export interface RecipeOptionGroup {
  id: number;
  name: string;
  min_select: number;
  max_select: number;
  /** In the manager's order. */
  options: RecipeOption[];
}

/** An active recipe with its price and availability computed from the current ingredient rows. */
export interface PricedRecipe {
  id: number;
  name: string;
  description: string;
  category: string;
  /** Σ price × quantity of the recipe's own lines; chosen options add their price on top. */
  price_cents: number;
  /** Every own line can be made, and every group with min_select ≥ 1 has that many available options. */
  available: boolean;
  /** Ordered by ingredient id. */
  ingredients: RecipeIngredientLine[];
  /** In the manager's order. */
  option_groups: RecipeOptionGroup[];
}

export interface StoredImage {
  id: string;
  width: number;
  height: number;
}

const INGREDIENT_FACTS = `'name', i.name, 'unit', i.unit, 'price_cents', i.price_cents, 'stock', i.stock, 'available', i.available,
           'archived', i.archived_at IS NOT NULL, 'allergens', i.allergens`;

// What can be served, written once for the statement that prices a cart (below) and the one that builds the
// menu (menu-repo.ts), so what a guest sees and what checkout accepts always agree.

/** The recipe's price from its own lines `ri` and their ingredients `i`: Σ price × quantity, in bigint so it cannot overflow. */
export const RECIPE_PRICE = 'coalesce(sum(i.price_cents::bigint * ri.quantity), 0)::bigint';

/** A recipe's own line `ri` of ingredient `i`: switched on, not archived, in stock for the line. */
export const RECIPE_LINE_USABLE = 'i.available AND i.archived_at IS NULL AND i.stock >= ri.quantity';

/** The recipe `r`'s own lines `ri` with their ingredients `i`. */
const RECIPE_LINES_FROM = `recipe_ingredients ri
    JOIN ingredients i ON i.restaurant_id = ri.restaurant_id AND i.id = ri.ingredient_id
   WHERE ri.restaurant_id = r.restaurant_id AND ri.recipe_id = r.id`;

/**
 * An ingredient `x` of an option: switched on, not archived, and in stock for the option plus what the
 * recipe's own line `ri` takes of it (an option sharing the patty with the recipe needs both).
 */
export const OPTION_INGREDIENT_USABLE = 'i.available AND i.archived_at IS NULL AND i.stock >= x.quantity + coalesce(ri.quantity, 0)';

/** The ingredients `x` of the option `o`, with their rows `i` and the recipe's own line `ri` of each, if any. */
export const OPTION_INGREDIENTS_FROM = `recipe_option_ingredients x
          JOIN ingredients i ON i.restaurant_id = x.restaurant_id AND i.id = x.ingredient_id
          LEFT JOIN recipe_ingredients ri ON ri.restaurant_id = x.restaurant_id AND ri.recipe_id = o.recipe_id AND ri.ingredient_id = x.ingredient_id
         WHERE x.restaurant_id = o.restaurant_id AND x.option_id = o.id`;

/**
 * The recipe's own lines in a lateral subquery: its price, whether every line can be served, the lines as JSON.
 */
const LIVE_RECIPE_LINES = `
  SELECT ${RECIPE_PRICE} AS price_cents,
         coalesce(bool_and(${RECIPE_LINE_USABLE}), false) AS available,
         coalesce(json_agg(json_build_object(
           'ingredient_id', ri.ingredient_id, 'quantity', ri.quantity, 'removable', ri.removable, 'max_quantity', ri.max_quantity,
           ${INGREDIENT_FACTS}
         ) ORDER BY ri.ingredient_id), '[]'::json) AS ingredients
    FROM ${RECIPE_LINES_FROM}`;

/**
 * The recipe `r`'s active option groups (in the manager's order) with their active options as JSON, and
 * whether each group has at least `min_select` available options (`available`). An option is available when
 * each of its ingredients can be served. `option` is what the JSON of an option `o` holds; `ingredients`
 * what the option's ingredients `x` (with their rows `i`) give it, as columns of `oi`.
 */
export const optionGroupsLateral = (option: string, ingredients: string) => `
  SELECT coalesce(json_agg(json_build_object(
           'id', g.id, 'name', g.name, 'min_select', g.min_select, 'max_select', g.max_select, 'options', go.options
         ) ORDER BY g.position, g.id), '[]'::json) AS option_groups,
         coalesce(bool_and(go.available_options >= g.min_select), true) AS available
    FROM recipe_option_groups g
   CROSS JOIN LATERAL (
     SELECT coalesce(json_agg(json_build_object(${option}) ORDER BY o.position, o.id), '[]'::json) AS options,
            count(*) FILTER (WHERE oi.available) AS available_options
       FROM recipe_options o
      CROSS JOIN LATERAL (
        SELECT coalesce(bool_and(${OPTION_INGREDIENT_USABLE}), true) AS available, ${ingredients}
          FROM ${OPTION_INGREDIENTS_FROM}
      ) AS oi
      WHERE o.restaurant_id = g.restaurant_id AND o.group_id = g.id AND o.archived_at IS NULL
   ) AS go
   WHERE g.restaurant_id = r.restaurant_id AND g.recipe_id = r.id AND g.archived_at IS NULL`;

/** The option groups with the live facts of every option's ingredients, for pricing. */
const LIVE_OPTION_GROUPS = optionGroupsLateral(
  `'id', o.id, 'name', o.name, 'price_cents', o.price_cents, 'default', o.is_default, 'available', oi.available, 'ingredients', oi.ingredients`,
  `coalesce(json_agg(json_build_object('ingredient_id', x.ingredient_id, 'quantity', x.quantity, ${INGREDIENT_FACTS}) ORDER BY x.ingredient_id), '[]'::json)
     AS ingredients`,
);

/**
 * Active recipes among `ids` with live prices and availability, each line with its ingredient's live facts
 * (price, stock, switch), in id order: one statement whatever the number of recipes. What a cart and
 * checkout price from; the menu's view is menu-repo.ts's.
 */
export async function selectPricedRecipes(db: Queryable, restaurantId: number, ids: readonly number[]): Promise<PricedRecipe[]> {
  if (ids.length === 0) return [];
  const rows: Array<Record<string, unknown>> = await pricedRecipesQuery(db, restaurantId, ids);
  return rows.map(toPricedRecipe);
}

/**
 * The statement `selectPricedRecipes` runs, unexecuted. Exported so the benchmark's baseline runs exactly
 * this SQL (`.toSQL()`) and cannot drift from checkout.
 */
export function pricedRecipesQuery(db: Queryable, restaurantId: number, ids: readonly number[]): Knex.QueryBuilder {
  return (
    db
      .select(
        'r.id',
        'r.name',
        'r.description',
        'r.category',
        't.price_cents',
        db.raw('(t.available AND og.available) AS available'),
        't.ingredients',
        'og.option_groups',
      )
      .from('recipes as r')
      .joinRaw(`CROSS JOIN LATERAL (${LIVE_RECIPE_LINES}) AS t`)
      .joinRaw(`CROSS JOIN LATERAL (${LIVE_OPTION_GROUPS}) AS og`)
      .where('r.restaurant_id', restaurantId)
      .whereNull('r.archived_at')
      .whereIn('r.id', [...ids])
      .orderBy('r.id', 'asc')
      // A named (prepared) statement: Postgres plans this one afresh each time otherwise, which costs as much
      // as running it. One name per number of ids, so one name is always one SQL text (pg requires it).
      // Behind PgBouncer in transaction mode this needs its max_prepared_statements (PgBouncer 1.21 and later).
      .options({ name: `priced_recipes_${ids.length}` })
  );
}

export interface RecipeLineRow {
  ingredient_id: number;
  quantity: number;
  removable: boolean;
  max_quantity: number | null;
}

export async function insertRecipe(db: Queryable, restaurantId: number, recipe: { name: string; description: string; category: string }): Promise<number> {
  const [row] = (await db('recipes')
    .insert({ restaurant_id: restaurantId, ...recipe })
    .returning('id')) as Array<{ id: unknown }>;
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

/** An active option group of a recipe with its active options, as a rewrite of the groups matches them. */
export interface StoredOptionGroup {
  id: number;
  name: string;
  options: Array<{ id: number; name: string }>;
}

/** The recipe's active groups and options, in their order (the recipe row is already locked by the caller's update). */
export async function selectStoredOptionGroups(db: Queryable, restaurantId: number, recipeId: number): Promise<StoredOptionGroup[]> {
  const groups = await db('recipe_option_groups')
    .select('id', 'name')
    .where({ restaurant_id: restaurantId, recipe_id: recipeId })
    .whereNull('archived_at')
    .orderBy(['position', 'id']);
  const options = await db('recipe_options')
    .select('id', 'group_id', 'name')
    .where({ restaurant_id: restaurantId, recipe_id: recipeId })
    .whereNull('archived_at')
    .orderBy(['position', 'id']);
  return groups.map((group) => ({
    id: Number(group.id),
    name: group.name,
    options: options.filter((option) => Number(option.group_id) === Number(group.id)).map((option) => ({ id: Number(option.id), name: option.name })),
  }));
}

export interface OptionGroupFields {
  name: string;
  min_select: number;
  max_select: number;
  position: number;
}

export async function insertOptionGroup(db: Queryable, restaurantId: number, recipeId: number, group: OptionGroupFields): Promise<number> {
  const [row] = await db('recipe_option_groups')
    .insert({ restaurant_id: restaurantId, recipe_id: recipeId, ...group })
    .returning('id');
  if (row === undefined) throw new Error('insert into recipe_option_groups returned no row');
  return Number(row.id);
}

export async function updateOptionGroup(db: Queryable, restaurantId: number, id: number, group: OptionGroupFields): Promise<void> {
  await db('recipe_option_groups').update(group).where({ restaurant_id: restaurantId, id });
}

export interface OptionFields {
  name: string;
  price_cents: number;
  is_default: boolean;
  position: number;
}

export async function insertOption(db: Queryable, restaurantId: number, recipeId: number, groupId: number, option: OptionFields): Promise<number> {
  const [row] = await db('recipe_options')
    .insert({ restaurant_id: restaurantId, recipe_id: recipeId, group_id: groupId, ...option })
    .returning('id');
  if (row === undefined) throw new Error('insert into recipe_options returned no row');
  return Number(row.id);
}

export async function updateOption(db: Queryable, restaurantId: number, id: number, option: OptionFields): Promise<void> {
  await db('recipe_options').update(option).where({ restaurant_id: restaurantId, id });
}

export async function replaceOptionIngredients(
  db: Queryable,
  restaurantId: number,
  optionId: number,
  lines: ReadonlyArray<{ ingredient_id: number; quantity: number }>,
): Promise<void> {
  await db('recipe_option_ingredients').where({ restaurant_id: restaurantId, option_id: optionId }).delete();
  if (lines.length === 0) return;
  await db('recipe_option_ingredients').insert(lines.map((line) => ({ restaurant_id: restaurantId, option_id: optionId, ...line })));
}

/**
 * Archives the recipe's active groups and options not kept. Archived, not deleted: cart lines and order
 * snapshots still point at them (a cart line holding one is no longer orderable; a reorder skips it).
 */
export async function archiveOptionsNotIn(
  db: Queryable,
  restaurantId: number,
  recipeId: number,
  keep: { groupIds: readonly number[]; optionIds: readonly number[] },
): Promise<void> {
  await db('recipe_options')
    .update({ archived_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, recipe_id: recipeId })
    .whereNull('archived_at')
    .whereNotIn('id', [...keep.optionIds]);
  await db('recipe_option_groups')
    .update({ archived_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, recipe_id: recipeId })
    .whereNull('archived_at')
    .whereNotIn('id', [...keep.groupIds]);
}

/** An option found by id, active or archived, with where it belongs. */
export interface OptionOwner {
  id: number;
  name: string;
  price_cents: number;
  group_id: number;
  recipe_id: number;
  recipe_name: string;
  /** The option or its group was taken off the recipe. */
  archived: boolean;
}

export async function selectOptionOwners(db: Queryable, restaurantId: number, ids: readonly number[]): Promise<OptionOwner[]> {
  if (ids.length === 0) return [];
  const rows = await db('recipe_options as o')
    .select(
      'o.id',
      'o.name',
      'o.price_cents',
      'o.group_id',
      'o.recipe_id',
      'r.name as recipe_name',
      db.raw('(o.archived_at IS NOT NULL OR g.archived_at IS NOT NULL) AS archived'),
    )
    .join('recipe_option_groups as g', function joinGroup() {
      this.on('g.restaurant_id', '=', 'o.restaurant_id').andOn('g.id', '=', 'o.group_id');
    })
    .join('recipes as r', function joinRecipe() {
      this.on('r.restaurant_id', '=', 'o.restaurant_id').andOn('r.id', '=', 'o.recipe_id');
    })
    .where('o.restaurant_id', restaurantId)
    .whereIn('o.id', [...ids]);
  return rows.map((row: Record<string, unknown>) => ({
    id: Number(row.id),
    name: String(row.name),
    price_cents: Number(row.price_cents),
    group_id: Number(row.group_id),
    recipe_id: Number(row.recipe_id),
    recipe_name: String(row.recipe_name),
    archived: row.archived === true,
  }));
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
    .whereIn('id', [...new Set(ids)])
    .whereNull('archived_at')
    .orderBy('id')
    .forShare();
  return new Set(rows.map((row) => Number(row.id)));
}

/** Active recipes with this ingredient in them, in their own lines or in an active option, by id. */
export async function selectActiveRecipesUsingIngredient(
  db: Queryable,
  restaurantId: number,
  ingredientId: number,
): Promise<Array<{ id: number; name: string }>> {
  const rows: Array<{ id: unknown; name: unknown }> = await db('recipes as r')
    .select('r.id', 'r.name')
    .where('r.restaurant_id', restaurantId)
    .whereNull('r.archived_at')
    .where((where) => {
      where
        .whereExists(function ownLine() {
          this.select(db.raw('1'))
            .from('recipe_ingredients as ri')
            .whereRaw('ri.restaurant_id = r.restaurant_id AND ri.recipe_id = r.id AND ri.ingredient_id = ?', [ingredientId]);
        })
        .orWhereExists(function optionLine() {
          this.select(db.raw('1'))
            .from('recipe_options as o')
            .join('recipe_option_groups as g', function joinGroup() {
              this.on('g.restaurant_id', '=', 'o.restaurant_id').andOn('g.id', '=', 'o.group_id');
            })
            .join('recipe_option_ingredients as x', function joinLines() {
              this.on('x.restaurant_id', '=', 'o.restaurant_id').andOn('x.option_id', '=', 'o.id');
            })
            .whereRaw('o.restaurant_id = r.restaurant_id AND o.recipe_id = r.id AND o.archived_at IS NULL AND g.archived_at IS NULL AND x.ingredient_id = ?', [
              ingredientId,
            ]);
        });
    })
    .orderBy('r.id');
  return rows.map((row) => ({ id: Number(row.id), name: String(row.name) }));
}

type Json = Record<string, unknown>;

const parseJson = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

function toFacts(line: Json): IngredientFacts {
  return {
    ingredient_id: Number(line.ingredient_id),
    name: String(line.name),
    unit: String(line.unit),
    price_cents: Number(line.price_cents),
    stock: Number(line.stock),
    available: Boolean(line.available),
    archived: Boolean(line.archived),
    // The column's CHECK admits only the EU names.
    allergens: (line.allergens ?? []) as Allergen[],
  };
}

function toPricedRecipe(row: Record<string, unknown>): PricedRecipe {
  const lines = parseJson(row.ingredients) as Json[];
  const groups = parseJson(row.option_groups) as Json[];
  const ingredients = lines.map((line) => ({
    ...toFacts(line),
    quantity: Number(line.quantity),
    removable: Boolean(line.removable),
    max_quantity: line.max_quantity === null || line.max_quantity === undefined ? null : Number(line.max_quantity),
  }));
  const optionGroups = groups.map((group) => ({
    id: Number(group.id),
    name: String(group.name),
    min_select: Number(group.min_select),
    max_select: Number(group.max_select),
    options: (group.options as Json[]).map((option) => ({
      id: Number(option.id),
      name: String(option.name),
      price_cents: Number(option.price_cents),
      default: Boolean(option.default),
      available: Boolean(option.available),
      ingredients: (option.ingredients as Json[]).map((line) => ({ ...toFacts(line), quantity: Number(line.quantity) })),
    })),
  }));
  return {
    id: Number(row.id),
    name: String(row.name),
    description: String(row.description),
    category: String(row.category),
    price_cents: Number(row.price_cents),
    available: Boolean(row.available),
    ingredients,
    option_groups: optionGroups,
  };
}

/**
 * Points the recipe at a new picture (or none) and answers the one it replaces; in the caller's transaction,
 * the row locked first so two uploads at once each learn what they replaced. `undefined`: no such active recipe.
 */
export async function replaceRecipeImage(
  trx: Knex.Transaction,
  restaurantId: number,
  recipeId: number,
  image: StoredImage | null,
): Promise<{ previous: string | null } | undefined> {
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
