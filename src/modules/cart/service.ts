import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { withTransaction } from '../../db/transaction.js';
import { AppError, notFound, validationFailed } from '../../lib/errors.js';
import { getRecipesForPricing, priceRecipeLine, type Customization, type PricedRecipe } from '../catalog/index.js';
import * as repo from './repo.js';
import { MAX_CART_LINES, MAX_LINE_PORTIONS } from './schemas.js';

export interface CartItemView {
  id: number;
  recipe_id: number;
  name: string;
  quantity: number;
  customizations: Customization[];
  unit_price_cents: number;
  line_total_cents: number;
  available: boolean;
  unavailable_reason: string | null;
}

export interface CartView {
  items: CartItemView[];
  total_cents: number;
}

/**
 * Keeps only the customisations that differ from the recipe's defaults, sorted by ingredient, so two
 * lines that want the same dish compare equal however the client spelled them.
 */
function normalise(recipe: PricedRecipe, customizations: readonly Customization[]): Customization[] {
  return customizations
    .filter((c) => recipe.ingredients.find((line) => line.ingredient_id === c.ingredient_id)?.quantity !== c.quantity)
    .map((c) => ({ ingredient_id: c.ingredient_id, quantity: c.quantity }))
    .sort((a, b) => a.ingredient_id - b.ingredient_id);
}

const sameCustomizations = (a: readonly Customization[], b: readonly Customization[]) =>
  a.length === b.length && a.every((c, i) => c.ingredient_id === b[i]?.ingredient_id && c.quantity === b[i]?.quantity);

/**
 * Why the line's portions cannot be made from what is there now, naming the first ingredient at fault
 * (not how much is left: customers see no stock figures), or null when they can.
 */
function unavailableReason(recipe: PricedRecipe, needs: ReadonlyArray<{ ingredient_id: number; quantity: number }>, portions: number): string | null {
  const lines = new Map(recipe.ingredients.map((i) => [i.ingredient_id, i]));
  for (const need of needs) {
    const ingredient = lines.get(need.ingredient_id);
    if (ingredient === undefined || ingredient.archived) return `${ingredient?.name ?? 'An ingredient'} is no longer stocked`;
    if (!ingredient.available) return `${ingredient.name} is unavailable right now`;
    if (ingredient.stock <= 0) return `${ingredient.name} has run out`;
    if (ingredient.stock < need.quantity * portions) return `Not enough ${ingredient.name} for ${portions === 1 ? 'this dish' : `${portions} portions`}`;
  }
  return null;
}

function viewLine(line: repo.CartLineRow, recipe: PricedRecipe | undefined): CartItemView {
  const base = { id: line.id, recipe_id: line.recipe_id, name: recipe?.name ?? line.recipe_name, quantity: line.quantity, customizations: line.customizations };
  if (recipe === undefined) {
    // Taken off the menu since it was added: it cannot be priced or ordered.
    return { ...base, unit_price_cents: 0, line_total_cents: 0, available: false, unavailable_reason: `${line.recipe_name} is no longer on the menu` };
  }
  try {
    const priced = priceRecipeLine(recipe, line.customizations);
    const reason = unavailableReason(recipe, priced.ingredients, line.quantity);
    return { ...base, unit_price_cents: priced.unit_price_cents, line_total_cents: priced.unit_price_cents * line.quantity, available: reason === null, unavailable_reason: reason };
  } catch {
    // The recipe changed under the line (an ingredient it customised is gone): shown, not orderable.
    return {
      ...base,
      unit_price_cents: recipe.price_cents,
      line_total_cents: recipe.price_cents * line.quantity,
      available: false,
      unavailable_reason: `${recipe.name} has changed since this line was added: update its customisations`,
    };
  }
}

/** The cart at today's prices, with each line flagged if it cannot be ordered now. */
export async function getCart(db: Queryable, restaurantId: number, customerId: number): Promise<CartView> {
  const lines = await repo.selectCartLines(db, restaurantId, customerId);
  const recipes = await getRecipesForPricing(db, restaurantId, lines.filter((l) => !l.recipe_archived).map((l) => l.recipe_id));
  const byId = new Map(recipes.map((r) => [r.id, r]));
  const items = lines.map((line) => viewLine(line, line.recipe_archived ? undefined : byId.get(line.recipe_id)));
  return { items, total_cents: items.reduce((sum, item) => sum + item.line_total_cents, 0) };
}

async function cartLine(db: Queryable, restaurantId: number, customerId: number, id: number): Promise<CartItemView> {
  const cart = await getCart(db, restaurantId, customerId);
  const item = cart.items.find((candidate) => candidate.id === id);
  if (item === undefined) throw notFound('The cart line');
  return item;
}

