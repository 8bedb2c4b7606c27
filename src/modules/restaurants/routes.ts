import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { restaurantSchema } from './schemas.js';

export function registerRestaurantRoutes(api: ApiRouter): void {
  defineRoute(api, {
    method: 'get',
    path: '/v1/restaurant',
    summary: 'The restaurant this domain serves',
    tags: ['restaurants'],
    access: access.public,
    responses: { 200: { description: 'The restaurant', schema: restaurantSchema } },
    handler: async ({ tenant }) => ({
      status: 200,
      body: { id: tenant.id, domain: tenant.domain, name: tenant.name, currency: tenant.currency, timezone: tenant.timezone },
    }),
  });
}
