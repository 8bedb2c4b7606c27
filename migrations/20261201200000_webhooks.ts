import type { Knex } from 'knex';
import { runSql } from './sql.js';

/**
 * Outgoing webhooks (API.md "Live orders", webhooks):
 *
 * - `webhook_endpoints`: where a restaurant wants its events, which ones, and the secret they are signed
 *   with. The secret is kept because every delivery is signed with it; the API returns it only once.
 *   `failing_since` is the start of the current run of failed attempts (cleared by a success): three
 *   days of it disables the endpoint.
 * - `webhook_events`: what happened, written in the transaction of the change (or, for order.placed /
 *   order.updated, in the transaction that moves the relay's cursor past the `order_events` row, which
 *   `order_event_id` names: unique, so an order event becomes a webhook event once). `data` is `json`,
 *   not `jsonb`, so the body keeps its key order and every retry sends the same bytes.
 * - `webhook_deliveries`: one per (event, endpoint subscribed when it happened). Each attempt is an
 *   outbox message naming the attempt number; the attempt claims the row (`attempt_token`,
 *   `claimed_until`) so two copies of a message never post at once.
 * - `webhook_order_cursors`: per restaurant, the `feed_seq` of `order_events` the relay has turned into
 *   webhook events. Per restaurant because `feed_seq` is commit-ordered within a restaurant only.
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE webhook_endpoints (
      restaurant_id   bigint NOT NULL REFERENCES restaurants (id),
      id              bigint GENERATED ALWAYS AS IDENTITY,
      url             text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
      events          text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 8),
      enabled         boolean NOT NULL DEFAULT true,
      secret          text NOT NULL CHECK (length(secret) BETWEEN 32 AND 200),
      failing_since   timestamptz,
      disabled_reason text CHECK (length(disabled_reason) <= 200),
      created_at      timestamptz NOT NULL DEFAULT now(),
      updated_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id)
    );

    CREATE TABLE webhook_events (
      restaurant_id  bigint NOT NULL REFERENCES restaurants (id),
      id             bigint GENERATED ALWAYS AS IDENTITY,
      type           text NOT NULL CHECK (type IN ('order.placed', 'order.updated', 'order.paid', 'order.refunded',
                       'ingredient.low_stock', 'ingredient.out_of_stock', 'restaurant.paused', 'restaurant.resumed')),
      data           json NOT NULL,
      order_event_id bigint,
      created_at     timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      UNIQUE (restaurant_id, order_event_id),
      FOREIGN KEY (restaurant_id, order_event_id) REFERENCES order_events (restaurant_id, id)
    );

    CREATE TABLE webhook_deliveries (
      restaurant_id    bigint NOT NULL,
      id               bigint GENERATED ALWAYS AS IDENTITY,
      endpoint_id      bigint NOT NULL,
      event_id         bigint NOT NULL,
      status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
      attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      last_status_code integer CHECK (last_status_code BETWEEN 100 AND 599),
      last_error       text CHECK (length(last_error) <= 500),
      last_attempt_at  timestamptz,
      next_attempt_at  timestamptz,
      attempt_token    text CHECK (length(attempt_token) <= 64),
      claimed_until    timestamptz,
      created_at       timestamptz NOT NULL DEFAULT now(),
      updated_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      UNIQUE (restaurant_id, endpoint_id, event_id),
      FOREIGN KEY (restaurant_id, endpoint_id) REFERENCES webhook_endpoints (restaurant_id, id) ON DELETE CASCADE,
      FOREIGN KEY (restaurant_id, event_id) REFERENCES webhook_events (restaurant_id, id),
      -- A pending delivery always has its next attempt planned; a settled one has none.
      CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
      CHECK ((attempt_token IS NULL) = (claimed_until IS NULL))
    );
    -- An endpoint's deliveries, newest first.
    CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (restaurant_id, endpoint_id, id);

    CREATE TABLE webhook_order_cursors (
      restaurant_id bigint PRIMARY KEY REFERENCES restaurants (id),
      last_feed_seq bigint NOT NULL CHECK (last_feed_seq >= 0),
      updated_at    timestamptz NOT NULL DEFAULT now()
    );
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    DROP TABLE webhook_order_cursors;
    DROP TABLE webhook_deliveries;
    DROP TABLE webhook_events;
    DROP TABLE webhook_endpoints;
  `,
  );
}
