import type { Knex } from 'knex';
import { runSql } from './sql.js';

export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE inventory_movements (
      restaurant_id bigint NOT NULL,
      id            bigint GENERATED ALWAYS AS IDENTITY,
      ingredient_id bigint NOT NULL,
      delta         integer NOT NULL CHECK (delta <> 0),
      reason        text NOT NULL CHECK (reason IN ('restock', 'waste', 'correction', 'count', 'order_reserved', 'order_released')),
      stock_after   integer NOT NULL CHECK (stock_after >= 0),
      order_id      bigint,
      user_sub      text CHECK (length(user_sub) <= 128),
      note          text CHECK (length(note) <= 200),
      created_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      FOREIGN KEY (restaurant_id, ingredient_id) REFERENCES ingredients (restaurant_id, id),
      -- Order movements name their order; staff movements name their user.
      CHECK ((reason IN ('order_reserved', 'order_released')) = (order_id IS NOT NULL))
    );
    CREATE INDEX inventory_movements_ledger ON inventory_movements (restaurant_id, ingredient_id, id DESC);

    -- The ledger is append-only: a correction is a new movement, never an edit of an old one.
    CREATE FUNCTION inventory_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'inventory_movements is append-only' USING ERRCODE = 'restrict_violation';
    END;
    $$;
    CREATE TRIGGER inventory_movements_no_update_or_delete
      BEFORE UPDATE OR DELETE ON inventory_movements
      FOR EACH ROW EXECUTE FUNCTION inventory_movements_append_only();
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE inventory_movements; DROP FUNCTION inventory_movements_append_only();');
}
