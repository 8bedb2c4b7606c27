import { z } from '../../http/zod.js';
import { idValue } from '../../http/params.js';

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

export const addCartItemBody = z
  .object({
    recipe_id: idValue,
    quantity: z.number().int().min(1).max(MAX_LINE_PORTIONS),
    customizations: customizationsInput.optional(),
  })
  .strict()
  .openapi('AddCartItem');

export const updateCartItemBody = z
  .object({
    quantity: z.number().int().min(1).max(MAX_LINE_PORTIONS).optional(),
    customizations: customizationsInput.optional(),
  })
  .strict()
  .refine((body) => body.quantity !== undefined || body.customizations !== undefined, 'send quantity, customizations or both')
  .openapi('UpdateCartItem');

export const cartItemSchema = z
  .object({
    id: z.number().int().positive(),
    recipe_id: z.number().int().positive(),
    name: z.string(),
    quantity: z.number().int(),
    customizations: z.array(z.object({ ingredient_id: z.number().int(), quantity: z.number().int() })),
    unit_price_cents: z.number().int().openapi({ description: "The recipe's current price with the customisations" }),
    line_total_cents: z.number().int(),
    available: z.boolean().openapi({ description: 'Whether the line can be ordered now (recipe on the menu and enough stock for it alone)' }),
    unavailable_reason: z
      .string()
      .nullable()
      .openapi({ description: 'Why the line cannot be ordered now, naming what is missing (never how much is left); null when it can', example: 'Potato has run out' }),
  })
  .openapi('CartItem');

export const cartSchema = z
  .object({
    items: z.array(cartItemSchema),
    total_cents: z.number().int().openapi({
      description:
        'The subtotal: the sum of the line totals of lines still on the menu, before any discount, service charge, delivery fee, tax or tip. ' +
        'What an order would charge is the total_cents of POST /v1/cart/quote.',
    }),
  })
  .openapi('Cart');
