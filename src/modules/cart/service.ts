import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { withTransaction } from '../../db/transaction.js';
import type { Allergen } from '../../lib/allergens.js';
import { AppError, notFound, validationFailed } from '../../lib/errors.js';
import {
  asServedAllergens,
  assertOptionsBelong,
  canMake,
  describeOptions,
  getRecipesForPricing,
  priceRecipeLine,
  type ChosenOption,
  type Customization,
  type PricedRecipe,
} from '../catalog/index.js';
import * as repo from './repo.js';
import { MAX_CART_LINES, MAX_LINE_PORTIONS, type skipReasons } from './schemas.js';

export interface CartItemView {
  id: number;
  recipe_id: number;
  name: string;
  quantity: number;
  customizations: Customization[];
  options: ChosenOption[];
  allergens: Allergen[];
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
    // An option's own ingredient: canMake has judged it; the option is named below.
    if (ingredient === undefined) continue;
    if (ingredient.archived) return `${ingredient.name} is no longer stocked`;
    if (!ingredient.available) return `${ingredient.name} is unavailable right now`;
    if (ingredient.stock <= 0) return `${ingredient.name} has run out`;
    if (ingredient.stock < need.quantity * portions) return `Not enough ${ingredient.name} for ${portions === 1 ? 'this dish' : `${portions} portions`}`;
  }
  return null;
}

const sameOptions = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((id, i) => id === b[i]);

/** The option ids a line stores: everything it holds, defaults included, sorted (so identical lines compare equal). */
const storedOptions = (options: readonly ChosenOption[]) => options.map((option) => option.id).sort((a, b) => a - b);

/**
 * A line as the cart shows it, priced from the live recipe. `known` names the options a line holds that
 * its recipe no longer offers, so a line that cannot be ordered still says what it held.
 */
function viewLine(line: repo.CartLineRow, recipe: PricedRecipe | undefined, known: ReadonlyMap<number, ChosenOption>): CartItemView {
  const base = { id: line.id, recipe_id: line.recipe_id, name: recipe?.name ?? line.recipe_name, quantity: line.quantity, customizations: line.customizations };
  const heldOptions = line.options.flatMap((id) => {
    const option = known.get(id);
    return option === undefined ? [] : [option];
  });
  if (recipe === undefined) {
    // Taken off the menu since it was added: it cannot be priced or ordered.
    return {
      ...base,
      options: heldOptions,
      allergens: [],
      unit_price_cents: 0,
      line_total_cents: 0,
      available: false,
      unavailable_reason: `${line.recipe_name} is no longer on the menu`,
    };
  }
  try {
    const portion = priceRecipeLine(recipe, { customizations: line.customizations, options: line.options });
    const available = canMake(recipe, portion, line.quantity);
    return {
      ...base,
      options: portion.options,
      allergens: portion.allergens,
      unit_price_cents: portion.unit_price_cents,
      line_total_cents: portion.unit_price_cents * line.quantity,
      available,
      unavailable_reason: available
        ? null
        : (unavailableReason(recipe, portion.ingredients, line.quantity) ?? 'An option chosen for this dish is unavailable right now'),
    };
  } catch {
    // The recipe changed under the line (an ingredient it customised or an option it held is gone): shown, not orderable.
    return {
      ...base,
      options: heldOptions,
      allergens: asServedAllergens(recipe),
      unit_price_cents: recipe.price_cents,
      line_total_cents: recipe.price_cents * line.quantity,
      available: false,
      unavailable_reason: `${recipe.name} has changed since this line was added: update its customisations or options`,
    };
  }
}

/** Names and prices of the options the lines hold, the ones taken off the menu included. */
async function optionsHeld(db: Queryable, restaurantId: number, lines: readonly repo.CartLineRow[]): Promise<Map<number, ChosenOption>> {
  const ids = lines.flatMap((line) => line.options);
  if (ids.length === 0) return new Map();
  const owners = await describeOptions(db, restaurantId, ids);
  return new Map(owners.map((owner) => [owner.id, { id: owner.id, name: owner.name, price_cents: owner.price_cents }]));
}

