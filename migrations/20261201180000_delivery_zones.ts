import type { Knex } from 'knex';
import { runSql } from './sql.js';

// A restaurant's delivery zones. The shape (a radius around a point, or a GeoJSON polygon ring) is read
// and written whole by the delivery-zones module and validated by its zod schema on the way in and out,
// so it is one jsonb document; the terms checkout reads are columns. DELETE archives a zone, so a later
// order snapshot that names a zone still finds it.
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE delivery_zones (
      restaurant_id      bigint NOT NULL REFERENCES restaurants (id),
      id                 bigint GENERATED ALWAYS AS IDENTITY,
      name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
      shape              jsonb NOT NULL CHECK (jsonb_typeof(shape) = 'object' AND shape ->> 'type' IN ('radius', 'polygon')),
      fee_cents          integer NOT NULL CHECK (fee_cents >= 0),
      min_subtotal_cents integer NOT NULL CHECK (min_subtotal_cents >= 0),
      free_over_cents    integer CHECK (free_over_cents >= 0),
      priority           integer NOT NULL DEFAULT 0,
      archived_at        timestamptz,
      created_at         timestamptz NOT NULL DEFAULT now(),
      updated_at         timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id)
    );
    -- Checkout reads every active zone of the restaurant; the list pages through them by id.
    CREATE INDEX delivery_zones_active ON delivery_zones (restaurant_id, id) WHERE archived_at IS NULL;
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE delivery_zones;');
}
