import type { Knex } from 'knex';
import { runSql } from './sql.js';

export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    CREATE TABLE ingredients (
      restaurant_id       bigint NOT NULL REFERENCES restaurants (id),
      id                  bigint GENERATED ALWAYS AS IDENTITY,
      name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
      description         text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
      unit                text NOT NULL CHECK (length(unit) BETWEEN 1 AND 20),
      price_cents         integer NOT NULL CHECK (price_cents >= 0),
      available           boolean NOT NULL DEFAULT true,
      stock               integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
      low_stock_threshold integer NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
      archived_at         timestamptz,
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id)
    );
    CREATE UNIQUE INDEX ingredients_active_name_unique ON ingredients (restaurant_id, lower(name)) WHERE archived_at IS NULL;

    CREATE TABLE recipes (
      restaurant_id bigint NOT NULL REFERENCES restaurants (id),
      id            bigint GENERATED ALWAYS AS IDENTITY,
      name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
      description   text NOT NULL DEFAULT '' CHECK (length(description) <= 100),
      category      text NOT NULL DEFAULT '' CHECK (length(category) <= 30),
      archived_at   timestamptz,
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id)
    );
    CREATE UNIQUE INDEX recipes_active_name_unique ON recipes (restaurant_id, lower(name)) WHERE archived_at IS NULL;
    -- The menu lists active recipes in id order (keyset) and filters by category or a search term.
    CREATE INDEX recipes_menu_order ON recipes (restaurant_id, id) WHERE archived_at IS NULL;
    CREATE INDEX recipes_by_category ON recipes (restaurant_id, category, id) WHERE archived_at IS NULL;
    CREATE INDEX recipes_search_trgm ON recipes USING gin ((lower(name || ' ' || description)) gin_trgm_ops);

    CREATE TABLE recipe_ingredients (
      restaurant_id bigint NOT NULL,
      recipe_id     bigint NOT NULL,
      ingredient_id bigint NOT NULL,
      quantity      integer NOT NULL CHECK (quantity >= 1),
      removable     boolean NOT NULL DEFAULT false,
      max_quantity  integer CHECK (max_quantity >= quantity),
      PRIMARY KEY (restaurant_id, recipe_id, ingredient_id),
      FOREIGN KEY (restaurant_id, recipe_id) REFERENCES recipes (restaurant_id, id) ON DELETE CASCADE,
      FOREIGN KEY (restaurant_id, ingredient_id) REFERENCES ingredients (restaurant_id, id)
    );
    CREATE INDEX recipe_ingredients_by_ingredient ON recipe_ingredients (restaurant_id, ingredient_id);
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE recipe_ingredients; DROP TABLE recipes; DROP TABLE ingredients;');
}
