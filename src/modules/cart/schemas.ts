import { z } from '../../http/zod.js';
import { idValue } from '../../http/params.js';
import { ALLERGENS } from '../../lib/allergens.js';

/** Portions of one recipe in one cart line. */
export const MAX_LINE_PORTIONS = 50;
/** Lines in one cart: a generous party order, and a bound on what one checkout locks. */
export const MAX_CART_LINES = 50;

export const customizationsInput = z
  .array(
    z
      .object({
        ingredient_id: idValue,
        quantity: z.number().int().min(0).max(1_000).openapi({ description: 'Units of this ingredient in one portion; 0 removes a removable one' }),
      })
      .strict(),
  )
  .max(50)
  .openapi({ description: "The recipe's ingredients wanted in a quantity other than the default" });

export const optionsInput = z
  .array(idValue)
  .max(100)
  .openapi({
    description:
      "Ids of the recipe's options chosen. A group none of them belongs to gets its default options. Per group at least min_select and at " +
      "most max_select; a broken rule, an unknown option or another recipe's is 400 with the path `options.<group_id>`.",
  });

export const addCartItemBody = z
  .object({
    recipe_id: idValue,
    quantity: z.number().int().min(1).max(MAX_LINE_PORTIONS),
    customizations: customizationsInput.optional(),
    options: optionsInput.optional(),
  })
  .strict()
  .openapi('AddCartItem');

export const updateCartItemBody = z
  .object({
    quantity: z.number().int().min(1).max(MAX_LINE_PORTIONS).optional(),
    customizations: customizationsInput.optional(),
    options: optionsInput.optional().openapi({ description: "Replaces the line's options (groups not named get their defaults)" }),
  })
  .strict()
  .refine((body) => body.quantity !== undefined || body.customizations !== undefined || body.options !== undefined, 'send quantity, customizations or options')
  .openapi('UpdateCartItem');

export const chosenOptionSchema = z.object({ id: z.number().int().positive(), name: z.string(), price_cents: z.number().int().min(0) }).openapi('ChosenOption');

export const cartItemSchema = z
  .object({
    id: z.number().int().positive(),
    recipe_id: z.number().int().positive(),
    name: z.string(),
    quantity: z.number().int(),
    customizations: z.array(z.object({ ingredient_id: z.number().int(), quantity: z.number().int() })),
    options: z.array(chosenOptionSchema).openapi({ description: 'The options the line holds, defaults included, with their current prices' }),
    allergens: z.array(z.enum(ALLERGENS)).openapi({
      description:
        'EU allergens of what the line really holds: its customised ingredients (a removed one brings none) and its options. A line that can ' +
        "no longer be ordered shows its recipe's as served, or none when the recipe is gone.",
    }),
    unit_price_cents: z.number().int().openapi({ description: "The recipe's current price with the customisations and the options' prices" }),
    line_total_cents: z.number().int(),
    available: z.boolean().openapi({ description: 'Whether the line can be ordered now (recipe on the menu and enough stock for it alone)' }),
    unavailable_reason: z.string().nullable().openapi({
      description: 'Why the line cannot be ordered now, naming what is missing (never how much is left); null when it can',
      example: 'Potato has run out',
    }),
  })
  .openapi('CartItem');

export const cartSchema = z
  .object({
    items: z.array(cartItemSchema),
    total_cents: z
      .number()
      .int()
      .openapi({
        description:
          'The subtotal: the sum of the line totals of lines still on the menu, before any discount, service charge, delivery fee, tax or tip. ' +
          'What an order would charge is the total_cents of POST /v1/cart/quote.',
      }),
  })
  .openapi('Cart');

export const reorderBody = z.object({ order_id: idValue }).strict().openapi('Reorder');

export const skipReasons = ['recipe_archived', 'option_gone', 'options_invalid', 'customization_invalid', 'cart_full', 'too_many_portions'] as const;

export const reorderSchema = cartSchema
  .extend({
    skipped: z
      .array(
        z.object({
          recipe_id: z.number().int().positive(),
          name: z.string().openapi({ description: "The line's name as it was ordered" }),
          reason: z.enum(skipReasons).openapi({
            description:
              '`recipe_archived`: off the menu; `option_gone`: an option it had is no longer offered; `options_invalid`: the options no longer ' +
              "fit the recipe's groups; `customization_invalid`: a customisation is no longer possible; `cart_full`, `too_many_portions`: the " +
              'cart could not take it',
          }),
          detail: z.string().openapi({ description: 'The same in a sentence' }),
        }),
      )
      .openapi({ description: "The order's lines not added, each with why: nothing is dropped silently" }),
  })
  .openapi('ReorderResult');
