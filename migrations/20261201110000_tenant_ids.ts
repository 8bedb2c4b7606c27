import type { Knex } from 'knex';
import { runSql } from './sql.js';
import { TENANT_ID_SHIFT, assignTenantIds, removeTenantIds, tenantIdFunctions } from './tenant-ids.js';

/**
 * Every tenant table took its ids from one sequence shared by all restaurants, so a customer of one
 * restaurant could count another's orders and customers from the gaps between their own ids. From here
 * on each restaurant numbers its own rows (tenant-ids.ts explains the scheme); ids already given stay.
 */
export const tenantTables = [
  'customers',
  'ingredients',
  'recipes',
  'inventory_movements',
  'cart_items',
  'orders',
  'order_items',
  'order_events',
  'payments',
  'refunds',
  'outbox',
] as const;

export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    ALTER TABLE restaurants ADD CONSTRAINT restaurants_id_fits_tenant_ids CHECK (id < ${TENANT_ID_SHIFT});
    ${tenantIdFunctions}
  `,
  );
  for (const table of tenantTables) await assignTenantIds(knex, table);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of tenantTables) await removeTenantIds(knex, table);
  await runSql(
    knex,
    `
    DROP FUNCTION tenant_id_assign();
    DROP FUNCTION tenant_id_counter(text, text, bigint, bigint);
    ALTER TABLE restaurants DROP CONSTRAINT restaurants_id_fits_tenant_ids;
  `,
  );
}
