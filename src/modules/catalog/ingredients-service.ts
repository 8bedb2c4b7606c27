import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { sqlState, withTransaction } from '../../db/transaction.js';
import { conflict, notFound, validationFailed } from '../../lib/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
import type { Allergen } from '../../lib/allergens.js';
import { endOfServiceDay } from '../schedule/service.js';
import { activeRecipesUsingIngredient } from './recipes-service.js';
import * as repo from './ingredients-repo.js';
import { recordOpeningStock } from './stock-service.js';

export type { IngredientRow, MovementRow, MovementReason } from './ingredients-repo.js';

/** What customers and anonymous callers see of an ingredient: no stock figures. */
export interface PublicIngredient {
  id: number;
  name: string;
  description: string;
  unit: string;
  price_cents: number;
  available: boolean;
  allergens: Allergen[];
  vegan: boolean;
  vegetarian: boolean;
  unavailable_until: string | null;
}

/** The staff view adds the stock figures. */
export interface StaffIngredient extends PublicIngredient {
  stock: number;
  low_stock_threshold: number;
}

export function publicIngredient(row: repo.IngredientRow): PublicIngredient {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    unit: row.unit,
    price_cents: row.price_cents,
    available: row.available,
    allergens: row.allergens,
    vegan: row.vegan,
    vegetarian: row.vegetarian,
    unavailable_until: row.unavailable_until,
  };
}

export function staffIngredient(row: repo.IngredientRow): StaffIngredient {
  return { ...publicIngredient(row), stock: row.stock, low_stock_threshold: row.low_stock_threshold };
}

export async function listIngredients(
  db: Queryable,
  restaurantId: number,
  options: { limit: number; cursor: string | undefined; lowStock: boolean | undefined },
): Promise<Page<repo.IngredientRow>> {
  const after = decodeCursor(options.cursor, ['number']);
  const rows = await repo.selectIngredientPage(db, restaurantId, {
    afterId: after === undefined ? undefined : Number(after[0]),
    limit: options.limit + 1,
    lowStock: options.lowStock,
  });
  return pageFrom(
    rows,
    options.limit,
    (row) => [row.id],
    (row) => row,
  );
}

/** An active ingredient of this restaurant, else 404 (another restaurant's id included). */
export async function getIngredient(db: Queryable, restaurantId: number, id: number): Promise<repo.IngredientRow> {
  const row = await repo.selectIngredient(db, restaurantId, id);
  if (row === undefined) throw notFound('The ingredient');
  return row;
}

export interface CreateIngredientInput {
  name: string;
  description?: string | undefined;
  unit: string;
  price_cents: number;
  available?: boolean | undefined;
  low_stock_threshold?: number | undefined;
  stock?: number | undefined;
  allergens?: Allergen[] | undefined;
  vegan?: boolean | undefined;
  vegetarian?: boolean | undefined;
}

/**
 * Creates an ingredient. Opening stock, if any, is written to the ledger as a `restock` in the same
 * transaction, so the ledger of every ingredient sums to its stock.
 */
export async function createIngredient(knex: Knex, restaurantId: number, userSub: string, input: CreateIngredientInput): Promise<repo.IngredientRow> {
  return withTransaction(knex, async (trx) => {
    const row = await withNameConflict(input.name, () =>
      repo.insertIngredient(trx, restaurantId, {
        name: input.name,
        description: input.description ?? '',
        unit: input.unit,
        price_cents: input.price_cents,
        available: input.available ?? true,
        low_stock_threshold: input.low_stock_threshold ?? 0,
        stock: input.stock ?? 0,
        allergens: input.allergens ?? [],
        vegan: input.vegan ?? false,
        // A vegan ingredient is vegetarian (the schema refused a body saying otherwise).
        vegetarian: input.vegetarian ?? input.vegan ?? false,
      }),
    );
    await recordOpeningStock(trx, restaurantId, row, userSub);
    return row;
  });
}

export interface UpdateIngredientInput extends Omit<repo.IngredientChanges, 'unavailable_until'> {
  /** With `available: false`: an RFC 3339 instant, or `end_of_day`; null or absent: off until switched back on. */
  unavailable_until?: string | null | undefined;
}

/**
 * Changes the given fields. Switching an ingredient off ("86") takes an optional return time, which must
 * be in the future at `now`; switching it on clears any return time. The diet flags stay coherent: `vegan`
 * sets `vegetarian`, `vegetarian: false` clears `vegan`.
 */
