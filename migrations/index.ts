import type { Knex } from 'knex';
import * as restaurantsAndStaff from './20261121100000_restaurants_and_staff.js';
import * as customers from './20261121100100_customers.js';
import * as catalog from './20261121100200_catalog.js';
import * as inventoryMovements from './20261121100300_inventory_movements.js';
import * as carts from './20261121100400_carts.js';
import * as orders from './20261121100500_orders.js';
import * as payments from './20261121100600_payments.js';
import * as idempotencyAndOutbox from './20261121100700_idempotency_and_outbox.js';
import * as paymentSettlement from './20261121100800_payment_settlement.js';
import * as tenantIds from './20261201110000_tenant_ids.js';
import * as schedule from './20261201120000_schedule.js';
import * as restaurantPricing from './20261201130000_restaurant_pricing.js';
import * as rateLimitCounters from './20261201150000_rate_limit_counters.js';
import * as liveOrderEvents from './20261201160000_live_order_events.js';
import * as recipeImages from './20261201170000_recipe_images.js';
import * as deliveryZones from './20261201180000_delivery_zones.js';
import * as coupons from './20261201180100_coupons.js';
import * as menuOptionsAllergens from './20261201190000_menu_options_allergens.js';
import * as webhooks from './20261201200000_webhooks.js';
import * as orderPriceBreakdown from './20261201210000_order_price_breakdown.js';
import * as orderSlots from './20261201220000_order_slots.js';
import * as tenantIdsSecondRelease from './20261201230000_tenant_ids_second_release.js';
import * as ordersOpenUnpaidIndex from './20261202090000_orders_open_unpaid_index.js';
import * as retentionIndexes from './20261202090100_retention_indexes.js';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * The migrations in the order they run. Listed here rather than read from the directory so the built
 * service carries them (no .ts loader in production) and a missing file is a compile error.
 * Never edit a landed migration: add a new one at the end. A new table holding a restaurant's rows
 * (`restaurant_id`, `id bigint NOT NULL`) takes its ids from `assignTenantIds(knex, table)` (tenant-ids.ts).
 */
export const migrations: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['20261121100000_restaurants_and_staff', restaurantsAndStaff],
  ['20261121100100_customers', customers],
  ['20261121100200_catalog', catalog],
  ['20261121100300_inventory_movements', inventoryMovements],
  ['20261121100400_carts', carts],
  ['20261121100500_orders', orders],
  ['20261121100600_payments', payments],
  ['20261121100700_idempotency_and_outbox', idempotencyAndOutbox],
  ['20261121100800_payment_settlement', paymentSettlement],
  ['20261201110000_tenant_ids', tenantIds],
  ['20261201120000_schedule', schedule],
  ['20261201130000_restaurant_pricing', restaurantPricing],
  ['20261201150000_rate_limit_counters', rateLimitCounters],
  ['20261201160000_live_order_events', liveOrderEvents],
  ['20261201170000_recipe_images', recipeImages],
  ['20261201180000_delivery_zones', deliveryZones],
  ['20261201180100_coupons', coupons],
  ['20261201190000_menu_options_allergens', menuOptionsAllergens],
  ['20261201200000_webhooks', webhooks],
  ['20261201210000_order_price_breakdown', orderPriceBreakdown],
  ['20261201220000_order_slots', orderSlots],
  ['20261201230000_tenant_ids_second_release', tenantIdsSecondRelease],
  ['20261202090000_orders_open_unpaid_index', ordersOpenUnpaidIndex],
  ['20261202090100_retention_indexes', retentionIndexes],
];
