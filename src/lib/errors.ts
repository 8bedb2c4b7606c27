/**
 * The typed failures every layer throws (STYLE.md habit 3). Only src/http renders them (problem+json);
 * services and repos import them from here, never from src/http.
 */
/** The stable machine codes of API.md; clients branch on these. */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'restaurant_not_found'
  | 'conflict'
  | 'insufficient_stock'
  | 'invalid_transition'
  | 'idempotency_key_in_use'
  | 'idempotency_key_reused'
  | 'idempotency_key_required'
  | 'cart_empty'
  | 'payment_declined'
  | 'payload_too_large'
  | 'rate_limited'
  | 'https_required'
  | 'service_unavailable'
  | 'internal'
  // Second release (API.md "Second release").
  | 'restaurant_closed'
  | 'invalid_slot'
  | 'slot_full'
  | 'price_changed'
  | 'coupon_invalid'
  | 'below_minimum'
  | 'outside_delivery_area'
  | 'too_many_open_orders'
  | 'unsupported_media_type';

export const errorCodes: readonly ErrorCode[] = [
  'validation_failed',
  'unauthenticated',
  'forbidden',
  'not_found',
  'restaurant_not_found',
  'conflict',
  'insufficient_stock',
  'invalid_transition',
  'idempotency_key_in_use',
  'idempotency_key_reused',
  'idempotency_key_required',
  'cart_empty',
  'payment_declined',
  'payload_too_large',
  'rate_limited',
  'https_required',
  'service_unavailable',
  'internal',
  'restaurant_closed',
  'invalid_slot',
  'slot_full',
  'price_changed',
  'coupon_invalid',
  'below_minimum',
  'outside_delivery_area',
  'too_many_open_orders',
  'unsupported_media_type',
];

export interface FieldError {
  path: string;
  message: string;
}

/**
 * Members a problem carries beside the standard ones, named in API.md next to the code that has them
 * (`shortfall_cents` on below_minimum, `reason` on coupon_invalid, `quote`, `next_open_at`, ...).
 */
export type ProblemExtensions = Readonly<Record<string, unknown>>;

/** A failure the client can act on. Thrown anywhere; rendered as problem+json in one place. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
    /** Extension members of the problem body; they can never replace a standard member. */
    readonly extensions?: ProblemExtensions,
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new AppError('not_found', 404, `${what} was not found`);
export const validationFailed = (detail: string, errors?: FieldError[]) => new AppError('validation_failed', 400, detail, errors);
export const conflict = (detail: string, errors?: FieldError[]) => new AppError('conflict', 409, detail, errors);
