import type { Queryable } from '../../db/database.js';
import type { IngredientRecord, Int8, InventoryMovementRecord } from '../../db/tables.js';
import type { Allergen } from '../../lib/allergens.js';
import { runPrepared } from '../../db/prepared.js';

/** An active (not archived) ingredient row, with the stock figures only staff may see. */
export interface IngredientRow {
  id: number;
  name: string;
  description: string;
  unit: string;
  price_cents: number;
  available: boolean;
  stock: number;
  low_stock_threshold: number;
  allergens: Allergen[];
  vegan: boolean;
  vegetarian: boolean;
  /** RFC 3339: when a timed "86" ends and the ingredient comes back by itself; null when not timed. */
  unavailable_until: string | null;
}

export interface IngredientChanges {
  name?: string;
  description?: string;
  unit?: string;
  price_cents?: number;
  available?: boolean;
  low_stock_threshold?: number;
  allergens?: Allergen[];
  vegan?: boolean;
  vegetarian?: boolean;
  unavailable_until?: Date | null;
}

export interface NewIngredient extends Required<Omit<IngredientChanges, 'description' | 'unavailable_until'>> {
  description: string;
  stock: number;
}

export type MovementReason = 'restock' | 'waste' | 'correction' | 'count' | 'order_reserved' | 'order_released';

export interface MovementRow {
  id: number;
  ingredient_id: number;
  delta: number;
  reason: MovementReason;
  stock_after: number;
  order_id: number | null;
  user_sub: string | null;
  note: string | null;
  created_at: string;
}

const ingredientColumns = [
  'id',
  'name',
  'description',
  'unit',
  'price_cents',
  'available',
  'stock',
  'low_stock_threshold',
  'allergens',
  'vegan',
  'vegetarian',
  'unavailable_until',
] satisfies Array<keyof IngredientRecord>;
const movementColumns = ['id', 'ingredient_id', 'delta', 'reason', 'stock_after', 'order_id', 'user_sub', 'note', 'created_at'] satisfies Array<
  keyof InventoryMovementRecord
>;

type IngredientSelect = Pick<IngredientRecord, (typeof ingredientColumns)[number]>;
type MovementSelect = Pick<InventoryMovementRecord, (typeof movementColumns)[number]>;

export async function selectIngredientPage(
  db: Queryable,
  restaurantId: number,
  options: { afterId: number | undefined; limit: number; lowStock: boolean | undefined },
): Promise<IngredientRow[]> {
  const query = db('ingredients')
    .select(ingredientColumns)
    .where({ restaurant_id: restaurantId })
    .whereNull('archived_at')
    .orderBy('id', 'asc')
    .limit(options.limit);
  if (options.afterId !== undefined) query.where('id', '>', options.afterId);
  if (options.lowStock === true) query.whereRaw('stock <= low_stock_threshold');
  if (options.lowStock === false) query.whereRaw('stock > low_stock_threshold');
  const rows: IngredientSelect[] = await query;
  return rows.map(toIngredient);
}

export async function selectIngredient(db: Queryable, restaurantId: number, id: number): Promise<IngredientRow | undefined> {
  const row: IngredientSelect | undefined = await db('ingredients')
    .select(ingredientColumns)
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .first();
  return row === undefined ? undefined : toIngredient(row);
}

export async function insertIngredient(db: Queryable, restaurantId: number, ingredient: NewIngredient): Promise<IngredientRow> {
  const [row] = (await db('ingredients')
    .insert({ restaurant_id: restaurantId, ...ingredient })
    .returning(ingredientColumns)) as IngredientSelect[];
  if (row === undefined) throw new Error('insert into ingredients returned no row');
  return toIngredient(row);
}

