import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { sqlState } from '../db/transaction.js';
import { AppError, conflict, validationFailed, type ErrorCode, type FieldError } from '../lib/errors.js';

export { AppError, conflict, errorCodes, notFound, validationFailed, type ErrorCode, type FieldError, type ProblemExtensions } from '../lib/errors.js';

const titles: Record<ErrorCode, string> = {
  validation_failed: 'Validation failed',
  unauthenticated: 'Unauthenticated',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  restaurant_not_found: 'Restaurant not found',
  conflict: 'Conflict',
  insufficient_stock: 'Insufficient stock',
  invalid_transition: 'Invalid transition',
  idempotency_key_in_use: 'Idempotency key in use',
  idempotency_key_reused: 'Idempotency key reused',
  idempotency_key_required: 'Idempotency key required',
  cart_empty: 'Cart is empty',
  payment_declined: 'Payment declined',
  payload_too_large: 'Payload too large',
  rate_limited: 'Too many requests',
  https_required: 'HTTPS required',
  service_unavailable: 'Service unavailable',
  internal: 'Internal server error',
  restaurant_closed: 'Restaurant closed',
  invalid_slot: 'Invalid slot',
  slot_full: 'Slot full',
  price_changed: 'Price changed',
  too_many_open_orders: 'Too many open orders',
  unsupported_media_type: 'Unsupported media type',
  coupon_invalid: 'Coupon cannot be used',
  below_minimum: 'Below the minimum order',
  outside_delivery_area: 'Outside the delivery area',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** RFC 9457's members and ours: an extension by one of these names is dropped rather than let through. */
const standardMembers: ReadonlySet<string> = new Set(['type', 'title', 'status', 'code', 'detail', 'errors', 'instance']);

export function problemOf(error: AppError): Problem {
  const extensions = Object.entries(error.extensions ?? {}).filter(([name]) => !standardMembers.has(name));
  return {
    ...Object.fromEntries(extensions),
    type: `urn:tablekit:problem:${error.code}`,
    title: titles[error.code],
    status: error.status,
    code: error.code,
    detail: error.detail,
    ...(error.errors === undefined || error.errors.length === 0 ? {} : { errors: error.errors }),
  };
}

export function sendProblem(res: Response, error: AppError): void {
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
  res
    .status(error.status)
    .type('application/problem+json')
    .send(JSON.stringify(problemOf(error)));
}

function isExposedClientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return expose === true && typeof status === 'number' && status >= 400 && status < 500;
}

/** Postgres and driver failures the client did not cause but can retry. */
function isUnavailable(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) {
    // 08: connection exceptions; 57P01-03: server shutting down / cannot connect now; 53: out of resources;
    // 40001/40P01 reach here only after the transaction helper gave up retrying.
    return /^(08|53|57P0[123]|40001|40P01)/.test(state) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(state);
  }
  if (error instanceof Error) {
    return error.name === 'KnexTimeoutError' || /Connection terminated|connection is closed|Client has encountered a connection error/i.test(error.message);
  }
  return false;
}

/**
 * Turns anything thrown into problem+json. Constraint violations that slip past validation become 4xx
 * with a stable code; everything unknown becomes a bare 500 whose detail never carries a stack, SQL or
 * driver text (those go to the log with the request id).
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const bodyParserType = typeof error === 'object' && error !== null && 'type' in error ? String(error.type) : undefined;
  if (bodyParserType === 'entity.too.large') return new AppError('payload_too_large', 413, 'The request body is larger than 100 kB');
  if (bodyParserType === 'entity.parse.failed') return validationFailed('The request body is not valid JSON');
  if (bodyParserType === 'encoding.unsupported' || bodyParserType === 'charset.unsupported') {
    return new AppError('validation_failed', 400, 'The request body must be UTF-8 JSON');
  }
  // The router could not decode a path parameter (a malformed %-escape such as `/v1/orders/%zz`).
  if (error instanceof URIError) return validationFailed('The request path has a malformed percent-encoding');
  // Any other refusal of the body parser: a body that does not decompress as its Content-Encoding says,
  // a client that hung up mid-body. It marks those `expose` with a 4xx status, as http-errors does.
  if (isExposedClientError(error)) return validationFailed('The request body cannot be read');
  switch (sqlState(error)) {
    case '23505':
      return conflict('A record with the same unique value already exists');
    case '23503':
      return /still referenced/i.test(error instanceof Error ? error.message : '')
        ? conflict('The record is still in use')
        : validationFailed('A referenced record does not exist');
    case '23514':
    case '23502':
    case '22001':
    case '22003':
    case '22P02':
    case '22007':
    case '22008':
      return validationFailed('A value is out of range or malformed');
    // A backstop: text with a NUL (character_not_in_repertoire) or that the database encoding cannot hold
    // (untranslatable_character) is refused before it gets here (src/lib/text.ts).
    case '22021':
    case '22P05':
      return validationFailed('A text value holds characters that are not allowed');
    default:
      break;
  }
  if (isUnavailable(error)) {
    return new AppError('service_unavailable', 503, 'The service is briefly unavailable; try again shortly', undefined, { 'Retry-After': '1' });
  }
  return new AppError('internal', 500, 'An unexpected error occurred');
}

/**
 * For `server.on('clientError')`: a request Node's HTTP parser refuses before the app sees it (a request
 * line and headers over the 16 kB limit, malformed HTTP) still gets a problem+json answer, not Node's bare
 * status line. A connection that is already gone, or merely timed out idle, is just closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const problem = problemOf(
    tooLarge
      ? new AppError('validation_failed', 431, 'The request line and headers are larger than this server accepts (16 kB)')
      : validationFailed('The request is not valid HTTP'),
  );
  const body = JSON.stringify(problem);
  // The request's own X-Request-Id cannot be read from a head the parser refused: every answer still gets one.
  socket.end(
    `HTTP/1.1 ${problem.status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `Content-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${randomUUID()}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      (req.log ?? logger).error({ err: error, code: appError.code }, 'request failed');
    }
    if (res.headersSent) {
      next(error);
      return;
    }
    sendProblem(res, appError);
  };
}
