// The one place this module names the app's error type, so moving AppError (to src/lib) is a one-line change.
import { AppError, conflict, notFound, validationFailed, type FieldError } from '../../lib/errors.js';
import type { CouponRejection } from './evaluate.js';

export { AppError, conflict, notFound, validationFailed, type FieldError };

const explanations: Record<CouponRejection, string> = {
  unknown: 'there is no such coupon',
  not_started: 'it cannot be used yet',
  expired: 'it has expired',
  limit_reached: 'it has been used as many times as it may be',
  customer_limit_reached: 'you have used it as many times as one customer may',
  min_not_met: 'the subtotal is below its minimum',
  not_applicable: 'it does not apply to this kind of order (pickup or delivery)',
};

/** A coupon an order or a quote cannot use: `422 coupon_invalid` with `reason` (API.md). */
export function couponInvalid(reason: CouponRejection): AppError {
  return new AppError('coupon_invalid', 422, `The coupon cannot be used: ${explanations[reason]}`, [{ path: 'coupon_code', message: reason }], undefined, {
    reason,
  });
}
