import { z } from '../../http/zod.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { queryFlag } from '../../http/params.js';
import { ALLERGENS, allergenSet } from '../../lib/allergens.js';

/** Largest price of one unit of an ingredient (100 000.00 in the currency): keeps every recipe total far inside 2^53. */
export const MAX_PRICE_CENTS = 10_000_000;
/** Stock and thresholds are `integer` columns; one adjustment may move at most this many units. */
export const MAX_ADJUSTMENT = 1_000_000;
export const MAX_STOCK = 2_147_483_647;

const name = z.string().trim().min(1, 'must not be empty').max(50, 'must be at most 50 characters');
const description = z.string().trim().max(200, 'must be at most 200 characters');
const unit = z.string().trim().min(1, 'must not be empty').max(20, 'must be at most 20 characters');
const priceCents = z.number().int().min(0).max(MAX_PRICE_CENTS);
const threshold = z.number().int().min(0).max(MAX_ADJUSTMENT);

export const allergenName = z.enum(ALLERGENS);

const allergensInput = z
  .array(allergenName)
  .max(ALLERGENS.length * 2)
  .transform((values) => allergenSet(values))
  .openapi({ description: `Allergens the ingredient contains, from the EU list: ${ALLERGENS.join(', ')}. Stored once each, sorted.` });

const dietFlags = {
  vegan: z.boolean().optional().openapi({ description: 'Contains no animal product. A vegan ingredient is vegetarian: `vegan: true` sets `vegetarian` too.' }),
  vegetarian: z.boolean().optional().openapi({ description: 'Contains no meat or fish. `vegetarian: false` clears `vegan` too.' }),
};

/** `vegan: true` with `vegetarian: false` in one body says two contradicting things. */
function refuseContradictingDiet(body: { vegan?: boolean | undefined; vegetarian?: boolean | undefined }, ctx: z.RefinementCtx): void {
  if (body.vegan === true && body.vegetarian === false) ctx.addIssue({ code: 'custom', path: ['vegetarian'], message: 'a vegan ingredient is vegetarian' });
}

export const END_OF_DAY = 'end_of_day';

export const ingredientSchema = z
  .object({
    id: z.number().int().positive(),
    name: z.string(),
    description: z.string(),
    unit: z.string().openapi({ description: 'What one unit is, e.g. "piece" or "100 g"' }),
    price_cents: z.number().int().openapi({ description: 'Price of one unit, in minor units of the restaurant currency' }),
    available: z.boolean().openapi({
      description:
        "The manager's switch: false takes the ingredient off the menu (every recipe using it shows as unavailable). " +
        "It is not derived from stock; whether there is enough stock shows in each recipe's `available` and `max_orderable`.",
    }),
    stock: z.number().int().min(0).optional().openapi({ description: 'Units on hand. Staff only: absent for customers and anonymous callers.' }),
    low_stock_threshold: z.number().int().min(0).optional().openapi({
      description: 'At or below this stock the ingredient is listed by `low_stock=true`. Staff only.',
    }),
    allergens: z.array(allergenName).openapi({ description: 'EU allergens it contains, sorted' }),
    vegan: z.boolean(),
    vegetarian: z.boolean(),
    unavailable_until: z.string().nullable().openapi({
      format: 'date-time',
      description: 'While switched off for a while ("86"): when it comes back by itself (within 10 s of this instant). Null otherwise.',
    }),
  })
  .openapi('Ingredient');

export const ingredientPageSchema = pageOf(ingredientSchema).openapi('IngredientPage');

export const listIngredientsQuery = z.object({
  ...pageQuery,
  low_stock: queryFlag.optional().openapi({
    description: 'Staff only (401/403 otherwise): `true` lists ingredients whose stock is at or below their threshold, `false` the others.',
  }),
});

export const createIngredientBody = z
  .object({
    name,
    description: description.optional(),
    unit,
    price_cents: priceCents,
    available: z.boolean().optional().openapi({ description: 'Defaults to true' }),
    low_stock_threshold: threshold.optional().openapi({ description: 'Defaults to 0' }),
    stock: z.number().int().min(0).max(MAX_ADJUSTMENT).optional().openapi({
      description: 'Opening stock, default 0. Recorded in the ledger as a `restock` movement; later changes go through adjustments.',
    }),
    allergens: allergensInput.optional().openapi({ description: 'Defaults to none' }),
    ...dietFlags,
  })
  .strict()
  .superRefine(refuseContradictingDiet)
  .openapi('CreateIngredient');

export const updateIngredientBody = z
  .object({
    name: name.optional(),
    description: description.optional(),
    unit: unit.optional(),
    price_cents: priceCents.optional(),
    available: z.boolean().optional().openapi({ description: '`true` switches it back on and clears `unavailable_until`; `false` switches it off' }),
    unavailable_until: z
      .union([z.literal(END_OF_DAY), z.iso.datetime({ offset: true })])
      .nullable()
      .optional()
      .openapi({
        description:
          'With `available: false` only: when it comes back by itself, an RFC 3339 instant in the future or `"end_of_day"` (the end of ' +
          "today's last opening range in the restaurant's time zone; local midnight without hours). Absent or null: off until switched back on.",
      }),
    low_stock_threshold: threshold.optional(),
    allergens: allergensInput.optional().openapi({ description: 'Replaces the list' }),
    ...dietFlags,
  })
  .strict()
  .superRefine((body, ctx) => {
    refuseContradictingDiet(body, ctx);
    if (body.unavailable_until !== undefined && body.unavailable_until !== null && body.available !== false) {
      ctx.addIssue({ code: 'custom', path: ['unavailable_until'], message: 'a return time goes with available: false' });
    }
  })
  .openapi('UpdateIngredient', {
    description: 'Stock is not set here: send an adjustment, so the ledger records it. The kitchen role may send `available` and `unavailable_until` only.',
  });

/** The fields the kitchen may change (the "86"); everything else of an ingredient is the manager's. */
export const kitchenIngredientFields: ReadonlyArray<keyof z.infer<typeof updateIngredientBody>> = ['available', 'unavailable_until'];

export const manualReasons = ['restock', 'waste', 'correction', 'count'] as const;
export const movementReasons = [...manualReasons, 'order_reserved', 'order_released'] as const;

export const createAdjustmentBody = z
  .object({
    delta: z
      .number()
      .int()
      .min(-MAX_ADJUSTMENT)
      .max(MAX_ADJUSTMENT)
      .refine((value) => value !== 0, 'must not be 0')
      .openapi({ description: `Units added (positive) or removed (negative); not 0, at most ${MAX_ADJUSTMENT} either way` }),
    reason: z.enum(manualReasons),
    note: z.string().trim().max(200, 'must be at most 200 characters').optional(),
  })
  .strict()
  .openapi('CreateAdjustment');

export const movementSchema = z
  .object({
    id: z.number().int().positive(),
    ingredient_id: z.number().int().positive(),
    delta: z.number().int(),
    reason: z.enum(movementReasons),
    stock_after: z.number().int().min(0),
    order_id: z.number().int().positive().nullable().openapi({ description: 'The order, for order_reserved and order_released' }),
    user_sub: z.string().nullable().openapi({ description: 'Who made a manual adjustment (Cognito sub)' }),
    note: z.string().nullable(),
    created_at: z.string().openapi({ description: 'RFC 3339, UTC' }),
  })
  .openapi('InventoryMovement');

export const movementPageSchema = pageOf(movementSchema).openapi('InventoryMovementPage');

export const listMovementsQuery = z.object({ ...pageQuery });
