import type { ErrorCode } from './errors.js';

export interface ErrorCodeEntry {
  /** The HTTP status every problem with this code has. */
  status: number;
  /** A typical `detail`, shown as the example of this code in the OpenAPI document. */
  example: string;
  /** Problems with this code carry `Retry-After` (seconds). */
  retryAfter?: true;
}

/**
 * Every error code with its status: the one table the OpenAPI document is built from. A route lists the
 * codes it can raise (`errors` in its definition) and the document groups them by this status. Adding a
 * code to `ErrorCode` without a row here does not compile.
 */
export const errorCatalog: Record<ErrorCode, ErrorCodeEntry> = {
  validation_failed: { status: 400, example: 'The request body is not valid' },
  idempotency_key_required: { status: 400, example: 'Send an Idempotency-Key header (1-255 characters) so a retry cannot repeat this request' },
  unauthenticated: { status: 401, example: 'Send a Cognito access token as "Authorization: Bearer <token>"' },
  payment_declined: { status: 402, example: 'The card was declined (card_declined); the order is still unpaid' },
  forbidden: { status: 403, example: 'This needs the manager role in this restaurant' },
  https_required: { status: 403, example: 'Use https:// to reach this API' },
  not_found: { status: 404, example: 'The order was not found' },
  restaurant_not_found: { status: 404, example: 'No restaurant is served at this domain' },
  conflict: { status: 409, example: 'A record with the same unique value already exists' },
  insufficient_stock: { status: 409, example: 'Not enough stock for this order: Margherita (Mozzarella). Nothing was ordered or charged.' },
  invalid_transition: { status: 409, example: 'An order that is completed cannot be moved to cancelled by a customer' },
  idempotency_key_in_use: { status: 409, example: 'A request with this Idempotency-Key is still being processed; retry shortly', retryAfter: true },
  payload_too_large: { status: 413, example: 'The request body is larger than 100 kB' },
  idempotency_key_reused: { status: 422, example: 'This Idempotency-Key was already used for a different request; use a new key' },
  cart_empty: { status: 422, example: 'The cart is empty: add something before ordering' },
  restaurant_closed: { status: 409, example: 'The restaurant is not taking orders now; it opens again at next_open_at' },
  invalid_slot: { status: 422, example: 'requested_at is not the start of a slot the restaurant offers' },
  slot_full: { status: 409, example: 'That slot is full; next_available_slot is the earliest one free after it' },
  price_changed: { status: 409, example: 'The total is no longer expected_total_cents; nothing was ordered. The fresh breakdown is in quote' },
  coupon_invalid: { status: 422, example: 'This coupon cannot be used (reason: expired)' },
  below_minimum: { status: 422, example: 'Delivery needs a subtotal of at least 1500; add shortfall_cents more' },
  outside_delivery_area: { status: 422, example: 'The restaurant does not deliver to this location' },
  too_many_open_orders: { status: 429, example: 'You have 3 unpaid card orders here: pay or cancel one first' },
  unsupported_media_type: { status: 415, example: 'Send the picture as image/jpeg, image/png or image/webp' },
  rate_limited: { status: 429, example: 'Too many attempts; try again later', retryAfter: true },
  internal: { status: 500, example: 'An unexpected error occurred' },
  service_unavailable: { status: 503, example: 'The service is briefly unavailable; try again shortly', retryAfter: true },
};

/** The status of a code's problems (from the table above). */
export const statusOf = (code: ErrorCode): number => errorCatalog[code].status;
