import type { Knex } from 'knex';
import { AppError } from '../../lib/errors.js';
import { enqueueOrderEvent } from '../../queue/outbox.js';
import * as cart from '../cart/service.js';
import * as catalog from '../catalog/index.js';
import { customerLockPart } from '../customers/service.js';
import { pricingSettingsPart } from '../pricing/service.js';
import { schedulePart } from '../schedule/service.js';
import { readParts } from '../../db/read-parts.js';
import { redeemCoupon } from '../coupons/service.js';
import { checkoutLines, priceCheckout, requireExpectedTotal, type CheckoutLine, type CheckoutPrice, type CheckoutPricingInput } from './pricing-step.js';
import * as repo from './repo.js';
import { requireOpenUnpaidRoom, type CustomerOrderLimits } from './customer-limits.js';
import { decideTimingFrom, takeSlotPlace, type OrderTiming } from './slot-step.js';
import type { OrderView } from './repo.js';

export interface PlaceOrderInput extends CheckoutPricingInput {
  delivery_address?: string | undefined;
  notes?: string | undefined;
  payment_method: 'card' | 'cash';
  /** The total the customer was shown; when given and different, nothing is ordered (409 price_changed). */
  expected_total_cents?: number | undefined;
  /** The start of the slot wanted (RFC 3339); absent or null: as soon as possible. */
  requested_at?: string | null | undefined;
}

export interface CheckoutTenant {
  id: number;
  currency: string;
  /** IANA zone the hours are kept in. */
  timezone: string;
}

export interface CheckoutCustomer {
  id: number;
  /** The address saved on the customer's record, used for a delivery that names none. */
  address: string | null;
}

/**
 * Places the customer's whole cart as one order, in the caller's transaction (DESIGN.md, "Placing an
 * order without overselling"). One line per rule; each calls the service that owns the rule's tables,
 * so a new rule is one more line here (a slot count is taken like the stock, near the end).
 * The price comes from `priceCheckout`, the function the quote calls, so the order charges what the
 * quote showed. Any step that throws leaves nothing behind: the transaction rolls back.
 *
 * Answers the order as written and `reserve`, the steps that take the most contended row locks (stock,
 * slot, coupon) and change nothing in the answer: the caller runs it in the same transaction, last
 * before `COMMIT` (after storing the reply), so those locks are held for as few round trips as possible.
 */
export async function placeOrder(
  trx: Knex.Transaction,
  tenant: CheckoutTenant,
  customer: CheckoutCustomer,
  input: PlaceOrderInput,
  now: Date,
  limits: CustomerOrderLimits,
): Promise<{ order: OrderView; reserve: (trx: Knex.Transaction) => Promise<void> }> {
  const deliveryAddress = chooseDeliveryAddress(input, customer.address);
  // Taken out of the cart here: the one statement that locks the cart also empties it.
  const cartLines = await cart.takeCart(trx, tenant.id, customer.id);
  const lines = checkoutLines(cartLines, await catalog.priceLines(trx, tenant.id, cartLines));
  // What the order is judged by, in one statement: the pricing settings, the schedule, and the customer's
  // row lock, taken before any stock lock (a fixed order: cart, customer, stock, slot, coupon). Locked for
  // every card order, as any may be left unpaid (the total is not known yet); only the customer's own
  // checkouts ever wait on it.
  const context = await readParts(trx, 'checkout_context', {
    pricing: pricingSettingsPart(tenant.id),
    schedule: schedulePart(tenant, now),
    customer: customerLockPart(tenant.id, customer.id, input.payment_method === 'card'),
  });
  const price = await priceCheckout(trx, tenant, context.pricing, customer, lines, input, now);
  requireExpectedTotal(input.expected_total_cents, lines, price);
  const slot = decideTimingFrom(context.schedule, requestedAtOf(input), now);
  const unpaid = leftUnpaid(input, price.breakdown.total_cents);
  const { order, openUnpaidBefore } = await repo.insertOrder(trx, tenant.id, newOrder(tenant, customer, input, deliveryAddress, lines, price, slot.timing), {
    countOpenUnpaid: unpaid,
  });
  // Judged once the order row exists: refused, the transaction rolls it back with everything else.
  if (unpaid) requireOpenUnpaidRoom(openUnpaidBefore, limits.maxOpenUnpaidOrders);
  if (needsConfirmationNow(input, price.breakdown.total_cents))
    await enqueueOrderEvent(trx, { type: 'order.confirmation_requested', restaurantId: tenant.id, orderId: order.id });
  const coupon = price.coupon;
  const reserve = async (last: Knex.Transaction): Promise<void> => {
    // The stock late: the ingredient rows it locks are then held for as few statements as possible, and
    // checkouts sharing an ingredient queue on them.
    await catalog.reserveForOrder(
      last,
      tenant.id,
      order.id,
      lines.map((line) => line.priced),
    );
    // The slot's guarded counter between stock and coupon: one fixed lock order, so racing checkouts never deadlock.
    await takeSlotPlace(last, tenant.id, slot, now);
    // The coupon's guarded counters after the stock: an order refused for stock never queues on them.
    if (coupon !== null) {
      await redeemCoupon(last, tenant.id, {
        couponId: coupon.coupon.id,
        customerId: customer.id,
        orderId: order.id,
        discountCents: price.breakdown.discount_cents,
        now,
      });
    }
  };
  return { order, reserve };
}

