import type { Knex } from 'knex';
import { runSql } from './sql.js';

const EU_ALLERGENS =
  "ARRAY['celery','gluten','crustaceans','eggs','fish','lupin','milk','molluscs','mustard','tree_nuts','peanuts','sesame','soya','sulphites']::text[]";

/**
 * The menu a guest reads (issue 17): allergens and diets on ingredients, timed unavailability, option
 * groups on recipes (owned by the catalog like the recipe's own lines), the options a cart line or an
 * order item holds, the allergen snapshot of an order item, and a customer's saved menu preferences.
 * Options and groups are archived, never deleted, so cart lines and order snapshots can keep pointing at
 * them after a recipe changes.
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    ALTER TABLE ingredients
      ADD COLUMN allergens text[] NOT NULL DEFAULT '{}',
      ADD COLUMN vegan boolean NOT NULL DEFAULT false,
      ADD COLUMN vegetarian boolean NOT NULL DEFAULT false,
      ADD COLUMN unavailable_until timestamptz,
      ADD CONSTRAINT ingredients_allergens_eu CHECK (allergens <@ ${EU_ALLERGENS}),
      ADD CONSTRAINT ingredients_vegan_is_vegetarian CHECK (vegetarian OR NOT vegan),
      ADD CONSTRAINT ingredients_timed_only_when_off CHECK (unavailable_until IS NULL OR NOT available);
    -- The un-86 job looks only at ingredients with a return time, soonest first.
    CREATE INDEX ingredients_timed_unavailability ON ingredients (unavailable_until) WHERE unavailable_until IS NOT NULL;

    CREATE TABLE recipe_option_groups (
      restaurant_id bigint NOT NULL,
      id            bigint GENERATED ALWAYS AS IDENTITY,
      recipe_id     bigint NOT NULL,
      name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
      min_select    integer NOT NULL CHECK (min_select >= 0),
      max_select    integer NOT NULL CHECK (max_select >= 1 AND max_select >= min_select),
      position      integer NOT NULL,
      archived_at   timestamptz,
      PRIMARY KEY (restaurant_id, id),
      UNIQUE (restaurant_id, recipe_id, id),
      FOREIGN KEY (restaurant_id, recipe_id) REFERENCES recipes (restaurant_id, id)
    );
    CREATE INDEX recipe_option_groups_by_recipe ON recipe_option_groups (restaurant_id, recipe_id, position) WHERE archived_at IS NULL;

    -- recipe_id is the group's (the composite key says so): "an option of another recipe" is one comparison.
    CREATE TABLE recipe_options (
      restaurant_id bigint NOT NULL,
      id            bigint GENERATED ALWAYS AS IDENTITY,
      recipe_id     bigint NOT NULL,
      group_id      bigint NOT NULL,
      name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
      price_cents   integer NOT NULL CHECK (price_cents >= 0),
      is_default    boolean NOT NULL DEFAULT false,
      position      integer NOT NULL,
      archived_at   timestamptz,
      PRIMARY KEY (restaurant_id, id),
      FOREIGN KEY (restaurant_id, recipe_id, group_id) REFERENCES recipe_option_groups (restaurant_id, recipe_id, id)
    );
    CREATE INDEX recipe_options_by_group ON recipe_options (restaurant_id, group_id, position) WHERE archived_at IS NULL;
    CREATE INDEX recipe_options_defaults ON recipe_options (restaurant_id, recipe_id) WHERE is_default AND archived_at IS NULL;

    CREATE TABLE recipe_option_ingredients (
      restaurant_id bigint NOT NULL,
      option_id     bigint NOT NULL,
      ingredient_id bigint NOT NULL,
      quantity      integer NOT NULL CHECK (quantity >= 1),
      PRIMARY KEY (restaurant_id, option_id, ingredient_id),
      FOREIGN KEY (restaurant_id, option_id) REFERENCES recipe_options (restaurant_id, id) ON DELETE CASCADE,
      FOREIGN KEY (restaurant_id, ingredient_id) REFERENCES ingredients (restaurant_id, id)
    );
    CREATE INDEX recipe_option_ingredients_by_ingredient ON recipe_option_ingredients (restaurant_id, ingredient_id);

    -- The options a cart line holds: those the guest chose and the defaults of the groups they left alone.
    CREATE TABLE cart_item_options (
      restaurant_id bigint NOT NULL,
      cart_item_id  bigint NOT NULL,
      option_id     bigint NOT NULL,
      PRIMARY KEY (restaurant_id, cart_item_id, option_id),
      FOREIGN KEY (restaurant_id, cart_item_id) REFERENCES cart_items (restaurant_id, id) ON DELETE CASCADE,
      FOREIGN KEY (restaurant_id, option_id) REFERENCES recipe_options (restaurant_id, id)
    );

    -- Snapshots taken at placement, like the item's name and price.
    ALTER TABLE order_items ADD COLUMN allergens text[] NOT NULL DEFAULT '{}';
    CREATE TABLE order_item_options (
      restaurant_id bigint NOT NULL,
      order_item_id bigint NOT NULL,
      option_id     bigint NOT NULL,
      name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
      price_cents   integer NOT NULL CHECK (price_cents >= 0),
      position      integer NOT NULL,
      PRIMARY KEY (restaurant_id, order_item_id, option_id),
      FOREIGN KEY (restaurant_id, order_item_id) REFERENCES order_items (restaurant_id, id),
      FOREIGN KEY (restaurant_id, option_id) REFERENCES recipe_options (restaurant_id, id)
    );

    ALTER TABLE customers
      ADD COLUMN preferences jsonb NOT NULL DEFAULT '{"exclude_allergens": [], "dietary": []}'
        CHECK (jsonb_typeof(preferences) = 'object');
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    ALTER TABLE customers DROP COLUMN preferences;
    DROP TABLE order_item_options;
    ALTER TABLE order_items DROP COLUMN allergens;
    DROP TABLE cart_item_options;
    DROP TABLE recipe_option_ingredients;
    DROP TABLE recipe_options;
    DROP TABLE recipe_option_groups;
    DROP INDEX ingredients_timed_unavailability;
    ALTER TABLE ingredients
      DROP CONSTRAINT ingredients_timed_only_when_off,
      DROP CONSTRAINT ingredients_vegan_is_vegetarian,
      DROP CONSTRAINT ingredients_allergens_eu,
      DROP COLUMN unavailable_until,
      DROP COLUMN vegetarian,
      DROP COLUMN vegan,
      DROP COLUMN allergens;
  `,
  );
}
