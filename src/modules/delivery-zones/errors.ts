// The one place this module names the app's error type, so moving AppError (to src/lib) is a one-line change.
import { AppError } from '../../lib/errors.js';

export { AppError };

/** A delivery (order or quote) while the restaurant has zones, without saying where to: `400 validation_failed`. */
export function deliveryLocationRequired(): AppError {
  return new AppError('validation_failed', 400, 'This restaurant delivers by zone: send delivery_location {lat, lng} with a delivery', [
    { path: 'delivery_location', message: 'required for delivery while the restaurant has delivery zones' },
  ]);
}

/** A delivery location inside none of the restaurant's zones: `422 outside_delivery_area`. */
export function outsideDeliveryArea(): AppError {
  return new AppError('outside_delivery_area', 422, 'This location is outside every delivery zone of the restaurant', [
    { path: 'delivery_location', message: 'outside every delivery zone' },
  ]);
}

/** A delivery whose subtotal (before any discount) is under the minimum: `422 below_minimum` with `shortfall_cents`. */
export function belowMinimum(minimumCents: number, shortfallCents: number): AppError {
  return new AppError(
    'below_minimum',
    422,
    `Delivery needs a subtotal of at least ${minimumCents} (before any discount): add ${shortfallCents} more`,
    undefined,
    undefined,
    { shortfall_cents: shortfallCents },
  );
}
