import type { Knex } from 'knex';
import { runSql } from './sql.js';

// Coupons and their redemptions. The limits are counters taken like stock, each by one guarded
// statement in the order's transaction: coupons.redemptions_count against max_redemptions, and
// coupon_customer_redemptions.redemptions_count against max_per_customer. coupon_redemptions is the
// ledger (one row per order that used a coupon); released_at marks one given back, exactly once.
// A code is unique among a restaurant's active coupons whatever its case; it is kept as the manager wrote it.
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE coupons (
      restaurant_id      bigint NOT NULL REFERENCES restaurants (id),
      id                 bigint GENERATED ALWAYS AS IDENTITY,
      code               text NOT NULL CHECK (code ~ '^[A-Za-z0-9_-]{3,32}$'),
      kind               text NOT NULL CHECK (kind IN ('percent', 'amount')),
      percent            text CHECK (percent ~ '^(0|[1-9][0-9]{0,2})([.][0-9]{1,4})?$' AND percent::numeric > 0 AND percent::numeric <= 100),
      amount_cents       integer CHECK (amount_cents >= 1),
      min_subtotal_cents integer NOT NULL DEFAULT 0 CHECK (min_subtotal_cents >= 0),
      starts_at          timestamptz,
      ends_at            timestamptz,
      max_redemptions    integer CHECK (max_redemptions >= 1),
      max_per_customer   integer CHECK (max_per_customer >= 1),
      fulfillment        text[] NOT NULL DEFAULT ARRAY['pickup', 'delivery']
                           CHECK (cardinality(fulfillment) >= 1 AND fulfillment <@ ARRAY['pickup', 'delivery']),
      redemptions_count  integer NOT NULL DEFAULT 0 CHECK (redemptions_count >= 0),
      archived_at        timestamptz,
      created_at         timestamptz NOT NULL DEFAULT now(),
      updated_at         timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      CHECK ((kind = 'percent') = (percent IS NOT NULL) AND (kind = 'amount') = (amount_cents IS NOT NULL)),
      CHECK (ends_at > starts_at)
    );
    CREATE UNIQUE INDEX coupons_active_code_unique ON coupons (restaurant_id, lower(code)) WHERE archived_at IS NULL;
    CREATE INDEX coupons_active ON coupons (restaurant_id, id DESC) WHERE archived_at IS NULL;

    CREATE TABLE coupon_customer_redemptions (
      restaurant_id     bigint NOT NULL,
      coupon_id         bigint NOT NULL,
      customer_id       bigint NOT NULL,
      redemptions_count integer NOT NULL CHECK (redemptions_count >= 0),
      PRIMARY KEY (restaurant_id, coupon_id, customer_id),
      FOREIGN KEY (restaurant_id, coupon_id) REFERENCES coupons (restaurant_id, id),
      FOREIGN KEY (restaurant_id, customer_id) REFERENCES customers (restaurant_id, id)
    );

    CREATE TABLE coupon_redemptions (
      restaurant_id  bigint NOT NULL,
      id             bigint GENERATED ALWAYS AS IDENTITY,
      coupon_id      bigint NOT NULL,
      order_id       bigint NOT NULL,
      customer_id    bigint NOT NULL,
      discount_cents integer NOT NULL CHECK (discount_cents >= 0),
      created_at     timestamptz NOT NULL DEFAULT now(),
      released_at    timestamptz,
      PRIMARY KEY (restaurant_id, id),
      -- One coupon per order.
      CONSTRAINT coupon_redemptions_one_per_order UNIQUE (restaurant_id, order_id),
      FOREIGN KEY (restaurant_id, coupon_id) REFERENCES coupons (restaurant_id, id),
      FOREIGN KEY (restaurant_id, order_id) REFERENCES orders (restaurant_id, id),
      FOREIGN KEY (restaurant_id, customer_id) REFERENCES customers (restaurant_id, id)
    );
    -- Staff list a coupon's redemptions newest first (keyset on id).
    CREATE INDEX coupon_redemptions_by_coupon ON coupon_redemptions (restaurant_id, coupon_id, id DESC);
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE coupon_redemptions; DROP TABLE coupon_customer_redemptions; DROP TABLE coupons;');
}
