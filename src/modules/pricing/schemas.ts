import { z } from '../../http/zod.js';
import { idValue } from '../../http/params.js';
import { parsePercent } from './arithmetic.js';
import { fulfillments, type Fulfillment } from './price.js';

/** The largest amount a setting may hold (a fee, a fixed charge, a minimum), in minor units. */
export const MAX_SETTING_CENTS = 100_000_000;
export const MAX_TAX_RATES = 20;
export const MAX_SERVICE_CHARGES = 20;
export const MAX_SUGGESTED_TIPS = 10;

/** A percentage as API.md writes them: a decimal string, 0 to 100, at most 4 decimals. */
export const percentString = z
  .string()
  .refine((text) => parsePercent(text) !== undefined, 'must be a decimal string between 0 and 100 with at most 4 decimals, such as "8.875"')
  .openapi({
    example: '8.875',
    pattern: '^(0|[1-9][0-9]{0,2})(\\.[0-9]{1,4})?$',
    description: 'A percentage as a decimal string (never a number), 0 to 100, at most 4 decimals',
  });

const settingCents = z.number().int().min(0).max(MAX_SETTING_CENTS);

const entryName = z.string().trim().min(1).max(50);

const fulfillmentList = z
  .array(z.enum(fulfillments() as [Fulfillment, ...Fulfillment[]]))
  .min(1)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a fulfillment')
  .openapi({ description: 'Which orders it applies to', example: ['pickup', 'delivery'] });

const bothFulfillments = (): Fulfillment[] => [...fulfillments()];

const taxRateFields = {
  name: entryName.openapi({ example: 'Sales tax' }),
  rate: percentString,
  inclusive: z.boolean().openapi({ description: 'true: already inside the prices (VAT); false: added on top (sales tax)' }),
  fulfillment: fulfillmentList,
  applies_to_delivery_fee: z.boolean(),
};

const serviceChargeFields = {
  name: entryName.openapi({ example: 'Service' }),
  percent: percentString.optional().openapi({ description: 'Of the subtotal after the discount; or send amount_cents' }),
  amount_cents: settingCents.optional().openapi({ description: 'A fixed amount per order; or send percent' }),
  fulfillment: fulfillmentList,
  taxable: z.boolean().openapi({ description: 'Whether the taxes of the lines it is spread over apply to it' }),
};

/** The settings as stored and answered: every entry has its id. */
export const taxRateSchema = z
  .object({ id: idValue, ...taxRateFields })
  .strict()
  .openapi('TaxRate');
export const serviceChargeSchema = z
  .object({ id: idValue, ...serviceChargeFields })
  .strict()
  .openapi('ServiceCharge');
const tipsSchema = z
  .object({
    enabled: z.boolean(),
    suggested_percentages: z
      .array(percentString)
      .max(MAX_SUGGESTED_TIPS)
      .openapi({ example: ['10', '15', '20'] }),
  })
  .strict();
const deliveryTermsSchema = z
  .object({
    fee_cents: settingCents,
    min_subtotal_cents: settingCents.openapi({ description: 'Delivery orders below it (before any discount) are refused' }),
    free_over_cents: settingCents.nullable().openapi({ description: 'A subtotal at or above it (before any discount) delivers free; null: never free' }),
  })
  .strict();

type Issue = { path: PropertyKey[]; message: string };

/** Rules across entries that one field cannot check alone; the same for the body and the stored row. */
function crossEntryIssues(settings: {
  tax_rates: ReadonlyArray<{ id?: number | undefined; name: string }>;
  service_charges: ReadonlyArray<{ id?: number | undefined; name: string; percent?: string | undefined; amount_cents?: number | undefined }>;
  tips: { suggested_percentages: readonly string[] };
}): Issue[] {
  const issues: Issue[] = [];
  const uniqueNames = (list: 'tax_rates' | 'service_charges', names: readonly string[]) => {
    const seen = new Set<string>();
    names.forEach((name, index) => {
      const key = name.toLowerCase();
      if (seen.has(key)) issues.push({ path: [list, index, 'name'], message: 'is already the name of another entry (names are unique, whatever the case)' });
      seen.add(key);
    });
  };
  uniqueNames(
    'tax_rates',
    settings.tax_rates.map(({ name }) => name),
  );
  uniqueNames(
    'service_charges',
    settings.service_charges.map(({ name }) => name),
  );

  const ids = new Set<number>();
  for (const list of ['tax_rates', 'service_charges'] as const) {
    settings[list].forEach((entry, index) => {
      if (entry.id === undefined) return;
      if (ids.has(entry.id)) issues.push({ path: [list, index, 'id'], message: 'is the id of another entry' });
      ids.add(entry.id);
    });
  }

  settings.service_charges.forEach((charge, index) => {
    if ((charge.percent === undefined) === (charge.amount_cents === undefined)) {
      issues.push({ path: ['service_charges', index], message: 'needs exactly one of percent and amount_cents' });
    }
  });

  const tipValues = new Set<bigint>();
  settings.tips.suggested_percentages.forEach((percent, index) => {
    const value = parsePercent(percent) ?? -1n;
    if (tipValues.has(value)) issues.push({ path: ['tips', 'suggested_percentages', index], message: 'repeats another suggestion' });
    tipValues.add(value);
  });
  return issues;
}