/** The cart at today's prices, with each line flagged if it cannot be ordered now. */
export async function getCart(db: Queryable, restaurantId: number, customerId: number): Promise<CartView> {
  const lines = await repo.selectCartLines(db, restaurantId, customerId);
  const recipes = await getRecipesForPricing(
    db,
    restaurantId,
    lines.filter((l) => !l.recipe_archived).map((l) => l.recipe_id),
  );
  const known = await optionsHeld(db, restaurantId, lines);
  const byId = new Map(recipes.map((r) => [r.id, r]));
  const items = lines.map((line) => viewLine(line, line.recipe_archived ? undefined : byId.get(line.recipe_id), known));
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

/** Adds a line, or more portions to an identical line (same recipe, customisations and options) already in the cart. */
export async function addCartItem(
  knex: Knex,
  restaurantId: number,
  customerId: number,
  input: { recipe_id: number; quantity: number; customizations?: Customization[] | undefined; options?: number[] | undefined },
): Promise<CartItemView> {
  // Outside a transaction: the recipe is read without a lock in one as well, and the write that follows is
  // one statement (the cart locked, merged or inserted, the caps checked), atomic by itself.
  const recipe = await recipeOnMenu(knex, restaurantId, input.recipe_id, 'recipe_id');
  await assertOptionsBelong(knex, restaurantId, recipe, input.options ?? []);
  const portion = priceRecipeLine(recipe, { customizations: input.customizations ?? [], options: input.options });
  const customizations = normalise(recipe, input.customizations ?? []);
  const options = storedOptions(portion.options);
  const outcome = await repo.addOrMergeCartLine(
    knex,
    restaurantId,
    customerId,
    { recipe_id: input.recipe_id, quantity: input.quantity, customizations, options },
    { maxPortions: MAX_LINE_PORTIONS, maxLines: MAX_CART_LINES },
  );
  switch (outcome.kind) {
    case 'too_many_portions':
      throw validationFailed(`A line holds at most ${MAX_LINE_PORTIONS} portions`, [
        { path: 'quantity', message: `the cart already has ${outcome.heldQuantity} of this; at most ${MAX_LINE_PORTIONS - outcome.heldQuantity} more` },
      ]);
    case 'cart_full':
      throw new AppError('validation_failed', 400, `A cart holds at most ${MAX_CART_LINES} lines`, [{ path: 'recipe_id', message: 'the cart is full' }]);
    case 'merged':
    case 'inserted': {
      // The line is shown from what was read and written: reading the cart back would price it all again.
      const quantity = outcome.kind === 'merged' ? outcome.quantity : input.quantity;
      const known = new Map(portion.options.map((option) => [option.id, option]));
      return viewLine(
        { id: outcome.id, recipe_id: recipe.id, quantity, recipe_name: recipe.name, recipe_archived: false, customizations, options },
        recipe,
        known,
      );
    }
  }
}

/**
 * Changes a line's portions, customisations or options. Customisations and options are checked together
 * against the recipe as it is now (the ones not sent are the line's current ones); options sent replace the
 * line's, a group they leave out taking its defaults.
 */
export async function updateCartItem(
  knex: Knex,
  restaurantId: number,
  customerId: number,
  id: number,
  changes: { quantity?: number | undefined; customizations?: Customization[] | undefined; options?: number[] | undefined },
): Promise<CartItemView> {
  await withTransaction(knex, async (trx) => {
    const line = (await repo.selectCartLines(trx, restaurantId, customerId, { lock: true })).find((candidate) => candidate.id === id);
    if (line === undefined) throw notFound('The cart line');
    if (changes.customizations !== undefined || changes.options !== undefined) {
      const recipe = await recipeOnMenu(trx, restaurantId, line.recipe_id, 'recipe_id');
      await assertOptionsBelong(trx, restaurantId, recipe, changes.options ?? []);
      const customizations = changes.customizations ?? line.customizations;
      const portion = priceRecipeLine(recipe, { customizations, options: changes.options ?? line.options });
      if (changes.customizations !== undefined) await repo.replaceCustomizations(trx, restaurantId, id, normalise(recipe, customizations));
      await repo.replaceOptions(trx, restaurantId, id, storedOptions(portion.options));
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

/** A line to put back in the cart (a past order's item): what it held when it was ordered. */
export interface LineToAdd {
  recipe_id: number;
  /** The name it was ordered under, for the report when it cannot be added. */
  name: string;
  quantity: number;
  customizations: readonly Customization[];
  options: ReadonlyArray<{ id: number; name: string }>;
}

export interface SkippedLine {
  recipe_id: number;
  name: string;
  reason: (typeof skipReasons)[number];
  detail: string;
}

/**
 * Adds the lines to the cart in the caller's transaction, each checked against today's menu exactly as a
 * new line would be (and merged into an identical line already there). A line that no longer fits is not
 * added and is reported with why, never dropped silently.
 */
export async function addLines(trx: Knex.Transaction, restaurantId: number, customerId: number, lines: readonly LineToAdd[]): Promise<SkippedLine[]> {
  const recipes = new Map(
    (
      await getRecipesForPricing(
        trx,
        restaurantId,
        lines.map((line) => line.recipe_id),
      )
    ).map((recipe) => [recipe.id, recipe]),
  );
  const cart = await repo.selectCartLines(trx, restaurantId, customerId, { lock: true });
  const skipped: SkippedLine[] = [];
  const skip = (line: LineToAdd, reason: SkippedLine['reason'], detail: string) => skipped.push({ recipe_id: line.recipe_id, name: line.name, reason, detail });
  for (const line of lines) {
    const recipe = recipes.get(line.recipe_id);
    if (recipe === undefined) {
      skip(line, 'recipe_archived', `${line.name} is no longer on the menu`);
      continue;
    }
    const offered = new Set(recipe.option_groups.flatMap((group) => group.options.map((option) => option.id)));
    const gone = line.options.filter((option) => !offered.has(option.id));
    if (gone.length > 0) {
      skip(line, 'option_gone', `${gone.map((option) => option.name).join(', ')} ${gone.length === 1 ? 'is' : 'are'} no longer offered with ${recipe.name}`);
      continue;
    }
    let options: number[];
    try {
      options = storedOptions(priceRecipeLine(recipe, { customizations: line.customizations, options: line.options.map((option) => option.id) }).options);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const first = error.errors?.[0];
      const customisation = first?.path.startsWith('customizations') === true;
      skip(line, customisation ? 'customization_invalid' : 'options_invalid', `${recipe.name}: ${first?.message ?? error.detail}`);
      continue;
    }
    const customizations = normalise(recipe, line.customizations);
    const same = cart.find(
      (held) => held.recipe_id === line.recipe_id && sameCustomizations(held.customizations, customizations) && sameOptions(held.options, options),
    );
    if (same !== undefined) {
      if (same.quantity + line.quantity > MAX_LINE_PORTIONS) {
        skip(line, 'too_many_portions', `the cart already has ${same.quantity} of ${recipe.name}; a line holds at most ${MAX_LINE_PORTIONS}`);
        continue;
      }
      same.quantity += line.quantity;
      await repo.updateCartLineQuantity(trx, restaurantId, same.id, same.quantity);
      continue;
    }
    if (cart.length >= MAX_CART_LINES) {
      skip(line, 'cart_full', `a cart holds at most ${MAX_CART_LINES} lines`);
      continue;
    }
    const id = await repo.insertCartLine(trx, restaurantId, customerId, { recipe_id: recipe.id, quantity: line.quantity, customizations, options });
    cart.push({ id, recipe_id: recipe.id, quantity: line.quantity, recipe_name: recipe.name, recipe_archived: false, customizations, options });
  }
  return skipped;
}

export type CartLine = repo.CartLineRow;

/**
 * The cart's lines for checkout, taken out of the cart (the order empties it; a rollback puts them back)
 * and so locked until the caller's transaction ends: two checkouts of one cart serialise and the second
 * finds it empty, `422 cart_empty`.
 */
export async function takeCart(trx: Knex.Transaction, restaurantId: number, customerId: number): Promise<CartLine[]> {
  return nonEmpty(await repo.deleteCartLinesReturning(trx, restaurantId, customerId));
}

/** The cart's lines for a quote: read, not locked (a quote changes nothing); an empty cart is `422 cart_empty` as at checkout. */
export async function readCartForQuote(db: Queryable, restaurantId: number, customerId: number): Promise<CartLine[]> {
  return nonEmpty(await repo.selectCartLines(db, restaurantId, customerId));
}

function nonEmpty(lines: CartLine[]): CartLine[] {
  if (lines.length === 0) throw new AppError('cart_empty', 422, 'The cart is empty: add something before ordering');
  return lines;
}
