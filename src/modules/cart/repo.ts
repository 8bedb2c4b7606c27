import type { Queryable } from '../../db/database.js';
import type { Int8 } from '../../db/tables.js';
import { runPrepared } from '../../db/prepared.js';

export interface CartLineRow {
  id: number;
  recipe_id: number;
  quantity: number;
  /** The recipe's name now, also when it has been archived since. */
  recipe_name: string;
  recipe_archived: boolean;
  customizations: Array<{ ingredient_id: number; quantity: number }>;
  /** The options the line holds (chosen, or its groups' defaults when it was added), by id. */
  options: number[];
}

/** The customer's cart lines in the order they were added, with their customisations and options; one statement. */
export async function selectCartLines(db: Queryable, restaurantId: number, customerId: number, options: { lock?: boolean } = {}): Promise<CartLineRow[]> {
  const query = db
    .select(
      'c.id',
      'c.recipe_id',
      'c.quantity',
      'r.name as recipe_name',
      db.raw('r.archived_at IS NOT NULL AS recipe_archived'),
      db.raw(`coalesce((SELECT json_agg(json_build_object('ingredient_id', ci.ingredient_id, 'quantity', ci.quantity) ORDER BY ci.ingredient_id)
                 FROM cart_item_ingredients ci WHERE ci.restaurant_id = c.restaurant_id AND ci.cart_item_id = c.id), '[]'::json) AS customizations`),
      db.raw(`coalesce((SELECT json_agg(co.option_id ORDER BY co.option_id)
                 FROM cart_item_options co WHERE co.restaurant_id = c.restaurant_id AND co.cart_item_id = c.id), '[]'::json) AS options`),
    )
    .from('cart_items as c')
    .join('recipes as r', function joinRecipe() {
      this.on('r.restaurant_id', '=', 'c.restaurant_id').andOn('r.id', '=', 'c.recipe_id');
    })
    .where({ 'c.restaurant_id': restaurantId, 'c.customer_id': customerId })
    .orderBy('c.id');
  // Checkout locks the cart's rows so two checkouts of one cart serialise; the second finds it empty.
  if (options.lock === true) query.forUpdate('c');
  const rows: Array<Record<string, unknown>> = await query;
  return rows.map(toCartLine);
}

/**
 * Checkout's read of the cart: the lines deleted, answered as `selectCartLines` answers them, in one
 * statement. The DELETE takes the rows' locks as `FOR UPDATE` would (two checkouts of one cart
 * serialise; the second finds it empty), and the caller's rollback puts the lines back.
 */
export async function deleteCartLinesReturning(db: Queryable, restaurantId: number, customerId: number): Promise<CartLineRow[]> {
  // The subqueries read the statement's snapshot, in which the cascaded customisation and option rows still stand.
  const result: { rows: Array<Record<string, unknown>> } = await runPrepared(db, {
    // Fixed text, run by every checkout: planned once per connection.
    name: 'cart_take_out',
    sql: `WITH gone AS (DELETE FROM cart_items WHERE restaurant_id = ? AND customer_id = ? RETURNING id, restaurant_id, recipe_id, quantity)
     SELECT g.id, g.recipe_id, g.quantity, r.name AS recipe_name, r.archived_at IS NOT NULL AS recipe_archived,
            coalesce((SELECT json_agg(json_build_object('ingredient_id', ci.ingredient_id, 'quantity', ci.quantity) ORDER BY ci.ingredient_id)
                        FROM cart_item_ingredients ci WHERE ci.restaurant_id = g.restaurant_id AND ci.cart_item_id = g.id), '[]'::json) AS customizations,
            coalesce((SELECT json_agg(co.option_id ORDER BY co.option_id)
                        FROM cart_item_options co WHERE co.restaurant_id = g.restaurant_id AND co.cart_item_id = g.id), '[]'::json) AS options
       FROM gone g JOIN recipes r ON r.restaurant_id = g.restaurant_id AND r.id = g.recipe_id
      ORDER BY g.id`,
    bindings: [restaurantId, customerId],
  });
  return result.rows.map(toCartLine);
}

function toCartLine(row: Record<string, unknown>): CartLineRow {
  return {
    id: Number(row.id),
    recipe_id: Number(row.recipe_id),
    quantity: Number(row.quantity),
    recipe_name: String(row.recipe_name),
    recipe_archived: row.recipe_archived === true,
    customizations: (row.customizations as Array<{ ingredient_id: number; quantity: number }>).map((c) => ({
      ingredient_id: Number(c.ingredient_id),
      quantity: Number(c.quantity),
    })),
    options: (row.options as unknown[]).map(Number),
  };
}

