import type { Queryable } from '../../db/database.js';
import type { RestaurantRecord } from '../../db/tables.js';

export interface Restaurant {
  id: number;
  domain: string;
  name: string;
  currency: string;
  timezone: string;
}

const columns = ['id', 'domain', 'name', 'currency', 'timezone'] satisfies Array<keyof RestaurantRecord>;

export async function findRestaurantByDomain(db: Queryable, domain: string): Promise<Restaurant | undefined> {
  const row = await db('restaurants').select(columns).where({ domain }).first();
  return row === undefined ? undefined : toRestaurant(row);
}

export async function findRestaurantById(db: Queryable, id: number): Promise<Restaurant | undefined> {
  const row = await db('restaurants').select(columns).where({ id }).first();
  return row === undefined ? undefined : toRestaurant(row);
}

/** Every restaurant domain, for CORS: browsers may call us only from a known restaurant's sites. */
export async function restaurantDomainExists(db: Queryable, domain: string): Promise<boolean> {
  const row = await db('restaurants').select('id').where({ domain }).first();
  return row !== undefined;
}

function toRestaurant(row: Pick<RestaurantRecord, (typeof columns)[number]>): Restaurant {
  return { ...row, id: Number(row.id) };
}

/** Undefined when the domain is taken (race-safe: the unique constraint decides). */
export async function insertRestaurant(db: Queryable, restaurant: Omit<Restaurant, 'id'>): Promise<Restaurant | undefined> {
  const [row] = await db('restaurants')
    .insert(restaurant)
    .onConflict('domain')
    .ignore()
    .returning([...columns]);
  return row === undefined ? undefined : toRestaurant(row);
}

export async function updateRestaurant(db: Queryable, id: number, changes: Partial<Pick<Restaurant, 'name' | 'timezone'>>): Promise<Restaurant | undefined> {
  const [row] = await db('restaurants')
    .where({ id })
    .update({ ...changes, updated_at: db.fn.now() })
    .returning([...columns]);
  return row === undefined ? undefined : toRestaurant(row);
}
