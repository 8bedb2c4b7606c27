import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { sqlState, withTransaction } from '../../db/transaction.js';
import { conflict, notFound } from '../../lib/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
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
}

/** The staff view adds the stock figures. */
export interface StaffIngredient extends PublicIngredient {
  stock: number;
  low_stock_threshold: number;
}

export function publicIngredient(row: repo.IngredientRow): PublicIngredient {
  return { id: row.id, name: row.name, description: row.description, unit: row.unit, price_cents: row.price_cents, available: row.available };
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
  return pageFrom(rows, options.limit, (row) => [row.id], (row) => row);
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
      }),
    );
    await recordOpeningStock(trx, restaurantId, row, userSub);
    return row;
  });
}

export async function updateIngredient(db: Queryable, restaurantId: number, id: number, changes: repo.IngredientChanges): Promise<repo.IngredientRow> {
  const row = await withNameConflict(changes.name, () =>
    Object.keys(changes).length === 0 ? repo.selectIngredient(db, restaurantId, id) : repo.updateIngredient(db, restaurantId, id, changes),
  );
  if (row === undefined) throw notFound('The ingredient');
  return row;
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
  return pageFrom(rows, options.limit, (row) => [row.id], (row) => row);
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
