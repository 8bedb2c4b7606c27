import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { IncrementResponse, Options, Store } from 'express-rate-limit';
import type { Queryable } from '../db/database.js';
import type { RateLimitCounterRecord } from '../db/tables.js';

/** What the store reads "now" from; tests pass their own. */
export type Now = () => Date;

const systemNow: Now = () => new Date();

/**
 * An express-rate-limit store whose counters live in Postgres (`rate_limit_counters`), so every instance
 * on one database counts against the same limit. A fixed window per key: the first hit opens it for
 * `windowMs`; each hit is one atomic upsert, so concurrent requests on any instances never lose a count.
 */
export class PostgresRateLimitStore implements Store {
  /** Counts are shared across processes: express-rate-limit's double-count check must not assume otherwise. */
  readonly localKeys = false;
  private windowMs = 60_000;

  constructor(
    private readonly db: Knex,
    /** Tells this limiter's keys from another's (the same IP is counted separately per limiter). */
    readonly prefix: string,
    private readonly now: Now = systemNow,
  ) {}

  /** express-rate-limit passes its options; `createHitLimiter` only the window. */
  init(options: Pick<Options, 'windowMs'>): void {
    this.windowMs = options.windowMs;
  }

  private rowKey(key: string): string {
    return createHash('sha256').update(`${this.prefix}\u0000${key}`).digest('hex');
  }

  async get(key: string): Promise<IncrementResponse | undefined> {
    const row = await this.db('rate_limit_counters')
      .where({ key: this.rowKey(key) })
      .where('reset_at', '>', this.now())
      .first('hits', 'reset_at');
    return row === undefined ? undefined : { totalHits: Number(row.hits), resetTime: new Date(row.reset_at) };
  }

  async increment(key: string): Promise<IncrementResponse> {
    const now = this.now();
    const result = await this.db
      .raw<{ rows: Array<Pick<RateLimitCounterRecord, 'hits' | 'reset_at'>> }>(
        `INSERT INTO rate_limit_counters AS c (key, hits, reset_at) VALUES (?, 1, ?)
       ON CONFLICT (key) DO UPDATE
         SET hits = CASE WHEN c.reset_at <= ? THEN 1 ELSE c.hits + 1 END,
             reset_at = CASE WHEN c.reset_at <= ? THEN excluded.reset_at ELSE c.reset_at END
       RETURNING hits, reset_at`,
        [this.rowKey(key), new Date(now.getTime() + this.windowMs), now, now],
      )
      // Fixed text, run on every limited request: planned once per connection.
      .options({ name: 'rate_limit_hit' });
    const row = result.rows[0];
    if (row === undefined) throw new Error('rate-limit upsert returned no row');
    return { totalHits: row.hits, resetTime: row.reset_at };
  }

  /** Takes back a hit (skipSuccessfulRequests): only within the window it was counted in. */
  async decrement(key: string): Promise<void> {
    await this.db('rate_limit_counters')
      .where({ key: this.rowKey(key) })
      .where('reset_at', '>', this.now())
      .where('hits', '>', 0)
      .update({ hits: this.db.raw('hits - 1') });
  }

  async resetKey(key: string): Promise<void> {
    await this.db('rate_limit_counters')
      .where({ key: this.rowKey(key) })
      .delete();
  }
}

/** Deletes the counters of windows that have ended (they would only be reset on the next hit); returns how many. */
export async function sweepExpiredRateLimitCounters(db: Queryable, now: Date = new Date()): Promise<number> {
  const deleted = await db('rate_limit_counters').where('reset_at', '<=', now).delete().returning('key');
  return deleted.length;
}
