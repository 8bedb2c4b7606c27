import type { DiscountInput, Fulfillment } from '../pricing/price.js';

/** Why a coupon cannot be used on an order: the `reason` of `422 coupon_invalid` (API.md). */
export type CouponRejection = 'unknown' | 'not_started' | 'expired' | 'limit_reached' | 'customer_limit_reached' | 'min_not_met' | 'not_applicable';

export const couponRejections: readonly CouponRejection[] = [
  'unknown',
  'not_started',
  'expired',
  'limit_reached',
  'customer_limit_reached',
  'min_not_met',
  'not_applicable',
];

/** What the rules need of a coupon; an active coupon as the service shows it is one. */
export interface CouponRule {
  kind: 'percent' | 'amount';
  /** Set for `percent` coupons: a decimal string, more than 0 and at most 100. */
  percent: string | null;
  /** Set for `amount` coupons. */
  amount_cents: number | null;
  min_subtotal_cents: number;
  /** RFC 3339 instants; null: no bound. */
  starts_at: string | null;
  ends_at: string | null;
  max_redemptions: number | null;
  max_per_customer: number | null;
  fulfillment: readonly Fulfillment[];
}

export interface CouponContext {
  now: Date;
  /** The order's subtotal before any discount. */
  subtotal_cents: number;
  fulfillment: Fulfillment;
  /** Redemptions of the coupon that count (not given back), by everyone. */
  redemptions_total: number;
  /** Of those, the customer's own. */
  redemptions_by_customer: number;
}

export type CouponEvaluation = { ok: true; discount: DiscountInput } | { ok: false; reason: CouponRejection };

/**
 * Whether a coupon applies to an order, and the discount to hand to `priceOrder` when it does (which
 * caps it at the subtotal and spreads it over the lines). Pure: the caller reads the coupon and the
 * counts, and passes the clock's now. An unknown or archived coupon is `undefined`.
 *
 * The window is half-open: usable from `starts_at` (inclusive) until `ends_at` (exclusive). The minimum is
 * inclusive and on the subtotal before the discount. When several reasons hold, the one the customer can
 * do nothing about is given first (unknown, the window, the limits), then the ones they can fix (the
 * fulfillment, the minimum), so nobody is told to add to their cart for a coupon that is used up.
 */
export function evaluateCoupon(coupon: CouponRule | undefined, context: CouponContext): CouponEvaluation {
  if (coupon === undefined) return { ok: false, reason: 'unknown' };
  const reason = rejectionOf(coupon, context);
  if (reason !== undefined) return { ok: false, reason };
  if (coupon.kind === 'percent' && coupon.percent !== null) return { ok: true, discount: { kind: 'percent', percent: coupon.percent } };
  if (coupon.kind === 'amount' && coupon.amount_cents !== null) return { ok: true, discount: { kind: 'amount', amount_cents: coupon.amount_cents } };
  throw new RangeError(`a ${coupon.kind} coupon needs its ${coupon.kind === 'percent' ? 'percent' : 'amount_cents'}`);
}

/** `not_started` or `expired` when `now` is outside the coupon's window [starts_at, ends_at). */
export function windowRejection(coupon: Pick<CouponRule, 'starts_at' | 'ends_at'>, now: Date): 'not_started' | 'expired' | undefined {
  if (coupon.starts_at !== null && now.getTime() < Date.parse(coupon.starts_at)) return 'not_started';
  if (coupon.ends_at !== null && now.getTime() >= Date.parse(coupon.ends_at)) return 'expired';
  return undefined;
}

function rejectionOf(coupon: CouponRule, context: CouponContext): CouponRejection | undefined {
  const outside = windowRejection(coupon, context.now);
  if (outside !== undefined) return outside;
  if (coupon.max_redemptions !== null && context.redemptions_total >= coupon.max_redemptions) return 'limit_reached';
  if (coupon.max_per_customer !== null && context.redemptions_by_customer >= coupon.max_per_customer) return 'customer_limit_reached';
  if (!coupon.fulfillment.includes(context.fulfillment)) return 'not_applicable';
  if (context.subtotal_cents < coupon.min_subtotal_cents) return 'min_not_met';
  return undefined;
}
