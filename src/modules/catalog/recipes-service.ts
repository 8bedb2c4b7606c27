import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { sqlState, withTransaction } from '../../db/transaction.js';
import { conflict, notFound, validationFailed, type FieldError } from '../../lib/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
import * as repo from './recipes-repo.js';
import { recipeImageView, type MediaUrls, type RecipeImageView } from './recipe-images.js';

export type { PricedRecipe, RecipeIngredientLine } from './recipes-repo.js';

/** A recipe as the API shows it (API.md "Recipes"): the lines without stock figures or flags. */
export interface RecipeView {
  id: number;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  available: boolean;
  max_orderable: number;
  ingredients: Array<{ ingredient_id: number; name: string; unit: string; quantity: number; removable: boolean; max_quantity: number | null; price_cents: number }>;
  image: RecipeImageView | null;
}

export function recipeView(recipe: repo.PricedRecipe, media: MediaUrls): RecipeView {
  return {
    id: recipe.id,
    name: recipe.name,
    description: recipe.description,
    category: recipe.category,
    price_cents: recipe.price_cents,
    available: recipe.available,
    max_orderable: recipe.max_orderable,
    image: recipeImageView(recipe.image, media),
    ingredients: recipe.ingredients.map((line) => ({
      ingredient_id: line.ingredient_id,
      name: line.name,
      unit: line.unit,
      quantity: line.quantity,
      removable: line.removable,
      max_quantity: line.max_quantity,
      price_cents: line.price_cents,
    })),
  };
}

export interface ListRecipesOptions {
  limit: number;
  cursor?: string | undefined;
  search?: string | undefined;
  category?: string | undefined;
  available?: boolean | undefined;
}

/** A page of the menu, keyset on id (new recipes land on later pages), prices and availability live. One query. */
export async function listRecipes(db: Queryable, restaurantId: number, options: ListRecipesOptions): Promise<Page<repo.PricedRecipe>> {
  const after = decodeCursor(options.cursor, ['number']);
  const search = options.search?.trim();
  const rows = await repo.selectPricedRecipes(db, restaurantId, {
    afterId: after === undefined ? undefined : Number(after[0]),
    category: options.category === undefined || options.category === '' ? undefined : options.category,
    searchPattern: search === undefined || search === '' ? undefined : `%${escapeLike(search)}%`,
    available: options.available,
    limit: options.limit + 1,
  });
  return pageFrom(rows, options.limit, (row) => [row.id], (row) => row);
}

/** An active recipe of this restaurant with live price and availability, else 404. */
export async function getRecipe(db: Queryable, restaurantId: number, id: number): Promise<repo.PricedRecipe> {
  const [recipe] = await repo.selectPricedRecipes(db, restaurantId, { ids: [id] });
  if (recipe === undefined) throw notFound('The recipe');
  return recipe;
}

/**
 * For the cart and checkout: the active recipes among `recipeIds`, each with its lines and, per line,
 * the ingredient's current price, stock, switch and archived state. One query, the same one the menu
 * uses, so a cart is priced exactly as the menu shows it. Unknown or archived ids are simply absent
 * from the result (the caller answers 400 for them). Ordered by id.
 */
export async function getRecipesForPricing(db: Queryable, restaurantId: number, recipeIds: readonly number[]): Promise<repo.PricedRecipe[]> {
  return repo.selectPricedRecipes(db, restaurantId, { ids: [...new Set(recipeIds)] });
}

export interface Customization {
  ingredient_id: number;
  quantity: number;
}

export interface PricedLine {
  /** The recipe's price with each customised ingredient's difference in quantity × its unit price. */
  unit_price_cents: number;
  /** Units of each ingredient one portion needs after customisation (0-quantity lines left out), by ingredient id. */
  ingredients: Array<{ ingredient_id: number; quantity: number }>;
}

/**
 * Prices one portion of a recipe with customisations (API.md "Cart") and says what it needs of each
 * ingredient. Rules: the ingredient must be in the recipe and named once; 0 only for a `removable` one;
 * less than the recipe's quantity only for a `removable` one; at most `max_quantity` (no more than the
 * recipe's quantity when that is null). Violations are `400 validation_failed` with paths under `path`
 * (e.g. `customizations.1.quantity`). Pure: takes a recipe from `getRecipesForPricing`.
 */
