import { z } from '../../http/zod.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { ALLERGENS } from '../../lib/allergens.js';
import { orderActors, orderStatuses } from './state-machine.js';

export const placeOrderBody = z
  .object({
    fulfillment: z.enum(['pickup', 'delivery']),
    delivery_address: z.string().trim().min(1).max(200).optional().openapi({ description: "Required for delivery unless the customer's record has an address" }),
    notes: z.string().trim().max(200).optional(),
    payment_method: z.enum(['card', 'cash']),
  })
  .strict()
  .openapi('PlaceOrder');

const customization = z.object({ ingredient_id: z.number().int(), quantity: z.number().int() });

export const orderSchema = z
  .object({
    id: z.number().int().positive(),
    status: z.enum(orderStatuses),
    payment_status: z.enum(['unpaid', 'paid', 'partially_refunded', 'refunded']),
    payment_method: z.enum(['card', 'cash']),
    fulfillment: z.enum(['pickup', 'delivery']),
    delivery_address: z.string().nullable(),
    notes: z.string().nullable(),
    customer_id: z.number().int().positive(),
    currency: z.string(),
    items: z.array(
      z.object({
        recipe_id: z.number().int().positive(),
        name: z.string().openapi({ description: 'As it was when the order was placed' }),
        description: z.string(),
        quantity: z.number().int(),
        customizations: z.array(customization),
        options: z
          .array(z.object({ id: z.number().int().positive(), name: z.string(), price_cents: z.number().int().min(0) }))
          .openapi({ description: 'The options the line held (defaults included), names and prices as they were when the order was placed' }),
        allergens: z.array(z.enum(ALLERGENS)).openapi({ description: 'EU allergens of what the line held, as known when the order was placed' }),
        unit_price_cents: z.number().int(),
        line_total_cents: z.number().int(),
      }),
    ),
    total_cents: z.number().int(),
    placed_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Order');

export const orderPageSchema = pageOf(orderSchema).openapi('OrderPage');

export const listOrdersQuery = z
  .object({
    ...pageQuery,
    status: z
      .string()
      .max(200)
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value === '') return undefined;
        const statuses = value.split(',').map((s) => s.trim());
        const unknown = statuses.filter((s) => !(orderStatuses as readonly string[]).includes(s));
        if (unknown.length > 0) {
          ctx.addIssue({ code: 'custom', message: `unknown status ${unknown.join(', ')}; use ${orderStatuses.join(', ')}` });
          return z.NEVER;
        }
        return statuses as Array<(typeof orderStatuses)[number]>;
      })
      .openapi({ description: 'Comma-separated statuses, e.g. pending,confirmed' }),
  })
  .strict();

export const orderEventSchema = z
  .object({
    status: z.enum(orderStatuses),
    at: z.string().openapi({ format: 'date-time' }),
    actor: z.enum(orderActors),
    reason: z.string().nullable(),
  })
  .openapi('OrderEvent');

export const cancelOrderBody = z
  .object({ reason: z.string().trim().max(200).optional() })
  .strict()
  .openapi('CancelOrder');

export const transitionOrderBody = z
  .object({ to: z.enum(orderStatuses), reason: z.string().trim().max(200).optional() })
  .strict()
  .openapi('TransitionOrder');
