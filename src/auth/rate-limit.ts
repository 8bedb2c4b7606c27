import type { Request, RequestHandler } from 'express';
import { rateLimit, type RateLimitExceededEventHandler, type RateLimitInfo } from 'express-rate-limit';
import { AppError, sendProblem } from '../http/errors.js';

export interface AuthRateLimitConfig {
  /** Sign-ups and logins per client IP per minute (AUTH_RATE_LIMIT_PER_IP). */
  perIpPerMinute: number;
  /** Failed logins per email per minute (AUTH_RATE_LIMIT_FAILED_PER_EMAIL). */
  failedPerEmailPerMinute: number;
}

export interface AuthRateLimiters {
  /** One counter per client IP, shared by sign-up and login. */
  perIp: RequestHandler;
  /** Failed logins per email, whatever IP they come from: slows password guessing against one account. */
  failedLoginsPerEmail: RequestHandler;
}

const WINDOW_MS = 60_000;

function retryAfterSeconds(req: Request): number {
  const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
  const resetAt = info?.resetTime?.getTime() ?? Date.now() + WINDOW_MS;
  return Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
}

const tooMany: RateLimitExceededEventHandler = (req, res) => {
  sendProblem(res, new AppError('rate_limited', 429, 'Too many attempts; try again later', undefined, { 'Retry-After': String(retryAfterSeconds(req)) }));
};

function emailOf(req: Request): string | undefined {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.trim() !== '' ? email.trim().toLowerCase() : undefined;
}

/**
 * express-rate-limit with its in-memory store: each process counts on its own, so with several instances
 * the effective limit is multiplied by their number (README: give it a shared store then).
 */
export function createAuthRateLimiters(config: AuthRateLimitConfig): AuthRateLimiters {
  return {
    perIp: rateLimit({
      windowMs: WINDOW_MS,
      limit: config.perIpPerMinute,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      handler: tooMany,
    }),
    failedLoginsPerEmail: rateLimit({
      windowMs: WINDOW_MS,
      limit: config.failedPerEmailPerMinute,
      standardHeaders: false,
      legacyHeaders: false,
      // Only failures count: a request is counted, then uncounted when it succeeds.
      skipSuccessfulRequests: true,
      skip: (req) => emailOf(req) === undefined,
      keyGenerator: (req) => `login:${emailOf(req) ?? ''}`,
      handler: tooMany,
    }),
  };
}
