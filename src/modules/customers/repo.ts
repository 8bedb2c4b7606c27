import type { Queryable } from '../../db/database.js';
import type { CustomerRecord } from '../../db/tables.js';
import { DIETS, isAllergen, type Diet, type MenuPreferences } from '../../lib/allergens.js';

export interface CustomerRow {
  id: number;
  user_sub: string;
  email: string | null;
  name: string | null;
  phone: string | null;
  address: string | null;
  /** What the customer wants the menu filtered by when signed in. */
  preferences: MenuPreferences;
  created_at: string;
}

const columns = ['id', 'user_sub', 'email', 'name', 'phone', 'address', 'preferences', 'created_at'] satisfies Array<keyof CustomerRecord>;

/** The jsonb column as the service wrote it; anything else in it (a hand edit) is dropped, not trusted. */
function toPreferences(value: unknown): MenuPreferences {
  const parsed = (typeof value === 'string' ? JSON.parse(value) : value) as Partial<Record<keyof MenuPreferences, unknown>> | null;
  const names = (list: unknown) => (Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : []);
  return {
    exclude_allergens: names(parsed?.exclude_allergens).filter(isAllergen),
    dietary: names(parsed?.dietary).filter((diet): diet is Diet => (DIETS as readonly string[]).includes(diet)),
  };
}

function toCustomer(row: Pick<CustomerRecord, (typeof columns)[number]>): CustomerRow {
  return { ...row, id: Number(row.id), preferences: toPreferences(row.preferences), created_at: row.created_at.toISOString() };
}

export async function selectCustomerBySub(db: Queryable, restaurantId: number, userSub: string): Promise<CustomerRow | undefined> {
  const row = await db('customers').select(columns).where({ restaurant_id: restaurantId, user_sub: userSub }).first();
  return row === undefined ? undefined : toCustomer(row);
}

export async function selectCustomerById(db: Queryable, restaurantId: number, id: number): Promise<CustomerRow | undefined> {
  const row = await db('customers').select(columns).where({ restaurant_id: restaurantId, id }).first();
  return row === undefined ? undefined : toCustomer(row);
}

/** Race-safe first use: two requests creating the same customer at once both end with the one row. */
export async function insertCustomerIfAbsent(
  db: Queryable,
  restaurantId: number,
  customer: { user_sub: string; email: string | null; name: string | null; phone: string | null },
): Promise<void> {
  await db('customers')
    .insert({ restaurant_id: restaurantId, ...customer })
    .onConflict(['restaurant_id', 'user_sub'])
    .ignore();
}

export async function updateCustomerBySub(
  db: Queryable,
  restaurantId: number,
  userSub: string,
  changes: Partial<Pick<CustomerRow, 'name' | 'phone' | 'address' | 'preferences'>>,
): Promise<CustomerRow | undefined> {
  const { preferences, ...fields } = changes;
  const [row] = await db('customers')
    .where({ restaurant_id: restaurantId, user_sub: userSub })
    .update({ ...fields, ...(preferences === undefined ? {} : { preferences: JSON.stringify(preferences) }), updated_at: db.fn.now() })
    .returning(columns);
  return row === undefined ? undefined : toCustomer(row);
}

/** A customer's saved preferences, without creating the customer (none saved: undefined). */
export async function selectPreferencesBySub(db: Queryable, restaurantId: number, userSub: string): Promise<MenuPreferences | undefined> {
  const row = await db('customers').select('preferences').where({ restaurant_id: restaurantId, user_sub: userSub }).first();
  return row === undefined ? undefined : toPreferences(row.preferences);
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Newest first; `search` matches name, email or phone (spaces, dashes and parentheses ignored in a number). */
export async function selectCustomerPage(
  db: Queryable,
  restaurantId: number,
  options: { search: string | undefined; beforeId: number | undefined; limit: number },
): Promise<CustomerRow[]> {
  const query = db('customers').select(columns).where({ restaurant_id: restaurantId });
  if (options.beforeId !== undefined) query.andWhere('id', '<', options.beforeId);
  const search = options.search;
  if (search !== undefined) {
    const pattern = `%${escapeLike(search)}%`;
    const looksLikePhone = /^[0-9\s()+-]+$/.test(search) && /[0-9]/.test(search);
    const compactPhone = search.replace(/[\s()-]/g, '').replace(/^00/, '+');
    query.andWhere((where) => {
      where.whereILike('name', pattern).orWhereILike('email', pattern);
      if (looksLikePhone) where.orWhereLike('phone', `%${escapeLike(compactPhone)}%`);
    });
  }
  const rows = await query.orderBy('id', 'desc').limit(options.limit);
  return rows.map(toCustomer);
}
