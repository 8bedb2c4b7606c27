import type { Knex } from 'knex';
import { AppError } from './errors.js';
import { PostgresRateLimitStore, type Now } from './rate-limit-store.js';

/** Counts one attempt for a key and refuses it over the limit (429 rate_limited with Retry-After). */
export interface HitLimiter {
  hit(key: string): Promise<void>;
}

/**
 * A limit a route applies once it knows who is asking (a customer rather than an IP, so it cannot run
 * as middleware before authentication): a fixed window per key in the shared Postgres counters, so every
 * instance enforces one limit. Every attempt counts, refused ones included.
 */
export function createHitLimiter(db: Knex, options: { prefix: string; limit: number; windowMs: number; now: Now; what: string }): HitLimiter {
  const store = new PostgresRateLimitStore(db, options.prefix, options.now);
  store.init({ windowMs: options.windowMs });
  return {
    async hit(key) {
      const { totalHits, resetTime } = await store.increment(key);
      if (totalHits <= options.limit) return;
      const resetAt = resetTime?.getTime() ?? options.now().getTime() + options.windowMs;
      const seconds = Math.max(1, Math.ceil((resetAt - options.now().getTime()) / 1000));
      throw new AppError('rate_limited', 429, `Too many ${options.what}; try again in ${seconds} s`, undefined, { 'Retry-After': String(seconds) });
    },
  };
}
