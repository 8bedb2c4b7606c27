import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { sqlState, withTransaction } from '../../db/transaction.js';
import { AppError, conflict, notFound } from '../../http/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../http/pagination.js';
import { activeRecipesUsingIngredient } from '../recipes/service.js';
import * as repo from './repo.js';
import { MAX_STOCK } from './schemas.js';

export type { IngredientRow, MovementRow, MovementReason } from './repo.js';

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
    if (row.stock > 0) {
      await repo.insertMovement(trx, restaurantId, {
        ingredient_id: row.id,
        delta: row.stock,
        reason: 'restock',
        stock_after: row.stock,
        user_sub: userSub,
        note: 'opening stock',
      });
    }
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

export interface AdjustmentInput {
  delta: number;
  reason: 'restock' | 'waste' | 'correction' | 'count';
  note?: string | undefined;
}

/**
 * A manual stock change by staff: one guarded UPDATE (the stock never goes below 0) and its ledger row,
 * in one transaction. Below zero: `409 insufficient_stock` and nothing changes.
 */
export async function adjustStock(knex: Knex, restaurantId: number, ingredientId: number, userSub: string, input: AdjustmentInput): Promise<repo.MovementRow> {
  return withTransaction(knex, async (trx) => {
    const stockAfter = await changeStock(trx, restaurantId, ingredientId, input.delta);
    return repo.insertMovement(trx, restaurantId, {
      ingredient_id: ingredientId,
      delta: input.delta,
      reason: input.reason,
      stock_after: stockAfter,
      user_sub: userSub,
      note: input.note === undefined || input.note === '' ? null : input.note,
    });
  });
}

async function changeStock(trx: Knex.Transaction, restaurantId: number, ingredientId: number, delta: number): Promise<number> {
  // A refused update is explained from the row as it now stands; should a concurrent change have made
  // the delta possible in between, the update is simply tried again.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const stockAfter = await repo.applyStockDelta(trx, restaurantId, ingredientId, delta, MAX_STOCK);
    if (stockAfter !== undefined) return stockAfter;
    const current = await repo.selectIngredient(trx, restaurantId, ingredientId);
    if (current === undefined) throw notFound('The ingredient');
    if (current.stock + delta < 0) {
      throw new AppError(
        'insufficient_stock',
        409,
        `Only ${current.stock} ${current.unit} of ${current.name} in stock; a change of ${delta} would take it below zero`,
        [{ path: 'delta', message: `stock is ${current.stock}` }],
      );
    }
    if (current.stock + delta > MAX_STOCK) {
      throw conflict(`Stock of ${current.name} cannot exceed ${MAX_STOCK} units`, [{ path: 'delta', message: `stock is ${current.stock}` }]);
    }
  }
  throw new AppError('service_unavailable', 503, 'The stock is changing too fast; try again', undefined, { 'Retry-After': '1' });
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
