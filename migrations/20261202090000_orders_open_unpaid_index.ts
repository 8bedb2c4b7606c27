import type { Knex } from 'knex';

/**
 * Checkout counts the customer's open unpaid card orders (`requireOpenUnpaidRoom`, the
 * MAX_OPEN_UNPAID_ORDERS cap) on every card order. Through `orders_by_customer` that reads every order the
 * customer ever placed here; this index holds only the open unpaid card orders, so the count reads at most
 * the cap's few rows whatever the customer's history (issue 19, the scale run).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX orders_open_unpaid_card ON orders (restaurant_id, customer_id)
      WHERE payment_method = 'card' AND payment_status = 'unpaid' AND status IN ('pending', 'confirmed')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX orders_open_unpaid_card');
}
