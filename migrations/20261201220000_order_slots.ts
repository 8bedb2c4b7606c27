import type { Knex } from 'knex';
import { runSql } from './sql.js';

// Orders say when they are for (API.md "Service hours, order-ahead times, kitchen capacity"):
// requested_at is what the customer asked for (null: as soon as possible), slot_starts_at the slot the
// order counts in, promised_at when it is due (ASAP: placement + lead time; scheduled: the slot's start).
// Orders placed before this had no schedule: they were due when placed, and count in no slot. A row
// written without a promise (fixtures) is likewise due when placed: now() is placed_at's default too.
// slot_counted says the order still holds its place in slot_bookings, so releasing it is done once.
// The kitchen lists what is due by promised_at (GET /v1/orders?due_from=&due_to=).
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    ALTER TABLE orders
      ADD COLUMN requested_at   timestamptz,
      ADD COLUMN slot_starts_at timestamptz,
      ADD COLUMN promised_at    timestamptz,
      ADD COLUMN slot_counted   boolean NOT NULL DEFAULT false,
      ADD CONSTRAINT orders_slot_counted_has_slot CHECK (NOT slot_counted OR slot_starts_at IS NOT NULL);
    UPDATE orders SET promised_at = placed_at;
    ALTER TABLE orders ALTER COLUMN promised_at SET DEFAULT now(), ALTER COLUMN promised_at SET NOT NULL;
    CREATE INDEX orders_due ON orders (restaurant_id, promised_at);
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    DROP INDEX orders_due;
    ALTER TABLE orders DROP COLUMN requested_at, DROP COLUMN slot_starts_at, DROP COLUMN promised_at, DROP COLUMN slot_counted;
  `,
  );
}
