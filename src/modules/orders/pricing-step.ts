import type { Queryable } from '../../db/database.js';
import { AppError } from '../../lib/errors.js';
import { assertOrderTotalFits } from '../../lib/money.js';
import * as cart from '../cart/service.js';
import * as catalog from '../catalog/index.js';
import { couponForOrder, type AppliedCoupon } from '../coupons/service.js';
import { deliveryTermsForOrder, requireDeliveryMinimum, type LatLng, type OrderDeliveryTerms } from '../delivery-zones/service.js';
import { deliveryFeeCents } from '../pricing/delivery.js';
import { priceOrder, type ChargePart, type Fulfillment, type PriceBreakdown, type TaxPart } from '../pricing/price.js';
import { getPricingSettings, type PricingSettings } from '../pricing/service.js';

/** What the customer sent that decides the price: the quote and the order take the same fields. */
export interface CheckoutPricingInput {
  fulfillment: Fulfillment;
  tip_cents?: number | undefined;
  tip_percent?: string | undefined;
  coupon_code?: string | undefined;
  delivery_location?: LatLng | undefined;
}

export interface CheckoutPriceTenant {
  id: number;
  currency: string;
}

/** A cart line priced from the live menu, with the cart line's id (the quote shows it). */
export interface CheckoutLine {
  cartLineId: number;
  priced: catalog.PricedLine;
}

/** Pairs each cart line with its priced line (`priceLines` answers them in the cart's order). */
export function checkoutLines(cartLines: ReadonlyArray<{ id: number }>, priced: readonly catalog.PricedLine[]): CheckoutLine[] {
  if (cartLines.length !== priced.length) throw new Error('every cart line must be priced');
  return priced.map((line, index) => ({ cartLineId: Number(cartLines[index]?.id), priced: line }));
}

/** Everything checkout decided about the money of one order, before anything is written. */
export interface CheckoutPrice {
  breakdown: PriceBreakdown;
  /** The coupon that applies (its redemption is counted once the order row exists), or null. */
  coupon: AppliedCoupon | null;
  /** The delivery terms it was priced with; null for a pickup, which never pays a delivery fee. */
  delivery: OrderDeliveryTerms | null;
  /** Where a delivery goes, when the customer said (required while the restaurant has zones); null for a pickup. */
  deliveryLocation: LatLng | null;
}

/**
 * The one price of a checkout, for the quote and the order alike (API.md "Prices", "Delivery zones"):
 * the restaurant's pricing settings, the delivery terms of the zone the location is in (400 without a
 * location while zones exist, 422 outside_delivery_area, 422 below_minimum on the subtotal before any
 * discount), the coupon (422 coupon_invalid with its reason), then `priceOrder` (400 for a tip it refuses).
 * `settings` are the restaurant's pricing settings, read by the caller (checkout reads them with its other
 * settings in one statement). Reads only; pass the order's transaction so the order is charged what this
 * read. `now` decides a coupon's window.
 */
export async function priceCheckout(
  db: Queryable,
  tenant: CheckoutPriceTenant,
  settings: PricingSettings,
  customer: { id: number | undefined },
  lines: readonly CheckoutLine[],
  input: CheckoutPricingInput,
  now: Date,
): Promise<CheckoutPrice> {
  const subtotalCents = lines.reduce((sum, line) => sum + line.priced.lineTotalCents, 0);
  assertOrderTotalFits(subtotalCents);

  let delivery: OrderDeliveryTerms | null = null;
  if (input.fulfillment === 'delivery') {
    delivery = await deliveryTermsForOrder(db, tenant.id, input.delivery_location, settings.delivery);
    requireDeliveryMinimum(delivery, subtotalCents);
  }
  const coupon =
    input.coupon_code === undefined
      ? null
      : await couponForOrder(db, tenant.id, { code: input.coupon_code, customerId: customer.id, subtotalCents, fulfillment: input.fulfillment, now });

  const breakdown = priceOrder({
    lines: lines.map((line) => ({ id: line.cartLineId, quantity: line.priced.quantity, line_total_cents: line.priced.lineTotalCents })),
    rules: settings,
    fulfillment: input.fulfillment,
    currency: tenant.currency,
    discount: coupon?.discount,
    delivery_fee_cents: delivery === null ? undefined : deliveryFeeCents(delivery, subtotalCents),
    tip: { tip_cents: input.tip_cents, tip_percent: input.tip_percent },
  });
  assertOrderTotalFits(breakdown.total_cents);
  return {
    breakdown,
    coupon,
    delivery,
    deliveryLocation: input.fulfillment === 'delivery' ? (input.delivery_location ?? null) : null,
  };
}

