import type { Queryable } from '../../db/database.js';
import type { ReadPart } from '../../db/read-parts.js';
import { notFound } from '../../lib/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
import type { Principal, StaffRole } from '../../lib/identity.js';
import type { UserDirectory } from '../../lib/identity.js';
import type { Allergen, Diet, MenuPreferences } from '../../lib/allergens.js';
import * as repo from './repo.js';
import { E164, EMAIL_MAX, NAME_MAX } from './schemas.js';
import { cleanText } from '../../lib/text.js';
import { setBounded } from '../../lib/bounded-map.js';

/** A customer as the API shows it (API.md, "Customers"). */
export interface Customer {
  id: number;
  email: string | null;
  name: string | null;
  phone: string | null;
  address: string | null;
  preferences: MenuPreferences;
  created_at: string;
}

export function customerView(row: repo.CustomerRow): Customer {
  return { id: row.id, email: row.email, name: row.name, phone: row.phone, address: row.address, preferences: row.preferences, created_at: row.created_at };
}

/** What the pool says goes in only when it fits our limits; the customer can set the rest. */
const fitting = (value: string | undefined, fits: (v: string) => boolean): string | null => (value !== undefined && fits(value) ? value : null);

/**
 * The caller's customer record in this restaurant, created on first use (API.md: one per restaurant and
 * Cognito `sub`). Its email comes from the token when it carries one, else from the user pool, which also
 * gives the name and phone given at sign-up.
 */
export async function customerForPrincipal(db: Queryable, directory: UserDirectory, restaurantId: number, principal: Principal): Promise<repo.CustomerRow> {
  const existing = await repo.selectCustomerBySub(db, restaurantId, principal.sub);
  if (existing !== undefined) return existing;

  // Outside any transaction: a network call must not hold a database connection.
  const pooled = await directory.findUser(principal.sub);
  // The token's email is the pool's too: cleaned like the directory's attributes (src/lib/text.ts).
  const tokenEmail = principal.email === undefined ? undefined : cleanText(principal.email);
  const email = (tokenEmail ?? pooled?.email)?.toLowerCase();
  await repo.insertCustomerIfAbsent(db, restaurantId, {
    user_sub: principal.sub,
    email: fitting(email, (v) => v.length <= EMAIL_MAX),
    name: fitting(pooled?.name?.trim(), (v) => v.length >= 1 && v.length <= NAME_MAX),
    phone: fitting(pooled?.phone, (v) => E164.test(v)),
  });
  const created = await repo.selectCustomerBySub(db, restaurantId, principal.sub);
  if (created === undefined) throw new Error('customer row vanished right after it was created');
  return created;
}

export interface CustomerChanges {
  name?: string | null | undefined;
  phone?: string | null | undefined;
  address?: string | null | undefined;
  preferences?: { exclude_allergens?: Allergen[] | undefined; dietary?: Diet[] | undefined } | null | undefined;
}

export async function updateOwnCustomer(
  db: Queryable,
  directory: UserDirectory,
  restaurantId: number,
  principal: Principal,
  changes: CustomerChanges,
): Promise<repo.CustomerRow> {
  const current = await customerForPrincipal(db, directory, restaurantId, principal);
  const set: Parameters<typeof repo.updateCustomerBySub>[3] = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.phone !== undefined) set.phone = changes.phone;
  if (changes.address !== undefined) set.address = changes.address;
  if (changes.preferences === null) set.preferences = { exclude_allergens: [], dietary: [] };
  else if (changes.preferences !== undefined) {
    set.preferences = {
      exclude_allergens: changes.preferences.exclude_allergens ?? current.preferences.exclude_allergens,
      dietary: changes.preferences.dietary ?? current.preferences.dietary,
    };
  }
  if (Object.keys(set).length === 0) return current;
  const updated = await repo.updateCustomerBySub(db, restaurantId, principal.sub, set);
  if (updated === undefined) throw new Error('customer row vanished during an update');
  return updated;
}

export async function listCustomers(
  db: Queryable,
  restaurantId: number,
  options: { search: string | undefined; limit: number; cursor: string | undefined },
): Promise<Page<Customer>> {
  const after = decodeCursor(options.cursor, ['number']);
  const rows = await repo.selectCustomerPage(db, restaurantId, {
    search: options.search,
    beforeId: after === undefined ? undefined : Number(after[0]),
    limit: options.limit + 1,
  });
  return pageFrom(rows, options.limit, (row) => [row.id], customerView);
}

/**
 * One customer of this restaurant: staff see any, a customer only their own. Anything else is `404`, so
 * an id of another customer (or of another restaurant) reveals nothing.
 */
export async function getCustomer(
  db: Queryable,
  restaurantId: number,
  id: number,
  caller: { principal: Principal; staffRole: StaffRole | undefined },
): Promise<repo.CustomerRow> {
  const row = await repo.selectCustomerById(db, restaurantId, id);
  if (row === undefined || (caller.staffRole === undefined && row.user_sub !== caller.principal.sub)) throw notFound('The customer');
  return row;
}

/**
 * The menu preferences saved by the user's customer record in this restaurant; undefined when there is no
 * record yet (reading the menu never creates one).
 */
export async function savedPreferences(db: Queryable, restaurantId: number, userSub: string): Promise<MenuPreferences | undefined> {
  return repo.selectPreferencesBySub(db, restaurantId, userSub);
}

/** For other modules (orders, cart): the customer id of the caller in this restaurant, created on first use. */
export async function customerIdForPrincipal(db: Queryable, directory: UserDirectory, restaurantId: number, principal: Principal): Promise<number> {
  return (await customerForPrincipal(db, directory, restaurantId, principal)).id;
}

/** The caller's customer id, through a memory of the ids already read (`createCustomerIds`). */
export interface CustomerIds {
  idFor(db: Queryable, restaurantId: number, principal: Principal): Promise<number>;
}

/**
 * Remembers customer ids per restaurant and `sub`, at most `limit` of them (the oldest forgotten first).
 * Safe in every process and for good: a customer row is never deleted and its id never changes, so an id
 * once read stays right; the rest of the row (address, preferences) changes and is not remembered. Saves
 * the customer lookup on each cart request and checkout after the first.
 */
export function createCustomerIds(directory: UserDirectory, limit = 10_000): CustomerIds {
  const ids = new Map<string, number>();
  return {
    async idFor(db, restaurantId, principal) {
      const key = `${restaurantId}:${principal.sub}`;
      const known = ids.get(key);
      if (known !== undefined) return known;
      const id = (await customerForPrincipal(db, directory, restaurantId, principal)).id;
      setBounded(ids, key, id, limit);
      return id;
    },
  };
}

/**
 * For checkout, as a part of its composed read: when `lock`, the customer's row locked until the caller's
 * transaction ends, so one customer's concurrent checkouts count their open orders one after the other (a
 * cap then holds under a race); a customer that does not exist is 404. The text is the same either way
 * (`lock` is a binding), so it is one prepared statement.
 */
export function customerLockPart(restaurantId: number, customerId: number, lock: boolean): ReadPart<void> {
  return {
    columns: '(SELECT id FROM customers WHERE restaurant_id = :restaurant AND id = :customer AND :lockCustomer::boolean FOR UPDATE) AS locked_customer',
    bindings: { restaurant: restaurantId, customer: customerId, lockCustomer: lock },
    read: (row) => {
      if (lock && (row.locked_customer === null || row.locked_customer === undefined)) throw notFound('The customer');
    },
  };
}
