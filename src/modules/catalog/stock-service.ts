import type { Knex } from 'knex';
import { withTransaction } from '../../db/transaction.js';
import { AppError, conflict, notFound, type FieldError } from '../../lib/errors.js';
import * as repo from './ingredients-repo.js';
import { MAX_STOCK } from './ingredients-schemas.js';
import { announceStockThresholdCrossed, stockCrossings } from './hooks.js';

/**
 * Every change to `ingredients.stock` and every `inventory_movements` row goes through this file
 * (STYLE.md habit 14): manual adjustments, an order's reservation and its release. Each is the one
 * guarded statement `repo.applyStockDelta` plus its ledger row (an order's reservation: one guarded
 * statement for all its ingredients, ledger rows included), so the ledger of an ingredient always sums to
 * its stock. A change that takes stock (a reservation, a manual adjustment) is checked for a
 * low-stock crossing (`hooks.ts`), announced in its transaction; giving stock back never crosses one.
 */

export interface IngredientQuantity {
  ingredient_id: number;
  quantity: number;
}

/** What one order line asks of the stock: `quantity` portions × what one portion needs, named for the explanation. */
export interface LineNeeds {
  name: string;
  quantity: number;
  perPortion: readonly IngredientQuantity[];
}

/**
 * Units of each ingredient all the lines need together, by ascending ingredient id. Lines share
 * ingredients, so the check is on the sum (per-line checks would oversell); ascending id is the order
 * every stock change locks rows in, so two checkouts cannot deadlock. Pure.
 */
export function sumNeeds(lines: readonly LineNeeds[]): IngredientQuantity[] {
  const needs = new Map<number, number>();
  for (const line of lines) {
    for (const { ingredient_id, quantity } of line.perPortion) needs.set(ingredient_id, (needs.get(ingredient_id) ?? 0) + quantity * line.quantity);
  }
  return [...needs].map(([ingredient_id, quantity]) => ({ ingredient_id, quantity })).sort((a, b) => a.ingredient_id - b.ingredient_id);
}

const ADJUST: repo.StockGuard = { maxStock: MAX_STOCK, activeOnly: true, availableOnly: false };
// What an order holds goes back even to an ingredient archived or switched off since.
const RELEASE: repo.StockGuard = { maxStock: MAX_STOCK, activeOnly: false, availableOnly: false };

/**
 * Takes what the order's lines need, in the caller's transaction, in one statement: the ingredient rows
 * locked in ascending id order, then one guarded UPDATE for all of them that also writes the
 * `order_reserved` ledger rows (`repo.takeStockForOrder` says why it cannot deadlock). A shortfall throws `409 insufficient_stock`
 * naming each short ingredient per line that uses it; the caller's transaction then leaves nothing behind.
 */
export async function reserveForOrder(trx: Knex.Transaction, restaurantId: number, orderId: number, lines: readonly LineNeeds[]): Promise<void> {
  const needs = sumNeeds(lines);
  // One statement whatever the order's size: the rows locked in ascending id order, then every guarded
  // change and its ledger row (the locks make the change's row order irrelevant to deadlocks).
  const taken = await repo.takeStockForOrder(trx, restaurantId, orderId, needs);
  if (taken.length < needs.length) throw await insufficientStock(trx, restaurantId, lines, needs, new Set(taken.map((row) => row.id)));
  const delta = new Map(needs.map((need) => [need.ingredient_id, -need.quantity]));
  await announceCrossings(
    trx,
    restaurantId,
    taken.map((ingredient) => ({ ingredient, delta: delta.get(ingredient.id) ?? 0 })),
  );
}

/**
 * Gives back what the order still holds: per ingredient, what its ledger rows reserved minus what they
 * already released, so running it twice releases nothing the second time. Ingredients are locked in
 * ascending id order, the same order a reservation takes them in, so the two cannot deadlock.
 */
export async function releaseForOrder(trx: Knex.Transaction, restaurantId: number, orderId: number): Promise<void> {
  for (const held of await repo.selectHeldForOrder(trx, restaurantId, orderId)) {
    const after = await repo.applyStockDelta(trx, restaurantId, held.ingredient_id, held.quantity, RELEASE);
    if (after === undefined) throw new Error(`ingredient ${held.ingredient_id} cannot take back ${held.quantity} units of order ${orderId}`);
    await repo.insertMovement(trx, restaurantId, {
      ingredient_id: held.ingredient_id,
      delta: held.quantity,
      reason: 'order_released',
      stock_after: after.stock,
      order_id: orderId,
    });
  }
}

/** One ingredient's stock change, with the ingredient as it now stands. */
interface StockMove {
  ingredient: repo.IngredientRow;
  delta: number;
}

