import type { Knex } from 'knex';
import { assignTenantIds, removeTenantIds } from './tenant-ids.js';

/**
 * The second release's tenant tables take their ids like the first release's (tenant-ids.ts): numbered per
 * restaurant, so an id says nothing about another restaurant's coupons, zones, closures, options or webhooks.
 */
const tables = (): readonly string[] => [
  'restaurant_closures',
  'delivery_zones',
  'coupons',
  'coupon_redemptions',
  'recipe_option_groups',
  'recipe_options',
  'webhook_endpoints',
  'webhook_events',
  'webhook_deliveries',
];

export async function up(knex: Knex): Promise<void> {
  for (const table of tables()) await assignTenantIds(knex, table);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [...tables()].reverse()) await removeTenantIds(knex, table);
}
