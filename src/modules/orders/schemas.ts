import { z } from '../../http/zod.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { deliveryLocationSchema } from '../delivery-zones/schemas.js';
import { MAX_TIP_CENTS } from '../pricing/price.js';
import { percentString } from '../pricing/schemas.js';
import { ALLERGENS } from '../../lib/allergens.js';
import { orderActors, orderStatuses } from './state-machine.js';

const fulfillment = z.enum(['pickup', 'delivery']);

const requestedAt = z.iso
  .datetime({ offset: true })
  .nullable()
  .optional()
  .openapi({ description: 'The start of the slot wanted (RFC 3339 instant, see GET /v1/restaurant/slots); absent or null: as soon as possible' });

/** What decides the price, the same in the quote and the order, so the quote is what the order charges. */
const pricingFields = {
  fulfillment,
  tip_cents: z
    .number()
    .int()
    .min(0)
    .max(MAX_TIP_CENTS)
    .optional()
    .openapi({ description: 'A tip in minor units (or send tip_percent); refused while the restaurant takes no tips' }),
  tip_percent: percentString.optional().openapi({ description: 'A tip as a percentage of the subtotal after the discount (or send tip_cents)' }),
  coupon_code: z.string().max(64).optional().openapi({ description: 'Case-insensitive' }),
  delivery_location: deliveryLocationSchema
    .optional()
    .openapi({ description: 'Where to deliver; required for delivery while the restaurant has delivery zones' }),
};

export const placeOrderBody = z
  .object({
    ...pricingFields,
    delivery_address: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "Required for delivery unless the customer's record has an address" }),
    notes: z.string().trim().max(200).optional(),
    payment_method: z.enum(['card', 'cash']),
    requested_at: requestedAt,
    expected_total_cents: z.number().int().min(0).optional().openapi({
      description: 'The total_cents of a quote: if the order would be charged anything else, nothing is ordered (409 price_changed, with the fresh quote)',
    }),
  })
  .strict()
  .openapi('PlaceOrder');

export const quoteBody = z
  .object({
    ...pricingFields,
    requested_at: requestedAt,
  })
  .strict()
  .openapi('QuoteRequest');

const chargePart = z.object({ name: z.string(), amount_cents: z.number().int() }).openapi('ChargePart');
const taxPart = z
  .object({
    name: z.string(),
    rate: z.string().openapi({ description: 'A decimal string, "8.875" for 8.875 %' }),
    inclusive: z.boolean().openapi({ description: 'true: inside the prices (the total does not grow); false: added to the total' }),
    taxable_cents: z.number().int(),
    tax_cents: z.number().int(),
  })
  .openapi('TaxPart');

/** The breakdown an order keeps (snapshots taken at placement) and a quote shows. */
const breakdownFields = {
  subtotal_cents: z.number().int().openapi({ description: 'The sum of the line totals' }),
  discount_cents: z.number().int().openapi({ description: "The coupon's discount, spread over the lines" }),
  coupon_code: z.string().nullable().openapi({ description: 'The coupon applied, as the restaurant spells it; null: none' }),
  service_charges: z.array(chargePart),
  delivery_fee_cents: z.number().int().openapi({ description: 'Always 0 for a pickup' }),
  taxes: z.array(taxPart),
  tax_cents: z.number().int().openapi({ description: 'The sum of taxes[].tax_cents, inclusive ones included' }),
  tip_cents: z.number().int().openapi({ description: 'Never taxed, never discounted' }),
  total_cents: z.number().int().openapi({
    description: 'What is charged: subtotal − discount + service charges + delivery fee + exclusive taxes + tip',
  }),
};

export const orderBreakdownSchema = z.object(breakdownFields);

const customization = z.object({ ingredient_id: z.number().int(), quantity: z.number().int() });

export const orderSchema = z
  .object({
    id: z.number().int().positive(),
    status: z.enum(orderStatuses),
    payment_status: z.enum(['unpaid', 'paid', 'partially_refunded', 'refunded']),
    payment_method: z.enum(['card', 'cash']),
    fulfillment: z.enum(['pickup', 'delivery']),
    delivery_address: z.string().nullable(),
    delivery_location: deliveryLocationSchema.nullable().openapi({ description: 'Where a delivery by zone goes; null for a pickup or without zones' }),
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
    ...breakdownFields,
    requested_at: z.string().nullable().openapi({ format: 'date-time', description: 'The slot start the customer asked for; null: as soon as possible' }),
    slot_starts_at: z
      .string()
      .nullable()
      .openapi({ format: 'date-time', description: 'The slot the order counts in (null only for orders placed before slots existed)' }),
    promised_at: z.string().openapi({ format: 'date-time', description: 'When it is due: ASAP, placement + lead time; scheduled, the slot start' }),
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
    customer_id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().openapi({ description: "Staff: one customer's orders" }),
    due_from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Staff: orders due (promised_at) at or after this instant' }),
    due_to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Staff: orders due (promised_at) before this instant; after due_from' }),
  })
  .strict()
  .superRefine((query, ctx) => {
    if (query.due_from !== undefined && query.due_to !== undefined && Date.parse(query.due_to) <= Date.parse(query.due_from)) {
      ctx.addIssue({ code: 'custom', path: ['due_to'], message: 'must be after due_from' });
    }
  });

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

export const rejectCustomerOrdersBody = z
  .object({ reason: z.string().trim().min(1).max(200).optional() })
  .strict()
  .openapi('RejectCustomerOrders');

export const rejectedOrdersSchema = z
  .object({ rejected: z.array(z.number().int().positive()).openapi({ description: 'The orders rejected, oldest first' }) })
  .openapi('RejectedOrders');

export const transitionOrderBody = z
  .object({ to: z.enum(orderStatuses), reason: z.string().trim().max(200).optional() })
  .strict()
  .openapi('TransitionOrder');

export const quoteSchema = z
  .object({
    lines: z.array(
      z.object({
        id: z.number().int().positive().openapi({ description: 'The cart line' }),
        recipe_id: z.number().int().positive(),
        name: z.string(),
        quantity: z.number().int(),
        customizations: z.array(customization),
        unit_price_cents: z.number().int(),
        line_total_cents: z.number().int(),
        discount_cents: z.number().int().openapi({ description: "This line's share of the discount" }),
        tax_cents: z.number().int(),
        total_cents: z.number().int().openapi({ description: 'line_total − its discount + its service charges + its exclusive taxes' }),
      }),
    ),
    currency: z.string(),
    ...breakdownFields,
  })
  .openapi('Quote', { description: 'What placing the cart as an order with the same fields would charge now, to the cent' });
