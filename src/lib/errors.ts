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
  | 'internal';

export const errorCodes: readonly ErrorCode[] = [
  'validation_failed', 'unauthenticated', 'forbidden', 'not_found', 'restaurant_not_found', 'conflict',
  'insufficient_stock', 'invalid_transition', 'idempotency_key_in_use', 'idempotency_key_reused',
  'idempotency_key_required', 'cart_empty', 'payment_declined', 'payload_too_large', 'rate_limited',
  'https_required', 'service_unavailable', 'internal',
];

export interface FieldError {
  path: string;
  message: string;
}

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
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new AppError('not_found', 404, `${what} was not found`);
export const validationFailed = (detail: string, errors?: FieldError[]) => new AppError('validation_failed', 400, detail, errors);
export const conflict = (detail: string, errors?: FieldError[]) => new AppError('conflict', 409, detail, errors);
