import type { Knex } from 'knex';
import { runSql } from './sql.js';

export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE orders (
      restaurant_id    bigint NOT NULL,
      id               bigint GENERATED ALWAYS AS IDENTITY,
      customer_id      bigint NOT NULL,
      status           text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'confirmed', 'preparing', 'ready', 'completed', 'rejected', 'cancelled')),
      payment_status   text NOT NULL DEFAULT 'unpaid'
                         CHECK (payment_status IN ('unpaid', 'paid', 'partially_refunded', 'refunded')),
      payment_method   text NOT NULL CHECK (payment_method IN ('card', 'cash')),
      fulfillment      text NOT NULL CHECK (fulfillment IN ('pickup', 'delivery')),
      delivery_address text CHECK (length(delivery_address) BETWEEN 1 AND 200),
      notes            text CHECK (length(notes) <= 200),
      currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      total_cents      integer NOT NULL CHECK (total_cents >= 0),
      placed_at        timestamptz NOT NULL DEFAULT now(),
      updated_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      FOREIGN KEY (restaurant_id, customer_id) REFERENCES customers (restaurant_id, id),
      CHECK (fulfillment <> 'delivery' OR delivery_address IS NOT NULL)
    );
    -- Lists are newest first by id (keyset); staff filter by status, customers see their own.
    CREATE INDEX orders_newest ON orders (restaurant_id, id DESC);
    CREATE INDEX orders_by_status ON orders (restaurant_id, status, id DESC);
    CREATE INDEX orders_by_customer ON orders (restaurant_id, customer_id, id DESC);
    -- The payment-timeout sweep looks only at pending, unpaid card orders, oldest first.
    CREATE INDEX orders_awaiting_card_payment ON orders (placed_at)
      WHERE status = 'pending' AND payment_method = 'card' AND payment_status = 'unpaid';

    CREATE TABLE order_items (
      restaurant_id    bigint NOT NULL,
      id               bigint GENERATED ALWAYS AS IDENTITY,
      order_id         bigint NOT NULL,
      recipe_id        bigint NOT NULL,
      name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
      description      text NOT NULL DEFAULT '' CHECK (length(description) <= 100),
      quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 50),
      unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
      line_total_cents integer NOT NULL CHECK (line_total_cents >= 0),
      PRIMARY KEY (restaurant_id, id),
      FOREIGN KEY (restaurant_id, order_id) REFERENCES orders (restaurant_id, id),
      FOREIGN KEY (restaurant_id, recipe_id) REFERENCES recipes (restaurant_id, id),
      CHECK (line_total_cents = unit_price_cents * quantity)
    );
    CREATE INDEX order_items_by_order ON order_items (restaurant_id, order_id, id);

    CREATE TABLE order_item_ingredients (
      restaurant_id bigint NOT NULL,
      order_item_id bigint NOT NULL,
      ingredient_id bigint NOT NULL,
      quantity      integer NOT NULL CHECK (quantity >= 0),
      PRIMARY KEY (restaurant_id, order_item_id, ingredient_id),
      FOREIGN KEY (restaurant_id, order_item_id) REFERENCES order_items (restaurant_id, id),
      FOREIGN KEY (restaurant_id, ingredient_id) REFERENCES ingredients (restaurant_id, id)
    );

    CREATE TABLE order_events (
      restaurant_id bigint NOT NULL,
      id            bigint GENERATED ALWAYS AS IDENTITY,
      order_id      bigint NOT NULL,
      status        text NOT NULL
                      CHECK (status IN ('pending', 'confirmed', 'preparing', 'ready', 'completed', 'rejected', 'cancelled')),
      actor         text NOT NULL CHECK (actor IN ('customer', 'staff', 'system')),
      actor_sub     text CHECK (length(actor_sub) <= 128),
      reason        text CHECK (length(reason) <= 200),
      created_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      FOREIGN KEY (restaurant_id, order_id) REFERENCES orders (restaurant_id, id)
    );
    CREATE INDEX order_events_by_order ON order_events (restaurant_id, order_id, id);

    -- Now that orders exist, the ledger's order movements can point at them.
    ALTER TABLE inventory_movements
      ADD FOREIGN KEY (restaurant_id, order_id) REFERENCES orders (restaurant_id, id);
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    ALTER TABLE inventory_movements DROP CONSTRAINT inventory_movements_restaurant_id_order_id_fkey;
    DROP TABLE order_events; DROP TABLE order_item_ingredients; DROP TABLE order_items; DROP TABLE orders;
  `,
  );
}
