import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { withTransaction } from '../../db/transaction.js';
import { AppError, conflict } from '../../lib/errors.js';
import type { UserDirectory } from '../../lib/identity.js';
import { addManager } from '../staff/service.js';
import * as repo from './repo.js';

export type { Restaurant } from './repo.js';

/** The restaurant served at a domain (the tenant of a request), or undefined. */
export async function findRestaurantByDomain(db: Queryable, domain: string): Promise<repo.Restaurant | undefined> {
  return repo.findRestaurantByDomain(db, domain);
}

/** Whether a restaurant is served at this domain (CORS: browsers may call us only from its sites). */
export async function restaurantDomainExists(db: Queryable, domain: string): Promise<boolean> {
  return repo.restaurantDomainExists(db, domain);
}

export interface CreateRestaurantInput {
  domain: string;
  name: string;
  currency: string;
  timezone: string;
  manager_email: string;
}

/**
 * A new tenant and its first manager, in one transaction. The manager must already be a user of the pool
 * (they sign up first); they are looked up there before anything is written.
 */
export async function createRestaurant(db: Knex, directory: UserDirectory, input: CreateRestaurantInput): Promise<repo.Restaurant> {
  const manager = await directory.findUser(input.manager_email);
  if (manager === undefined) {
    throw new AppError('not_found', 404, 'No user with this email exists in the user pool: they must sign up first', [
      { path: 'manager_email', message: 'no such user' },
    ]);
  }
  const { manager_email: managerEmail, ...restaurant } = input;
  return withTransaction(db, async (trx) => {
    const created = await repo.insertRestaurant(trx, restaurant);
    if (created === undefined) throw conflict('A restaurant with this domain already exists', [{ path: 'domain', message: 'is taken' }]);
    await addManager(trx, created.id, { sub: manager.sub, email: manager.email ?? managerEmail });
    return created;
  });
}

export async function updateRestaurant(
  db: Knex,
  current: repo.Restaurant,
  changes: { name?: string | undefined; timezone?: string | undefined },
): Promise<repo.Restaurant> {
  const set: { name?: string; timezone?: string } = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.timezone !== undefined) set.timezone = changes.timezone;
  if (Object.keys(set).length === 0) return current;
  const updated = await repo.updateRestaurant(db, current.id, set);
  if (updated === undefined) throw new Error('restaurant vanished during an update');
  return updated;
}
