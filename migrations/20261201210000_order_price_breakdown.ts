import type { Knex } from 'knex';
import { runSql } from './sql.js';

// Every order keeps the price breakdown it was charged (API.md "Prices"): snapshots, never recomputed,
// so a later change of taxes, charges, zones or coupons does not rewrite what a customer paid.
// total_cents stays what is charged. The lists (service charges, taxes) are read and written whole by
// the orders module, so they are jsonb arrays. Orders placed before this had no taxes, charges, tips or
// discounts: their subtotal is their total and every other part is zero (checkout writes every part; the
// defaults only serve rows written by hand, such as fixtures). A delivery by zone keeps the
// location it was priced for (both coordinates or neither) and the coupon code as the customer used it.
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    ALTER TABLE orders
      ADD COLUMN subtotal_cents     integer NOT NULL DEFAULT 0 CHECK (subtotal_cents >= 0),
      ADD COLUMN discount_cents     integer NOT NULL DEFAULT 0 CHECK (discount_cents >= 0),
      ADD COLUMN service_charges    jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(service_charges) = 'array'),
      ADD COLUMN delivery_fee_cents integer NOT NULL DEFAULT 0 CHECK (delivery_fee_cents >= 0),
      ADD COLUMN taxes              jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(taxes) = 'array'),
      ADD COLUMN tax_cents          integer NOT NULL DEFAULT 0 CHECK (tax_cents >= 0),
      ADD COLUMN tip_cents          integer NOT NULL DEFAULT 0 CHECK (tip_cents >= 0),
      ADD COLUMN coupon_code        text CHECK (length(coupon_code) BETWEEN 1 AND 32),
      ADD COLUMN delivery_lat       double precision CHECK (delivery_lat BETWEEN -90 AND 90),
      ADD COLUMN delivery_lng       double precision CHECK (delivery_lng BETWEEN -180 AND 180),
      ADD CONSTRAINT orders_delivery_location_whole CHECK ((delivery_lat IS NULL) = (delivery_lng IS NULL)),
      ADD CONSTRAINT orders_discount_within_subtotal CHECK (discount_cents <= subtotal_cents);
    UPDATE orders SET subtotal_cents = total_cents;
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    ALTER TABLE orders
      DROP COLUMN subtotal_cents, DROP COLUMN discount_cents, DROP COLUMN service_charges, DROP COLUMN delivery_fee_cents,
      DROP COLUMN taxes, DROP COLUMN tax_cents, DROP COLUMN tip_cents, DROP COLUMN coupon_code,
      DROP COLUMN delivery_lat, DROP COLUMN delivery_lng;
  `,
  );
}
