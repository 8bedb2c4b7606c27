import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import type { ReadPart } from '../../db/read-parts.js';
import { withTransaction } from '../../db/transaction.js';
import { validationFailed, type FieldError } from './errors.js';
import * as repo from './repo.js';
import { defaultPricingSettings, pricingSettingsSchema, type PricingSettings, type PricingSettingsUpdate } from './schemas.js';

export type { PricingSettings } from './schemas.js';

function parseStored(restaurantId: number, stored: unknown): PricingSettings {
  const parsed = pricingSettingsSchema.safeParse(stored);
  // Only this module writes the row, through the same schema: a failure here is a bug, not a client's fault.
  if (!parsed.success) throw new Error(`the stored pricing settings of restaurant ${restaurantId} are invalid: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * A restaurant's pricing settings (the defaults until a manager saves some), for the settings route and
 * for checkout and the quote to hand to `priceOrder`. Pass the order's transaction to read them in it.
 */
export async function getPricingSettings(db: Queryable, restaurantId: number): Promise<PricingSettings> {
  const row = await repo.findPricing(db, restaurantId);
  return row === undefined ? defaultPricingSettings() : parseStored(restaurantId, row.settings);
}

/** What `getPricingSettings` answers, as a part of a composed read (checkout reads it with its other settings). */
export function pricingSettingsPart(restaurantId: number): ReadPart<PricingSettings> {
  return {
    columns: repo.PRICING_SETTINGS_COLUMN,
    bindings: { restaurant: restaurantId },
    read: (row) =>
      row.pricing_settings === null || row.pricing_settings === undefined ? defaultPricingSettings() : parseStored(restaurantId, row.pricing_settings),
  };
}

/**
 * Replaces the settings. An entry sent with an id must be one of the restaurant's current entries of the
 * same kind and keeps it; every other entry gets a new id, never one used before.
 */
export async function replacePricingSettings(db: Knex, restaurantId: number, update: PricingSettingsUpdate): Promise<PricingSettings> {
  return withTransaction(db, async (trx) => {
    const row = await repo.lockPricing(trx, restaurantId, defaultPricingSettings());
    const current = parseStored(restaurantId, row.settings);
    let nextEntryId = row.nextEntryId;
    const errors: FieldError[] = [];
    const assignIds = <E extends { id?: number | undefined }>(list: 'tax_rates' | 'service_charges', entries: readonly E[], known: ReadonlySet<number>) =>
      entries.map((entry, index) => {
        if (entry.id !== undefined && !known.has(entry.id)) {
          errors.push({
            path: `${list}.${index}.id`,
            message: `is not the id of one of this restaurant's ${list === 'tax_rates' ? 'tax rates' : 'service charges'}`,
          });
        }
        const id = entry.id ?? nextEntryId++;
        return { ...entry, id };
      });
    const settings: PricingSettings = {
      ...update,
      tax_rates: assignIds('tax_rates', update.tax_rates, new Set(current.tax_rates.map(({ id }) => id))),
      service_charges: assignIds('service_charges', update.service_charges, new Set(current.service_charges.map(({ id }) => id))),
    };
    if (errors.length > 0) throw validationFailed('The request body is not valid', errors);
    const saved = pricingSettingsSchema.parse(settings);
    await repo.savePricing(trx, restaurantId, saved, nextEntryId);
    return saved;
  });
}
