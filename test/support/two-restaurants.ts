import type { TestApp } from './app.js';
import { catalogClient, type CatalogClient } from './catalog.js';
import { createRestaurant, type RestaurantRow } from './factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './users.js';

/** Two restaurants on one app, a client for each, and the people a tenant-isolation test needs. */
export interface TwoRestaurants {
  restaurant: RestaurantRow;
  other: RestaurantRow;
  /** Requests to `restaurant`'s domain, and to `other`'s. */
  a: CatalogClient;
  b: CatalogClient;
  manager: SignedInUser;
  kitchen: SignedInUser;
  customer: SignedInUser;
  /** A manager of `other` only. */
  otherManager: SignedInUser;
}

/** `<name>-a.test` and `<name>-b.test`, with a manager and kitchen staff of the first, a customer and a manager of the second. */
export async function twoRestaurants(t: TestApp, name: string): Promise<TwoRestaurants> {
  const restaurant = await createRestaurant(t.db.knex, { domain: `${name}-a.test` });
  const other = await createRestaurant(t.db.knex, { domain: `${name}-b.test` });
  return {
    restaurant,
    other,
    a: catalogClient(t.app, restaurant.domain),
    b: catalogClient(t.app, other.domain),
    manager: await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager'),
    kitchen: await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen'),
    customer: await signInCustomer(t.cognito),
    otherManager: await signInStaff(t.cognito, t.db.knex, other.id, 'manager'),
  };
}