/** One line of a quote: the cart line as priced now, with its share of the discount and its taxes. */
export interface QuoteLine {
  id: number;
  recipe_id: number;
  name: string;
  quantity: number;
  customizations: Array<{ ingredient_id: number; quantity: number }>;
  unit_price_cents: number;
  line_total_cents: number;
  discount_cents: number;
  tax_cents: number;
  /** line_total − discount + its service charges + its exclusive taxes. */
  total_cents: number;
}

/** The breakdown as the quote answers it, and as `409 price_changed` carries it in `quote`. */
export interface QuoteView {
  lines: QuoteLine[];
  currency: string;
  subtotal_cents: number;
  discount_cents: number;
  coupon_code: string | null;
  service_charges: ChargePart[];
  delivery_fee_cents: number;
  taxes: TaxPart[];
  tax_cents: number;
  tip_cents: number;
  total_cents: number;
}

export function quoteView(lines: readonly CheckoutLine[], price: CheckoutPrice): QuoteView {
  const { breakdown } = price;
  return {
    lines: lines.map((line, index) => {
      const part = breakdown.lines[index];
      if (part === undefined || part.id !== line.cartLineId) throw new Error('the breakdown lines do not follow the cart lines');
      return {
        id: line.cartLineId,
        recipe_id: line.priced.recipe_id,
        name: line.priced.name,
        quantity: line.priced.quantity,
        customizations: line.priced.customizations.map((c) => ({ ingredient_id: c.ingredient_id, quantity: c.quantity })),
        unit_price_cents: line.priced.unitPriceCents,
        line_total_cents: line.priced.lineTotalCents,
        discount_cents: part.discount_cents,
        tax_cents: part.tax_cents,
        total_cents: part.total_cents,
      };
    }),
    currency: breakdown.currency,
    subtotal_cents: breakdown.subtotal_cents,
    discount_cents: breakdown.discount_cents,
    coupon_code: price.coupon?.coupon.code ?? null,
    service_charges: breakdown.service_charges,
    delivery_fee_cents: breakdown.delivery_fee_cents,
    taxes: breakdown.taxes,
    tax_cents: breakdown.tax_cents,
    tip_cents: breakdown.tip_cents,
    total_cents: breakdown.total_cents,
  };
}

/**
 * `expected_total_cents` is the total the customer was shown (by a quote): when it is not what this order
 * would be charged, nothing is ordered (`409 price_changed`) and the fresh breakdown goes back as `quote`.
 */
export function requireExpectedTotal(expectedTotalCents: number | undefined, lines: readonly CheckoutLine[], price: CheckoutPrice): void {
  if (expectedTotalCents === undefined || expectedTotalCents === price.breakdown.total_cents) return;
  throw new AppError(
    'price_changed',
    409,
    `The total is now ${price.breakdown.total_cents}, not the expected ${expectedTotalCents}; nothing was ordered. The fresh breakdown is in quote`,
    undefined,
    undefined,
    { quote: quoteView(lines, price) },
  );
}

/**
 * `POST /v1/cart/quote`: the customer's cart priced exactly as placing it with the same fields would price
 * it now, with the same refusals. Changes nothing: the cart is read, not locked, and no coupon is counted.
 */
export async function quoteCart(
  db: Queryable,
  tenant: CheckoutPriceTenant,
  customer: { id: number },
  input: CheckoutPricingInput,
  now: Date,
): Promise<QuoteView> {
  const cartLines = await cart.readCartForQuote(db, tenant.id, customer.id);
  const lines = checkoutLines(cartLines, await catalog.priceLines(db, tenant.id, cartLines));
  return quoteView(lines, await priceCheckout(db, tenant, await getPricingSettings(db, tenant.id), customer, lines, input, now));
}
