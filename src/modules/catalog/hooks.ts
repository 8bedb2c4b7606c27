import type { Knex } from 'knex';
import type { IngredientRow } from './ingredients-repo.js';

/** A threshold a stock movement went across on its way down. */
export type StockCrossing = 'low_stock' | 'out_of_stock';

/** An ingredient's stock just fell to or below its low-stock threshold, or to zero, from above it. */
export interface StockThresholdCrossed {
  restaurantId: number;
  /** The ingredient after the movement (`staffIngredient` gives the staff view of it). */
  ingredient: IngredientRow;
  crossings: readonly StockCrossing[];
}

/** Runs in the transaction of the stock movement, so what it writes commits or rolls back with it. */
export type StockThresholdListener = (trx: Knex.Transaction, event: StockThresholdCrossed) => Promise<void>;

const listeners = new Set<StockThresholdListener>();

/**
 * How modules that depend on the catalog hear of stock running low without the catalog depending on
 * them (webhooks sends `ingredient.low_stock`). Set once at composition; adding a listener twice is a no-op.
 */
export function onStockThresholdCrossed(listener: StockThresholdListener): void {
  listeners.add(listener);
}

export async function announceStockThresholdCrossed(trx: Knex.Transaction, event: StockThresholdCrossed): Promise<void> {
  for (const listener of listeners) await listener(trx, event);
}

/**
 * The thresholds one movement crossed, from the movement alone (no state kept): it crossed the low-stock
 * threshold when the stock is now at or below it and was above it before, and "out of stock" when it is
 * now 0 and was not before. So a run of sales below the threshold fires nothing more, and only a
 * restock above it lets the next fall fire again. Pure.
 */
export function stockCrossings(movement: { delta: number; stockAfter: number; lowStockThreshold: number }): StockCrossing[] {
  const before = movement.stockAfter - movement.delta;
  const crossings: StockCrossing[] = [];
  if (movement.stockAfter <= movement.lowStockThreshold && before > movement.lowStockThreshold) crossings.push('low_stock');
  if (movement.stockAfter === 0 && before > 0) crossings.push('out_of_stock');
  return crossings;
}
