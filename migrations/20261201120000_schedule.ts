import type { Knex } from 'knex';
import { runSql } from './sql.js';

// Service hours, closures, the pause and the per-slot order counter (API.md, "Service hours, order-ahead
// times, kitchen capacity"). A restaurant without a schedule_settings row has the defaults and no hours:
// always open, as every restaurant was before.
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE schedule_settings (
      restaurant_id       bigint PRIMARY KEY REFERENCES restaurants (id),
      lead_time_minutes   integer NOT NULL CHECK (lead_time_minutes BETWEEN 0 AND 1440),
      slot_minutes        integer NOT NULL CHECK (slot_minutes IN (5, 10, 15, 20, 30, 60)),
      max_orders_per_slot integer CHECK (max_orders_per_slot BETWEEN 1 AND 10000),
      order_ahead_days    integer NOT NULL CHECK (order_ahead_days BETWEEN 0 AND 30),
      updated_at          timestamptz NOT NULL DEFAULT now()
    );

    -- Wall-clock minutes after local midnight; closes_minute <= opens_minute runs past midnight, 1440 is "24:00".
    -- Replaced as a whole with the settings row, which they hang off.
    CREATE TABLE opening_ranges (
      restaurant_id bigint NOT NULL REFERENCES schedule_settings (restaurant_id) ON DELETE CASCADE,
      iso_weekday   smallint NOT NULL CHECK (iso_weekday BETWEEN 1 AND 7),
      opens_minute  smallint NOT NULL CHECK (opens_minute BETWEEN 0 AND 1439),
      closes_minute smallint NOT NULL CHECK (closes_minute BETWEEN 0 AND 1440),
      PRIMARY KEY (restaurant_id, iso_weekday, opens_minute)
    );

    -- Whole local days without ordering, both ends included.
    CREATE TABLE restaurant_closures (
      restaurant_id bigint NOT NULL REFERENCES restaurants (id),
      id            bigint GENERATED ALWAYS AS IDENTITY,
      starts_on     date NOT NULL,
      ends_on       date NOT NULL,
      reason        text CHECK (length(reason) BETWEEN 1 AND 200),
      created_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      CHECK (ends_on >= starts_on)
    );
    -- The schedule reads the closures that have not ended; the list is by start.
    CREATE INDEX restaurant_closures_by_end ON restaurant_closures (restaurant_id, ends_on);
    CREATE INDEX restaurant_closures_by_start ON restaurant_closures (restaurant_id, starts_on, id);

    -- At most one pause per restaurant; a row whose paused_until has passed is no pause.
    CREATE TABLE ordering_pauses (
      restaurant_id bigint PRIMARY KEY REFERENCES restaurants (id),
      paused_until  timestamptz NOT NULL,
      reason        text CHECK (length(reason) BETWEEN 1 AND 200),
      paused_by     text NOT NULL CHECK (length(paused_by) BETWEEN 1 AND 128),
      created_at    timestamptz NOT NULL DEFAULT now()
    );

    -- Orders counted per slot, taken and released by one guarded statement in the order's transaction.
    CREATE TABLE slot_bookings (
      restaurant_id  bigint NOT NULL REFERENCES restaurants (id),
      slot_starts_at timestamptz NOT NULL,
      orders_count   integer NOT NULL CHECK (orders_count >= 0),
      PRIMARY KEY (restaurant_id, slot_starts_at)
    );
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    DROP TABLE slot_bookings;
    DROP TABLE ordering_pauses;
    DROP TABLE restaurant_closures;
    DROP TABLE opening_ranges;
    DROP TABLE schedule_settings;
  `,
  );
}
