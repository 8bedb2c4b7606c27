import type { Knex } from 'knex';

/**
 * Rate-limit counters shared by every instance (src/http/rate-limit-store.ts): one row per limited key
 * and window, so N instances behind a balancer enforce one limit, not N times it. `key` is a hash of the
 * limiter's prefix and the client's key (an IP, an email), so no address or email is stored in clear.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE rate_limit_counters (
      key      text PRIMARY KEY CHECK (length(key) = 64),
      hits     integer NOT NULL CHECK (hits >= 0),
      reset_at timestamptz NOT NULL
    )`);
  // The sweep deletes windows that have ended.
  await knex.raw('CREATE INDEX rate_limit_counters_reset_at ON rate_limit_counters (reset_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE rate_limit_counters');
}
