import type { Queryable } from '../../db/database.js';
import type { RestaurantPricingRecord } from '../../db/tables.js';

export interface PricingRow {
  /** The stored document, not yet validated: the service parses it. */
  settings: unknown;
  nextEntryId: number;
}

function toRow(row: Pick<RestaurantPricingRecord, 'settings' | 'next_entry_id'>): PricingRow {
  return { settings: row.settings, nextEntryId: Number(row.next_entry_id) };
}

/** The stored settings document as a column of a composed read (`pricing_settings`, null without a row). */
export const PRICING_SETTINGS_COLUMN = '(SELECT settings FROM restaurant_pricing WHERE restaurant_id = :restaurant) AS pricing_settings';

export async function findPricing(db: Queryable, restaurantId: number): Promise<PricingRow | undefined> {
  const row = await db('restaurant_pricing').select('settings', 'next_entry_id').where({ restaurant_id: restaurantId }).first();
  return row === undefined ? undefined : toRow(row);
}

/**
 * The restaurant's row, locked until the transaction ends, created with `initial` first when it has none:
 * two managers saving at once are then applied one after the other, each seeing the ids the other gave.
 */
export async function lockPricing(trx: Queryable, restaurantId: number, initial: object): Promise<PricingRow> {
  await trx('restaurant_pricing')
    .insert({ restaurant_id: restaurantId, settings: JSON.stringify(initial) })
    .onConflict('restaurant_id')
    .ignore();
  const row = await trx('restaurant_pricing').select('settings', 'next_entry_id').where({ restaurant_id: restaurantId }).forUpdate().first();
  if (row === undefined) throw new Error(`the pricing row of restaurant ${restaurantId} vanished under its lock`);
  return toRow(row);
}

export async function savePricing(trx: Queryable, restaurantId: number, settings: object, nextEntryId: number): Promise<void> {
  await trx('restaurant_pricing')
    .where({ restaurant_id: restaurantId })
    .update({ settings: JSON.stringify(settings), next_entry_id: nextEntryId, updated_at: trx.fn.now() });
}