export async function updateIngredient(db: Queryable, restaurantId: number, id: number, changes: IngredientChanges): Promise<IngredientRow | undefined> {
  const [row] = (await db('ingredients')
    .update({ ...changes, updated_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .returning(ingredientColumns)) as IngredientSelect[];
  return row === undefined ? undefined : toIngredient(row);
}

/** Marks the ingredient archived; the row (and its ledger) stays for old recipes and orders. False when there was nothing active to archive. */
export async function archiveIngredient(db: Queryable, restaurantId: number, id: number): Promise<boolean> {
  const rows: unknown[] = await db('ingredients')
    .update({ archived_at: db.fn.now(), updated_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .returning('id');
  return rows.length > 0;
}

/**
 * Switches back on every ingredient whose timed "86" has ended by `now` (any restaurant), clearing the
 * time. Not a stock change: the ledger is untouched. Returns the ingredients it switched back on.
 */
export async function restoreDueIngredients(db: Queryable, now: Date): Promise<Array<{ restaurant_id: number; id: number }>> {
  const rows = await db('ingredients')
    .update({ available: true, unavailable_until: null, updated_at: db.fn.now() })
    .whereNotNull('unavailable_until')
    .where('unavailable_until', '<=', now)
    .returning(['restaurant_id', 'id']);
  return rows.map((row) => ({ restaurant_id: Number(row.restaurant_id), id: Number(row.id) }));
}

/** Which rows a stock change may touch, beyond the 0..maxStock range every change keeps to. */
export interface StockGuard {
  maxStock: number;
  /** Only an ingredient that is not archived (manual adjustments, reservations). */
  activeOnly: boolean;
  /** Only an ingredient switched on by the manager (reservations for an order). */
  availableOnly: boolean;
}

/**
 * The one guarded statement of every stock change (DESIGN.md, "Placing an order without overselling"):
 * it applies only while the result stays within 0..maxStock, so concurrent changes can never oversell or
 * overflow (no read-modify-write). The sum is taken in bigint so an out-of-range result is a refused row,
 * not an integer-overflow error. Returns the ingredient with its new stock (and the threshold the move
 * may have crossed), or undefined when no row matched (unknown, archived or switched off where the
 * guard asks, or out of range).
 */
export async function applyStockDelta(db: Queryable, restaurantId: number, id: number, delta: number, guard: StockGuard): Promise<IngredientRow | undefined> {
  const query = db('ingredients')
    .where({ restaurant_id: restaurantId, id })
    .whereRaw('stock::bigint + ? BETWEEN 0 AND ?', [delta, guard.maxStock])
    .update({ stock: db.raw('stock + ?', [delta]), updated_at: db.fn.now() })
    .returning(ingredientColumns);
  if (guard.activeOnly) query.whereNull('archived_at');
  if (guard.availableOnly) query.where('available', true);
  const [row] = (await query) as IngredientSelect[];
  return row === undefined ? undefined : toIngredient(row);
}

/**
 * Takes what an order needs of each ingredient and writes the `order_reserved` ledger row of each, in one
 * statement that first locks the rows in ascending id order (the order every stock change locks them in).
 * Why it cannot deadlock: `locked` is a materialised `SELECT … ORDER BY id FOR UPDATE`, and the UPDATE's
 * one-time filter counts it, so PostgreSQL runs all of it (a sort, then each row locked in id order)
 * before the UPDATE reads a single row; the UPDATE then changes only rows this transaction already holds,
 * in whatever order its join yields them, without waiting. So the statement waits only inside `locked`,
 * always for the lowest id it does not hold yet, like a series of single-row locks in ascending order.
 * Each row is guarded as `applyStockDelta` guards a reservation (archived or switched-off ingredients and
 * a stock below the need are refused; a need is never negative, so the upper bound cannot be passed);
 * the UPDATE re-checks the guard on the row's latest version (READ COMMITTED's recheck after a concurrent
 * commit). `id = ANY(…)` in the UPDATE lets its prepared (generic) plan reach the rows through the
 * primary key rather than scan the restaurant's ingredients. The ingredients it answers are the ones taken; one missing means a shortfall, and the caller
 * must then roll the transaction back (the ledger rows of the others were written with them). `needs`
 * come by ascending ingredient id (`sumNeeds`), each id once.
 */
export async function takeStockForOrder(
  db: Queryable,
  restaurantId: number,
  orderId: number,
  needs: ReadonlyArray<{ ingredient_id: number; quantity: number }>,
): Promise<IngredientRow[]> {
  if (needs.length === 0) return [];
  const columns = ingredientColumns.map((column) => `i.${column}`).join(', ');
  const result: { rows: IngredientSelect[] } = await runPrepared(db, {
    // Fixed text whatever the number of ingredients (arrays): planned once per connection.
    name: 'stock_take_for_order',
    sql: `WITH need AS (SELECT * FROM unnest(:ids::bigint[], :quantities::integer[]) AS n(id, quantity)),
       locked AS MATERIALIZED (
         SELECT id FROM ingredients WHERE restaurant_id = :restaurant AND id = ANY(:ids::bigint[]) ORDER BY id FOR UPDATE
       ),
       taken AS (
         UPDATE ingredients i SET stock = i.stock - need.quantity, updated_at = now()
           FROM need
          WHERE (SELECT count(*) FROM locked) = cardinality(:ids::bigint[])
            AND i.restaurant_id = :restaurant AND i.id = ANY(:ids::bigint[]) AND i.id = need.id AND i.archived_at IS NULL AND i.available
            AND i.stock >= need.quantity
          RETURNING ${columns}, need.quantity AS taken
       ),
       ledger AS (
         INSERT INTO inventory_movements (restaurant_id, ingredient_id, delta, reason, stock_after, order_id)
         SELECT :restaurant, id, -taken, 'order_reserved', stock, :order FROM taken ORDER BY id
       )
       SELECT ${ingredientColumns.join(', ')} FROM taken ORDER BY id`,
    bindings: { ids: needs.map((n) => n.ingredient_id), quantities: needs.map((n) => n.quantity), restaurant: restaurantId, order: orderId },
  });
  return result.rows.map((row) => toIngredient({ ...row, unavailable_until: row.unavailable_until === null ? null : new Date(row.unavailable_until) }));
}

/** What the stock statement's refusal is explained from: the rows as they stand, archived or not. */
export async function selectStockFigures(
  db: Queryable,
  restaurantId: number,
  ids: readonly number[],
): Promise<Array<{ id: number; name: string; unit: string; stock: number; available: boolean; archived: boolean }>> {
  const rows = await db('ingredients')
    .select('id', 'name', 'unit', 'stock', 'available', 'archived_at')
    .where({ restaurant_id: restaurantId })
    .whereIn('id', [...ids]);
  return rows.map((row) => ({
    id: Number(row.id),
    name: row.name,
    unit: row.unit,
    stock: Number(row.stock),
    available: row.available,
    archived: row.archived_at !== null,
  }));
}

/** Per ingredient, what the order's ledger rows still hold (reserved minus released), by ascending id. */
export async function selectHeldForOrder(db: Queryable, restaurantId: number, orderId: number): Promise<Array<{ ingredient_id: number; quantity: number }>> {
  const rows = await db('inventory_movements')
    .select<Array<{ ingredient_id: Int8; held: number }>>('ingredient_id', db.raw('(-sum(delta))::integer AS held'))
    .where({ restaurant_id: restaurantId, order_id: orderId })
    .groupBy('ingredient_id')
    .havingRaw('sum(delta) < 0')
    .orderBy('ingredient_id');
  return rows.map((row) => ({ ingredient_id: Number(row.ingredient_id), quantity: Number(row.held) }));
}

export interface NewMovement {
  ingredient_id: number;
  delta: number;
  reason: MovementReason;
  stock_after: number;
  order_id?: number | null;
  user_sub?: string | null;
  note?: string | null;
}

/** Many ledger rows in one statement (an order's reservation). */
export async function insertMovements(db: Queryable, restaurantId: number, movements: readonly NewMovement[]): Promise<void> {
  if (movements.length === 0) return;
  await db('inventory_movements').insert(movements.map((movement) => movementValues(restaurantId, movement)));
}

function movementValues(restaurantId: number, movement: NewMovement) {
  return {
    restaurant_id: restaurantId,
    ingredient_id: movement.ingredient_id,
    delta: movement.delta,
    reason: movement.reason,
    stock_after: movement.stock_after,
    order_id: movement.order_id ?? null,
    user_sub: movement.user_sub ?? null,
    note: movement.note ?? null,
  };
}

export async function insertMovement(db: Queryable, restaurantId: number, movement: NewMovement): Promise<MovementRow> {
  const [row] = (await db('inventory_movements').insert(movementValues(restaurantId, movement)).returning(movementColumns)) as MovementSelect[];
  if (row === undefined) throw new Error('insert into inventory_movements returned no row');
  return toMovement(row);
}

/** The ledger of one ingredient, newest first (keyset on id, descending). */
export async function selectMovementPage(
  db: Queryable,
  restaurantId: number,
  ingredientId: number,
  options: { beforeId: number | undefined; limit: number },
): Promise<MovementRow[]> {
  const query = db('inventory_movements')
    .select(movementColumns)
    .where({ restaurant_id: restaurantId, ingredient_id: ingredientId })
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.beforeId !== undefined) query.where('id', '<', options.beforeId);
  const rows: MovementSelect[] = await query;
  return rows.map(toMovement);
}

function toIngredient(row: IngredientSelect): IngredientRow {
  return {
    ...row,
    id: Number(row.id),
    // The column's CHECK admits only the EU names.
    allergens: row.allergens as Allergen[],
    unavailable_until: row.unavailable_until === null ? null : row.unavailable_until.toISOString(),
  };
}

function toMovement(row: MovementSelect): MovementRow {
  return {
    ...row,
    id: Number(row.id),
    ingredient_id: Number(row.ingredient_id),
    order_id: row.order_id === null ? null : Number(row.order_id),
    created_at: row.created_at.toISOString(),
  };
}
