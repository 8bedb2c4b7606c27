import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import type { UserDirectory } from '../../lib/identity.js';
import { findRestaurantById, type Restaurant } from './repo.js';
import { restaurantCreateSchema, restaurantSchema, restaurantUpdateSchema } from './schemas.js';
import { createRestaurant, updateRestaurant } from './service.js';
import type { Clock } from '../../lib/clock.js';
import { orderingFor } from '../schedule/service.js';
import { orderingSchema } from '../schedule/schemas.js';

const view = (r: Restaurant) => ({ id: r.id, domain: r.domain, name: r.name, currency: r.currency, timezone: r.timezone });

const restaurantWithOrderingSchema = restaurantSchema.extend({ ordering: orderingSchema }).openapi('RestaurantWithOrdering');

export function registerRestaurantRoutes(api: ApiRouter, directory: UserDirectory, clock: Clock): void {
  defineRoute(api, {
    method: 'get',
    path: '/v1/restaurant',
    summary: 'The restaurant this domain serves',
    description: 'Its id, domain, name, currency (the unit of every `_cents` field) and IANA time zone.',
    tags: ['restaurants'],
    access: access.public,
    responses: { 200: { description: 'The restaurant, and whether it takes ASAP orders now', schema: restaurantWithOrderingSchema } },
    // Read afresh: the tenant a request resolves may be a few seconds old (src/http/tenant.ts).
    handler: async ({ tenant }) => {
      const restaurant = (await findRestaurantById(api.deps.db, tenant.id)) ?? tenant;
      return { status: 200, body: { ...view(restaurant), ordering: await orderingFor(api.deps.db, restaurant, clock()) } };
    },
  });

  defineRoute(api, {
    method: 'patch',
    path: '/v1/restaurant',
    summary: "Change this restaurant's name or time zone (manager)",
    description: 'Only the fields sent change. The domain and currency are fixed at creation.',
    tags: ['restaurants'],
    access: access.manager,
    body: restaurantUpdateSchema,
    responses: { 200: { description: 'The restaurant as it now stands', schema: restaurantSchema } },
    handler: async ({ tenant, body }) => {
      const updated = await updateRestaurant(api.deps.db, tenant, body);
      api.deps.tenants?.forget(tenant.domain);
      return { status: 200, body: view(updated) };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/restaurants',
    summary: 'Create a restaurant and name its first manager (platform admin; no tenant needed)',
    description: 'The manager must already have an account in the user pool (they sign up first); they get the manager role in the new restaurant.',
    tags: ['restaurants'],
    tenant: false,
    access: access.platformAdmin,
    body: restaurantCreateSchema,
    responses: { 201: { description: 'The new restaurant', schema: restaurantSchema } },
    errors: { not_found: 'No user with manager_email in the user pool', conflict: 'The domain is taken' },
    handler: async ({ body }) => ({ status: 201, body: view(await createRestaurant(api.deps.db, directory, body)) }),
  });
}
