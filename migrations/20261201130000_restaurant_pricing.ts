import type { Knex } from 'knex';
import { runSql } from './sql.js';

// One row per restaurant that changed its pricing settings (none: the defaults). The settings are read
// and written whole, by the pricing module only, and validated by its zod schema on the way in and out,
// so they are one jsonb document rather than tables nobody queries apart. next_entry_id hands out the
// ids of tax rates and service charges, never reusing one.
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE restaurant_pricing (
      restaurant_id bigint PRIMARY KEY REFERENCES restaurants (id),
      settings      jsonb NOT NULL CHECK (jsonb_typeof(settings) = 'object'),
      next_entry_id bigint NOT NULL DEFAULT 1 CHECK (next_entry_id >= 1),
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now()
    );
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE restaurant_pricing;');
}