export async function updateIngredient(
  db: Queryable,
  restaurant: { id: number; timezone: string },
  id: number,
  input: UpdateIngredientInput,
  now: Date,
): Promise<repo.IngredientRow> {
  const { unavailable_until: until, ...rest } = input;
  const changes: repo.IngredientChanges = { ...rest };
  if (input.vegan === true && input.vegetarian === undefined) changes.vegetarian = true;
  if (input.vegetarian === false && input.vegan === undefined) changes.vegan = false;
  if (input.available === true) changes.unavailable_until = null;
  if (input.available === false) changes.unavailable_until = await returnTime(db, until, restaurant, now);
  const row = await withNameConflict(changes.name, () =>
    Object.keys(changes).length === 0 ? repo.selectIngredient(db, restaurant.id, id) : repo.updateIngredient(db, restaurant.id, id, changes),
  );
  if (row === undefined) throw notFound('The ingredient');
  return row;
}

/** `end_of_day`: the end of today's last opening range, local time (local midnight without hours). */
async function returnTime(db: Queryable, until: string | null | undefined, restaurant: { id: number; timezone: string }, now: Date): Promise<Date | null> {
  if (until === undefined || until === null) return null;
  const at = until === 'end_of_day' ? await endOfServiceDay(db, restaurant, now) : new Date(until);
  if (at.getTime() <= now.getTime()) {
    throw validationFailed('The return time has already passed', [{ path: 'unavailable_until', message: `must be after ${now.toISOString()}` }]);
  }
  return at;
}

// pg_try_advisory_xact_lock(int, int): "tabl" and the issue that added the job, so no other job's lock collides.
const UN86_LOCK: readonly [number, number] = [0x7461626c, 17];

/**
 * The un-86 tick: switches back on every ingredient whose return time has come. One instance does it per
 * tick: the others find the advisory lock taken and skip (the UPDATE alone would be safe twice; the lock
 * spares the others the work). Not a stock movement: the ledger is untouched. Returns how many came back.
 */
export async function restoreTimedUnavailability(knex: Knex, now: Date): Promise<number> {
  return withTransaction(knex, async (trx) => {
    const result: { rows: Array<{ locked: boolean }> } = await trx.raw('SELECT pg_try_advisory_xact_lock(?, ?) AS locked', [...UN86_LOCK]);
    if (result.rows[0]?.locked !== true) return 0;
    return (await repo.restoreDueIngredients(trx, now)).length;
  });
}

/**
 * Archives an ingredient no active recipe uses; otherwise `409 conflict` with one error per recipe
 * (`recipes.<id>`: its name). The archiving UPDATE comes first and holds the row lock: a recipe being
 * created with this ingredient concurrently either committed before (and is seen by the check) or waits
 * on its `FOR SHARE` of the row and then finds the ingredient archived.
 */
export async function archiveIngredient(knex: Knex, restaurantId: number, id: number): Promise<void> {
  await withTransaction(knex, async (trx) => {
    if (!(await repo.archiveIngredient(trx, restaurantId, id))) throw notFound('The ingredient');
    const users = await activeRecipesUsingIngredient(trx, restaurantId, id);
    if (users.length > 0) {
      throw conflict(
        `The ingredient is used by ${users.length === 1 ? 'an active recipe' : `${users.length} active recipes`}; remove it from them or archive them first`,
        users.map((recipe) => ({ path: `recipes.${recipe.id}`, message: recipe.name })),
      );
    }
  });
}

export async function listMovements(
  db: Queryable,
  restaurantId: number,
  ingredientId: number,
  options: { limit: number; cursor: string | undefined },
): Promise<Page<repo.MovementRow>> {
  const before = decodeCursor(options.cursor, ['number']);
  await getIngredient(db, restaurantId, ingredientId);
  const rows = await repo.selectMovementPage(db, restaurantId, ingredientId, {
    beforeId: before === undefined ? undefined : Number(before[0]),
    limit: options.limit + 1,
  });
  return pageFrom(
    rows,
    options.limit,
    (row) => [row.id],
    (row) => row,
  );
}

/** The unique index on active names, as a 409 naming the field rather than a bare constraint error. */
async function withNameConflict<T>(name: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (sqlState(error) === '23505' && name !== undefined) {
      throw conflict(`An ingredient named "${name}" already exists`, [{ path: 'name', message: 'already used by another ingredient' }]);
    }
    throw error;
  }
}