/** Announces the low-stock and out-of-stock thresholds these changes crossed, in their transaction. */
async function announceCrossings(trx: Knex.Transaction, restaurantId: number, moves: readonly StockMove[]): Promise<void> {
  for (const { ingredient, delta } of moves) {
    const crossings = stockCrossings({ delta, stockAfter: ingredient.stock, lowStockThreshold: ingredient.low_stock_threshold });
    if (crossings.length > 0) await announceStockThresholdCrossed(trx, { restaurantId, ingredient, crossings });
  }
}

/**
 * Names every shortfall (each short ingredient, for each line that uses it) from a fresh read of the
 * stock; the guarded UPDATE has already decided, this only explains.
 */
async function insufficientStock(
  trx: Knex.Transaction,
  restaurantId: number,
  lines: readonly LineNeeds[],
  needs: readonly IngredientQuantity[],
  alreadyTaken: ReadonlySet<number>,
): Promise<AppError> {
  const need = new Map(needs.map((n) => [n.ingredient_id, n.quantity]));
  const rows = await repo.selectStockFigures(trx, restaurantId, [...need.keys()]);
  // This transaction already took some ingredients (it rolls back): count those as still on the shelf.
  const onShelf = (row: (typeof rows)[number]) => (!row.available || row.archived ? 0 : row.stock + (alreadyTaken.has(row.id) ? (need.get(row.id) ?? 0) : 0));
  const short = rows.filter((row) => onShelf(row) < (need.get(row.id) ?? 0));
  const errors: FieldError[] = [];
  lines.forEach((line, index) => {
    for (const ingredient of short) {
      if (!line.perPortion.some((n) => n.ingredient_id === ingredient.id)) continue;
      // What is short, never how much is left: a customer must not read the restaurant's stock (staff see it elsewhere).
      errors.push({
        path: `items.${index}`,
        message: `${line.name}: not enough ${ingredient.name} (ingredient ${ingredient.id}) for the ${need.get(ingredient.id) ?? 0} ${ingredient.unit} the order needs`,
      });
    }
  });
  const names = short.map((ingredient) => ingredient.name).join(', ');
  return new AppError('insufficient_stock', 409, `Not enough stock for this order: ${names}. Nothing was ordered or charged.`, errors);
}

export interface AdjustmentInput {
  delta: number;
  reason: 'restock' | 'waste' | 'correction' | 'count';
  note?: string | undefined;
}

/**
 * A manual stock change by staff: one guarded UPDATE (the stock never goes below 0) and its ledger row,
 * in one transaction. Below zero: `409 insufficient_stock` and nothing changes.
 */
export async function adjustStock(knex: Knex, restaurantId: number, ingredientId: number, userSub: string, input: AdjustmentInput): Promise<repo.MovementRow> {
  return withTransaction(knex, async (trx) => {
    const after = await changeStock(trx, restaurantId, ingredientId, input.delta);
    const movement = await repo.insertMovement(trx, restaurantId, {
      ingredient_id: ingredientId,
      delta: input.delta,
      reason: input.reason,
      stock_after: after.stock,
      user_sub: userSub,
      note: input.note === undefined || input.note === '' ? null : input.note,
    });
    await announceCrossings(trx, restaurantId, [{ ingredient: after, delta: input.delta }]);
    return movement;
  });
}

/** An ingredient's opening stock, as the `restock` ledger row that makes its ledger sum to it. */
export async function recordOpeningStock(
  trx: Knex.Transaction,
  restaurantId: number,
  ingredient: { id: number; stock: number },
  userSub: string,
): Promise<void> {
  if (ingredient.stock <= 0) return;
  await repo.insertMovement(trx, restaurantId, {
    ingredient_id: ingredient.id,
    delta: ingredient.stock,
    reason: 'restock',
    stock_after: ingredient.stock,
    user_sub: userSub,
    note: 'opening stock',
  });
}

async function changeStock(trx: Knex.Transaction, restaurantId: number, ingredientId: number, delta: number): Promise<repo.IngredientRow> {
  // A refused update is explained from the row as it now stands; should a concurrent change have made
  // the delta possible in between, the update is simply tried again.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const after = await repo.applyStockDelta(trx, restaurantId, ingredientId, delta, ADJUST);
    if (after !== undefined) return after;
    const current = await repo.selectIngredient(trx, restaurantId, ingredientId);
    if (current === undefined) throw notFound('The ingredient');
    if (current.stock + delta < 0) {
      throw new AppError(
        'insufficient_stock',
        409,
        `Only ${current.stock} ${current.unit} of ${current.name} in stock; a change of ${delta} would take it below zero`,
        [{ path: 'delta', message: `stock is ${current.stock}` }],
      );
    }
    if (current.stock + delta > MAX_STOCK) {
      throw conflict(`Stock of ${current.name} cannot exceed ${MAX_STOCK} units`, [{ path: 'delta', message: `stock is ${current.stock}` }]);
    }
  }
  throw new AppError('service_unavailable', 503, 'The stock is changing too fast; try again', undefined, { 'Retry-After': '1' });
}