export const pricingSettingsSchema = z
  .object({
    tax_rates: z.array(taxRateSchema).max(MAX_TAX_RATES),
    service_charges: z.array(serviceChargeSchema).max(MAX_SERVICE_CHARGES),
    rounding: z.enum(['half_even', 'half_up']),
    tips: tipsSchema,
    delivery: deliveryTermsSchema,
  })
  .strict()
  .superRefine((settings, ctx) => {
    for (const issue of crossEntryIssues(settings)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .openapi('PricingSettings', { description: "A restaurant's taxes, service charges, rounding, tips and delivery terms" });

export type PricingSettings = z.infer<typeof pricingSettingsSchema>;
export type TaxRate = z.infer<typeof taxRateSchema>;
export type ServiceCharge = z.infer<typeof serviceChargeSchema>;
export type DeliveryTerms = PricingSettings['delivery'];

/** What every restaurant starts with (API.md): no taxes, no charges, half_even, tips off, free delivery, no minimum. */
export function defaultPricingSettings(): PricingSettings {
  return {
    tax_rates: [],
    service_charges: [],
    rounding: 'half_even',
    tips: { enabled: false, suggested_percentages: [] },
    delivery: { fee_cents: 0, min_subtotal_cents: 0, free_over_cents: null },
  };
}

/**
 * PUT's body replaces the settings. A part left out takes its default (as does a flag or a fulfillment
 * list left out of an entry), so a client can send only what it sets. An entry sent with the `id` GET
 * gave it keeps that id; one without gets a new id.
 */
export const pricingSettingsBody = z
  .object({
    tax_rates: z
      .array(
        z
          .object({
            id: idValue.optional().openapi({ description: 'Keep an existing entry (its id from GET); leave out for a new one' }),
            ...taxRateFields,
            inclusive: taxRateFields.inclusive.default(false),
            fulfillment: fulfillmentList.default(bothFulfillments),
            applies_to_delivery_fee: taxRateFields.applies_to_delivery_fee.default(false),
          })
          .strict(),
      )
      .max(MAX_TAX_RATES)
      .default([]),
    service_charges: z
      .array(
        z
          .object({
            id: idValue.optional().openapi({ description: 'Keep an existing entry (its id from GET); leave out for a new one' }),
            ...serviceChargeFields,
            fulfillment: fulfillmentList.default(bothFulfillments),
            taxable: serviceChargeFields.taxable.default(false),
          })
          .strict(),
      )
      .max(MAX_SERVICE_CHARGES)
      .default([]),
    rounding: z.enum(['half_even', 'half_up']).default('half_even'),
    tips: z
      .object({ enabled: z.boolean().default(false), suggested_percentages: tipsSchema.shape.suggested_percentages.default([]) })
      .strict()
      .default(() => defaultPricingSettings().tips),
    delivery: z
      .object({
        fee_cents: settingCents.default(0),
        min_subtotal_cents: deliveryTermsSchema.shape.min_subtotal_cents.default(0),
        free_over_cents: deliveryTermsSchema.shape.free_over_cents.default(null),
      })
      .strict()
      .default(() => defaultPricingSettings().delivery),
  })
  .strict()
  .superRefine((settings, ctx) => {
    for (const issue of crossEntryIssues(settings)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .openapi('PricingSettingsUpdate', {
    description: 'Replaces the settings. A part left out takes its default; an entry keeps its id when sent with it',
  });

export type PricingSettingsUpdate = z.infer<typeof pricingSettingsBody>;
