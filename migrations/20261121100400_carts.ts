import type { Knex } from 'knex';
import { runSql } from './sql.js';

export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE cart_items (
      restaurant_id bigint NOT NULL,
      id            bigint GENERATED ALWAYS AS IDENTITY,
      customer_id   bigint NOT NULL,
      recipe_id     bigint NOT NULL,
      quantity      integer NOT NULL CHECK (quantity BETWEEN 1 AND 50),
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      FOREIGN KEY (restaurant_id, customer_id) REFERENCES customers (restaurant_id, id) ON DELETE CASCADE,
      FOREIGN KEY (restaurant_id, recipe_id) REFERENCES recipes (restaurant_id, id)
    );
    CREATE INDEX cart_items_by_customer ON cart_items (restaurant_id, customer_id, id);

    -- A customisation: this line wants a quantity of one of the recipe's ingredients other than the default.
    CREATE TABLE cart_item_ingredients (
      restaurant_id bigint NOT NULL,
      cart_item_id  bigint NOT NULL,
      ingredient_id bigint NOT NULL,
      quantity      integer NOT NULL CHECK (quantity >= 0),
      PRIMARY KEY (restaurant_id, cart_item_id, ingredient_id),
      FOREIGN KEY (restaurant_id, cart_item_id) REFERENCES cart_items (restaurant_id, id) ON DELETE CASCADE,
      FOREIGN KEY (restaurant_id, ingredient_id) REFERENCES ingredients (restaurant_id, id)
    );
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE cart_item_ingredients; DROP TABLE cart_items;');
}