async function recipeOnMenu(db: Queryable, restaurantId: number, recipeId: number, path: string): Promise<PricedRecipe> {
  const [recipe] = await getRecipesForPricing(db, restaurantId, [recipeId]);
  if (recipe === undefined) throw validationFailed('The recipe is not on the menu', [{ path, message: 'no recipe with this id is on the menu' }]);
  return recipe;
}

/** Adds a line, or more portions to an identical line already in the cart. */
export async function addCartItem(
  knex: Knex,
  restaurantId: number,
  customerId: number,
  input: { recipe_id: number; quantity: number; customizations?: Customization[] | undefined },
): Promise<CartItemView> {
  // The line is shown from what the transaction read and wrote: reading the cart back would price it all again.
  return withTransaction(knex, async (trx) => {
    const recipe = await recipeOnMenu(trx, restaurantId, input.recipe_id, 'recipe_id');
    priceRecipeLine(recipe, input.customizations ?? []);
    const customizations = normalise(recipe, input.customizations ?? []);
    const lines = await repo.selectCartLines(trx, restaurantId, customerId, { lock: true });
    const same = lines.find((line) => line.recipe_id === input.recipe_id && sameCustomizations(line.customizations, customizations));
    if (same !== undefined) {
      const quantity = same.quantity + input.quantity;
      if (quantity > MAX_LINE_PORTIONS) {
        throw validationFailed(`A line holds at most ${MAX_LINE_PORTIONS} portions`, [
          { path: 'quantity', message: `the cart already has ${same.quantity} of this; at most ${MAX_LINE_PORTIONS - same.quantity} more` },
        ]);
      }
      await repo.updateCartLineQuantity(trx, restaurantId, same.id, quantity);
      return viewLine({ ...same, quantity }, recipe);
    }
    if (lines.length >= MAX_CART_LINES) {
      throw new AppError('validation_failed', 400, `A cart holds at most ${MAX_CART_LINES} lines`, [{ path: 'recipe_id', message: 'the cart is full' }]);
    }
    const id = await repo.insertCartLine(trx, restaurantId, customerId, { recipe_id: input.recipe_id, quantity: input.quantity, customizations });
    return viewLine({ id, recipe_id: recipe.id, quantity: input.quantity, recipe_name: recipe.name, recipe_archived: false, customizations }, recipe);
  });
}

export async function updateCartItem(
  knex: Knex,
  restaurantId: number,
  customerId: number,
  id: number,
  changes: { quantity?: number | undefined; customizations?: Customization[] | undefined },
): Promise<CartItemView> {
  await withTransaction(knex, async (trx) => {
    const line = (await repo.selectCartLines(trx, restaurantId, customerId, { lock: true })).find((candidate) => candidate.id === id);
    if (line === undefined) throw notFound('The cart line');
    if (changes.customizations !== undefined) {
      const recipe = await recipeOnMenu(trx, restaurantId, line.recipe_id, 'recipe_id');
      priceRecipeLine(recipe, changes.customizations);
      await repo.replaceCustomizations(trx, restaurantId, id, normalise(recipe, changes.customizations));
    }
    if (changes.quantity !== undefined) await repo.updateCartLineQuantity(trx, restaurantId, id, changes.quantity);
  });
  return cartLine(knex, restaurantId, customerId, id);
}

export async function removeCartItem(db: Queryable, restaurantId: number, customerId: number, id: number): Promise<void> {
  if (!(await repo.deleteCartLine(db, restaurantId, customerId, id))) throw notFound('The cart line');
}

export async function emptyCart(db: Queryable, restaurantId: number, customerId: number): Promise<void> {
  await repo.clearCart(db, restaurantId, customerId);
}

export type CartLine = repo.CartLineRow;

/**
 * The cart's lines for checkout, locked until the caller's transaction ends, so two checkouts of one
 * cart serialise and the second finds it empty: `422 cart_empty`.
 */
export async function takeCart(trx: Knex.Transaction, restaurantId: number, customerId: number): Promise<CartLine[]> {
  return nonEmpty(await repo.selectCartLines(trx, restaurantId, customerId, { lock: true }));
}

/** The cart's lines for a quote: read, not locked (a quote changes nothing); an empty cart is `422 cart_empty` as at checkout. */
export async function readCartForQuote(db: Queryable, restaurantId: number, customerId: number): Promise<CartLine[]> {
  return nonEmpty(await repo.selectCartLines(db, restaurantId, customerId));
}

function nonEmpty(lines: CartLine[]): CartLine[] {
  if (lines.length === 0) throw new AppError('cart_empty', 422, 'The cart is empty: add something before ordering');
  return lines;
}
