import type { Queryable } from '../../db/database.js';

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
  return rows.map((row) => ({
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
  }));
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
  const [row] = await db('cart_items')
    .insert({ restaurant_id: restaurantId, customer_id: customerId, recipe_id: line.recipe_id, quantity: line.quantity })
    .returning('id');
  if (row === undefined) throw new Error('insert into cart_items returned no row');
  const id = Number(row.id);
  // A new line has no customisations to replace: insert only.
  if (line.customizations.length > 0) {
    await db('cart_item_ingredients').insert(
      line.customizations.map((c) => ({ restaurant_id: restaurantId, cart_item_id: id, ingredient_id: c.ingredient_id, quantity: c.quantity })),
    );
  }
  if (line.options.length > 0) {
    await db('cart_item_options').insert(line.options.map((optionId) => ({ restaurant_id: restaurantId, cart_item_id: id, option_id: optionId })));
  }
  return id;
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