export function priceRecipeLine(recipe: repo.PricedRecipe, customizations: readonly Customization[], path = 'customizations'): PricedLine {
  const errors: FieldError[] = [];
  const chosen = new Map<number, number>();
  customizations.forEach((customization, index) => {
    const line = recipe.ingredients.find((candidate) => candidate.ingredient_id === customization.ingredient_id);
    const at = `${path}.${index}`;
    if (line === undefined) {
      errors.push({ path: `${at}.ingredient_id`, message: `not an ingredient of ${recipe.name}` });
    } else if (chosen.has(line.ingredient_id)) {
      errors.push({ path: `${at}.ingredient_id`, message: 'customised more than once' });
    } else if (!Number.isInteger(customization.quantity) || customization.quantity < 0) {
      errors.push({ path: `${at}.quantity`, message: 'must be a whole number, 0 or more' });
    } else if (customization.quantity < line.quantity && !line.removable) {
      errors.push({ path: `${at}.quantity`, message: `${line.name} cannot be removed or reduced` });
    } else if (customization.quantity > (line.max_quantity ?? line.quantity)) {
      errors.push({ path: `${at}.quantity`, message: `at most ${line.max_quantity ?? line.quantity} ${line.unit} of ${line.name}` });
    } else {
      chosen.set(line.ingredient_id, customization.quantity);
    }
  });
  if (errors.length > 0) throw validationFailed('The customisations do not fit the recipe', errors);
  let unitPrice = recipe.price_cents;
  const needs: PricedLine['ingredients'] = [];
  for (const line of recipe.ingredients) {
    const quantity = chosen.get(line.ingredient_id) ?? line.quantity;
    unitPrice += (quantity - line.quantity) * line.price_cents;
    if (quantity > 0) needs.push({ ingredient_id: line.ingredient_id, quantity });
  }
  return { unit_price_cents: unitPrice, ingredients: needs };
}

export interface RecipeLineInput {
  ingredient_id: number;
  quantity: number;
  removable?: boolean | undefined;
  max_quantity?: number | null | undefined;
}

export interface CreateRecipeInput {
  name: string;
  description?: string | undefined;
  category?: string | undefined;
  ingredients: readonly RecipeLineInput[];
}

export type UpdateRecipeInput = Partial<CreateRecipeInput>;

export async function createRecipe(knex: Knex, restaurantId: number, input: CreateRecipeInput): Promise<repo.PricedRecipe> {
  return withTransaction(knex, async (trx) => {
    await assertIngredientsUsable(trx, restaurantId, input.ingredients);
    const id = await withNameConflict(input.name, () =>
      repo.insertRecipe(trx, restaurantId, { name: input.name, description: input.description ?? '', category: input.category ?? '' }),
    );
    await repo.replaceRecipeLines(trx, restaurantId, id, input.ingredients.map(toLineRow));
    return getRecipe(trx, restaurantId, id);
  });
}

/** Updates the given fields; `ingredients`, when given, replaces the whole set (in the same transaction). */
export async function updateRecipe(knex: Knex, restaurantId: number, id: number, input: UpdateRecipeInput): Promise<repo.PricedRecipe> {
  return withTransaction(knex, async (trx) => {
    const changes = {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.category === undefined ? {} : { category: input.category }),
    };
    if (!(await withNameConflict(input.name, () => repo.updateRecipe(trx, restaurantId, id, changes)))) throw notFound('The recipe');
    if (input.ingredients !== undefined) {
      await assertIngredientsUsable(trx, restaurantId, input.ingredients);
      await repo.replaceRecipeLines(trx, restaurantId, id, input.ingredients.map(toLineRow));
    }
    return getRecipe(trx, restaurantId, id);
  });
}

/** Archives the recipe: off the menu for good; orders keep their snapshots. */
export async function archiveRecipe(db: Queryable, restaurantId: number, id: number): Promise<void> {
  if (!(await repo.archiveRecipe(db, restaurantId, id))) throw notFound('The recipe');
}

/** Active recipes using an ingredient: what stops the ingredient from being archived. */
export async function activeRecipesUsingIngredient(db: Queryable, restaurantId: number, ingredientId: number): Promise<Array<{ id: number; name: string }>> {
  return repo.selectActiveRecipesUsingIngredient(db, restaurantId, ingredientId);
}

/** Unknown (including another restaurant's) or archived ingredients: 400 naming each line's `ingredient_id`. */
async function assertIngredientsUsable(trx: Knex.Transaction, restaurantId: number, lines: readonly RecipeLineInput[]): Promise<void> {
  const usable = await repo.lockActiveIngredientIds(trx, restaurantId, lines.map((line) => line.ingredient_id));
  const errors: FieldError[] = [];
  lines.forEach((line, index) => {
    if (!usable.has(line.ingredient_id)) {
      errors.push({ path: `ingredients.${index}.ingredient_id`, message: 'no such ingredient (unknown or archived)' });
    }
  });
  if (errors.length > 0) throw validationFailed('Some ingredients cannot be used', errors);
}

function toLineRow(line: RecipeLineInput): repo.RecipeLineRow {
  return {
    ingredient_id: line.ingredient_id,
    quantity: line.quantity,
    removable: line.removable ?? false,
    max_quantity: line.max_quantity ?? null,
  };
}

/** `%`, `_` and the escape character itself match literally in a search term. */
export function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (char) => `\\${char}`);
}

async function withNameConflict<T>(name: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (sqlState(error) === '23505' && name !== undefined) {
      throw conflict(`A recipe named "${name}" already exists`, [{ path: 'name', message: 'already used by another recipe' }]);
    }
    throw error;
  }
}