export async function countCartLines(db: Queryable, restaurantId: number, customerId: number): Promise<number> {
  const row = await db('cart_items').where({ restaurant_id: restaurantId, customer_id: customerId }).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

export async function insertCartLine(
  db: Queryable,
  restaurantId: number,
  customerId: number,
  line: { recipe_id: number; quantity: number; customizations: ReadonlyArray<{ ingredient_id: number; quantity: number }>; options: readonly number[] },
): Promise<number> {
  // One statement for the line, its customisations and its options (a round trip each otherwise).
  const result: { rows: Array<{ id: number | string }> } = await db.raw(
    `WITH line AS (
       INSERT INTO cart_items (restaurant_id, customer_id, recipe_id, quantity) VALUES (?, ?, ?, ?) RETURNING restaurant_id, id
     ), customization AS (
       INSERT INTO cart_item_ingredients (restaurant_id, cart_item_id, ingredient_id, quantity)
       SELECT line.restaurant_id, line.id, c.ingredient_id, c.quantity FROM line, unnest(?::bigint[], ?::integer[]) AS c(ingredient_id, quantity)
     ), chosen AS (
       INSERT INTO cart_item_options (restaurant_id, cart_item_id, option_id)
       SELECT line.restaurant_id, line.id, o.option_id FROM line, unnest(?::bigint[]) AS o(option_id)
     )
     SELECT id FROM line`,
    [
      restaurantId,
      customerId,
      line.recipe_id,
      line.quantity,
      line.customizations.map((c) => c.ingredient_id),
      line.customizations.map((c) => c.quantity),
      [...line.options],
    ],
  );
  const row = result.rows[0];
  if (row === undefined) throw new Error('insert into cart_items returned no row');
  const id = Number(row.id);
  return id;
}

/** What `addOrMergeCartLine` did: merged into an identical line, inserted a new one, or neither (a cap refused it). */
export type CartAddOutcome =
  | { kind: 'merged'; id: number; quantity: number }
  | { kind: 'inserted'; id: number }
  | { kind: 'too_many_portions'; heldQuantity: number }
  | { kind: 'cart_full' };

/**
 * A cart add in one statement, so it needs no transaction of its own: the customer's lines locked (as
 * `selectCartLines` with `lock` does), then the first identical line (same recipe, customisations and
 * options, all sorted) gets `line.quantity` more portions unless that passes `maxPortions`; with none, the
 * line is inserted with its customisations and options unless the cart already holds `maxLines` lines.
 * Every write reads `held`, which the statement fills (locking every line) before any of them runs.
 * Refused: nothing is written and the outcome says why.
 */
export async function addOrMergeCartLine(
  db: Queryable,
  restaurantId: number,
  customerId: number,
  line: { recipe_id: number; quantity: number; customizations: ReadonlyArray<{ ingredient_id: number; quantity: number }>; options: readonly number[] },
  caps: { maxPortions: number; maxLines: number },
): Promise<CartAddOutcome> {
  const result: {
    rows: Array<{ same_id: Int8 | null; same_quantity: number | null; merged_quantity: number | null; inserted_id: Int8 | null; lines: Int8 }>;
  } = await runPrepared(db, {
    // Fixed text whatever the line: one prepared statement, planned once per connection.
    name: 'cart_add_line',
    sql: `WITH held AS MATERIALIZED (
         SELECT c.id, c.recipe_id, c.quantity,
                ARRAY(SELECT ci.ingredient_id FROM cart_item_ingredients ci
                       WHERE ci.restaurant_id = c.restaurant_id AND ci.cart_item_id = c.id ORDER BY ci.ingredient_id) AS ingredient_ids,
                ARRAY(SELECT ci.quantity FROM cart_item_ingredients ci
                       WHERE ci.restaurant_id = c.restaurant_id AND ci.cart_item_id = c.id ORDER BY ci.ingredient_id) AS quantities,
                ARRAY(SELECT co.option_id FROM cart_item_options co
                       WHERE co.restaurant_id = c.restaurant_id AND co.cart_item_id = c.id ORDER BY co.option_id) AS option_ids
           FROM cart_items c
          WHERE c.restaurant_id = :restaurant AND c.customer_id = :customer
          ORDER BY c.id
            FOR UPDATE OF c
       ), same AS MATERIALIZED (
         SELECT id, quantity FROM held
          WHERE recipe_id = :recipe AND ingredient_ids = :ingredientIds::bigint[] AND quantities = :quantities::integer[]
            AND option_ids = :optionIds::bigint[]
          ORDER BY id LIMIT 1
       ), merged AS (
         UPDATE cart_items c SET quantity = c.quantity + :quantity, updated_at = now() FROM same
          WHERE c.restaurant_id = :restaurant AND c.id = same.id AND c.quantity + :quantity <= :maxPortions
         RETURNING c.quantity
       ), line AS (
         INSERT INTO cart_items (restaurant_id, customer_id, recipe_id, quantity)
         SELECT :restaurant::bigint, :customer::bigint, :recipe::bigint, :quantity::integer
          WHERE NOT EXISTS (SELECT 1 FROM same) AND (SELECT count(*) FROM held) < :maxLines
         RETURNING restaurant_id, id
       ), customization AS (
         INSERT INTO cart_item_ingredients (restaurant_id, cart_item_id, ingredient_id, quantity)
         SELECT line.restaurant_id, line.id, c.ingredient_id, c.quantity FROM line, unnest(:ingredientIds::bigint[], :quantities::integer[]) AS c(ingredient_id, quantity)
       ), chosen AS (
         INSERT INTO cart_item_options (restaurant_id, cart_item_id, option_id)
         SELECT line.restaurant_id, line.id, o.option_id FROM line, unnest(:optionIds::bigint[]) AS o(option_id)
       )
       SELECT (SELECT id FROM same) AS same_id, (SELECT quantity FROM same) AS same_quantity, (SELECT quantity FROM merged) AS merged_quantity,
              (SELECT id FROM line) AS inserted_id, (SELECT count(*) FROM held) AS lines`,
    bindings: {
      restaurant: restaurantId,
      customer: customerId,
      recipe: line.recipe_id,
      quantity: line.quantity,
      ingredientIds: line.customizations.map((c) => c.ingredient_id),
      quantities: line.customizations.map((c) => c.quantity),
      optionIds: [...line.options],
      maxPortions: caps.maxPortions,
      maxLines: caps.maxLines,
    },
  });
  const row = result.rows[0];
  if (row === undefined) throw new Error('the cart add returned no row');
  if (row.same_id !== null) {
    return row.merged_quantity === null
      ? { kind: 'too_many_portions', heldQuantity: Number(row.same_quantity) }
      : { kind: 'merged', id: Number(row.same_id), quantity: Number(row.merged_quantity) };
  }
  return row.inserted_id === null ? { kind: 'cart_full' } : { kind: 'inserted', id: Number(row.inserted_id) };
}

export async function replaceOptions(db: Queryable, restaurantId: number, cartItemId: number, options: readonly number[]): Promise<void> {
  await db('cart_item_options').where({ restaurant_id: restaurantId, cart_item_id: cartItemId }).delete();
  if (options.length > 0) {
    await db('cart_item_options').insert(options.map((optionId) => ({ restaurant_id: restaurantId, cart_item_id: cartItemId, option_id: optionId })));
  }
}

export async function updateCartLineQuantity(db: Queryable, restaurantId: number, id: number, quantity: number): Promise<void> {
  await db('cart_items').where({ restaurant_id: restaurantId, id }).update({ quantity, updated_at: db.fn.now() });
}

export async function replaceCustomizations(
  db: Queryable,
  restaurantId: number,
  cartItemId: number,
  customizations: ReadonlyArray<{ ingredient_id: number; quantity: number }>,
): Promise<void> {
  await db('cart_item_ingredients').where({ restaurant_id: restaurantId, cart_item_id: cartItemId }).delete();
  if (customizations.length > 0) {
    await db('cart_item_ingredients').insert(
      customizations.map((c) => ({ restaurant_id: restaurantId, cart_item_id: cartItemId, ingredient_id: c.ingredient_id, quantity: c.quantity })),
    );
  }
}

/** Deletes one line of this customer's cart; false when there is no such line (someone else's is none). */
export async function deleteCartLine(db: Queryable, restaurantId: number, customerId: number, id: number): Promise<boolean> {
  // RETURNING rather than the affected-row count, which PGlite's knex dialect does not report for DELETE.
  const deleted = await db('cart_items').where({ restaurant_id: restaurantId, customer_id: customerId, id }).delete().returning('id');
  return deleted.length > 0;
}

export async function clearCart(db: Queryable, restaurantId: number, customerId: number): Promise<void> {
  await db('cart_items').where({ restaurant_id: restaurantId, customer_id: customerId }).delete();
}