/** The requested instant, or null for as soon as possible (the body schema checked it is an instant). */
export const requestedAtOf = (input: { requested_at?: string | null | undefined }): Date | null =>
  input.requested_at === undefined || input.requested_at === null ? null : new Date(input.requested_at);

/**
 * Where the order goes: a delivery to the address sent, else the one saved on the customer's record
 * (neither: 400); a pickup only ever carries an address the customer sent, never the saved one. Pure.
 */
export function chooseDeliveryAddress(input: Pick<PlaceOrderInput, 'fulfillment' | 'delivery_address'>, savedAddress: string | null): string | null {
  if (input.fulfillment === 'pickup') return input.delivery_address ?? null;
  const address = input.delivery_address ?? savedAddress;
  if (address === null) {
    throw new AppError('validation_failed', 400, 'A delivery needs an address: send delivery_address or save one on your customer record', [
      { path: 'delivery_address', message: 'required for delivery' },
    ]);
  }
  return address;
}

/**
 * Cash needs no payment first: the kitchen is asked at once. A card order asks once it is paid, and one
 * with nothing to pay (a 100 % coupon) is paid at placement, so it is asked at once too. Pure.
 */
export const needsConfirmationNow = (input: Pick<PlaceOrderInput, 'payment_method'>, totalCents: number): boolean =>
  input.payment_method === 'cash' || paidAtPlacement(totalCents);

/** A card order with something to pay waits for its payment, holding stock meanwhile: it counts toward the cap. Pure. */
const leftUnpaid = (input: Pick<PlaceOrderInput, 'payment_method'>, totalCents: number): boolean =>
  input.payment_method === 'card' && !paidAtPlacement(totalCents);

/** An order with nothing to pay is paid when placed (API.md "Prices"): no payment can ever be taken for it. Pure. */
export const paidAtPlacement = (totalCents: number): boolean => totalCents === 0;

function newOrder(
  tenant: CheckoutTenant,
  customer: CheckoutCustomer,
  input: PlaceOrderInput,
  deliveryAddress: string | null,
  lines: readonly CheckoutLine[],
  price: CheckoutPrice,
  timing: OrderTiming,
): repo.NewOrder {
  const { breakdown } = price;
  return {
    customerId: customer.id,
    paymentMethod: input.payment_method,
    paymentStatus: paidAtPlacement(breakdown.total_cents) ? 'paid' : 'unpaid',
    fulfillment: input.fulfillment,
    deliveryAddress,
    deliveryLocation: price.deliveryLocation,
    notes: input.notes === undefined || input.notes === '' ? null : input.notes,
    currency: tenant.currency,
    timing,
    breakdown: {
      subtotal_cents: breakdown.subtotal_cents,
      discount_cents: breakdown.discount_cents,
      coupon_code: price.coupon?.coupon.code ?? null,
      service_charges: breakdown.service_charges,
      delivery_fee_cents: breakdown.delivery_fee_cents,
      taxes: breakdown.taxes,
      tax_cents: breakdown.tax_cents,
      tip_cents: breakdown.tip_cents,
      total_cents: breakdown.total_cents,
    },
    items: lines.map(({ priced: line }) => ({
      recipe_id: line.recipe_id,
      name: line.name,
      description: line.description,
      quantity: line.quantity,
      customizations: line.customizations,
      options: line.options,
      allergens: line.allergens,
      unit_price_cents: line.unitPriceCents,
      line_total_cents: line.lineTotalCents,
    })),
  };
}
