import type { Request, RequestHandler } from 'express';
import type { Knex } from 'knex';
import { rateLimit, type RateLimitExceededEventHandler, type RateLimitInfo } from 'express-rate-limit';
import { AppError, sendProblem } from '../http/errors.js';
import { PostgresRateLimitStore, type Now } from '../http/rate-limit-store.js';

export interface AuthRateLimitConfig {
  /** Requests per client IP per minute to the credential routes, and separately to the token routes (AUTH_RATE_LIMIT_PER_IP). */
  perIpPerMinute: number;
  /** Failed attempts per email per minute and route; for forgot-password every request (AUTH_RATE_LIMIT_FAILED_PER_EMAIL). */
  failedPerEmailPerMinute: number;
}

export interface AuthRateLimiters {
  /** One counter per client IP shared by the routes that take an email and a secret (sign-up, confirm, login, password reset). */
  perIp: RequestHandler;
  /** One counter per client IP for the routes that take a refresh token (refresh, logout): a busy app refreshes often. */
  perIpForTokens: RequestHandler;
  /** Failed attempts per email on one route, whatever IP they come from: slows guessing a password or a code. */
  failedPerEmail(route: 'login' | 'confirm' | 'reset-password'): RequestHandler;
  /** Every request per email: forgot-password always answers 204, and each one mails a code. */
  perEmail(route: 'forgot-password'): RequestHandler;
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
 * express-rate-limit over counters in Postgres, so every instance on the database enforces one limit.
 * The client IP is `req.ip`, which is only as good as the app's `trust proxy` (TRUST_PROXY): with none
 * trusted, a forged X-Forwarded-For changes nothing.
 */
export function createAuthRateLimiters(config: AuthRateLimitConfig, options: { db: Knex; now?: Now }): AuthRateLimiters {
  const store = (prefix: string) => new PostgresRateLimitStore(options.db, prefix, options.now);
  // The X-Forwarded-For check would print to the console (not our log) whenever a client sends the header
  // while no proxy is trusted, which is exactly the case TRUST_PROXY handles.
  const validate = { xForwardedForHeader: false };
  const perIp = (prefix: string) =>
    rateLimit({
      windowMs: WINDOW_MS,
      limit: config.perIpPerMinute,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      store: store(prefix),
      validate,
      handler: tooMany,
    });
  const perEmail = (prefix: string, onlyFailures: boolean) =>
    rateLimit({
      windowMs: WINDOW_MS,
      limit: config.failedPerEmailPerMinute,
      standardHeaders: false,
      legacyHeaders: false,
      // Failures only: a request is counted, then uncounted when it succeeds.
      skipSuccessfulRequests: onlyFailures,
      skip: (req) => emailOf(req) === undefined,
      keyGenerator: (req) => emailOf(req) ?? '',
      store: store(prefix),
      validate,
      handler: tooMany,
    });
  return {
    perIp: perIp('auth-ip'),
    perIpForTokens: perIp('auth-token-ip'),
    failedPerEmail: (route) => perEmail(`auth-failed-${route}`, true),
    perEmail: (route) => perEmail(`auth-email-${route}`, false),
  };
}
