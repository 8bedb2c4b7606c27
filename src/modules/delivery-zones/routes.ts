import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { idParams } from '../../http/params.js';
import { createZoneBody, listZonesQuery, updateZoneBody, zonePageSchema, zoneSchema } from './schemas.js';
import * as zones from './service.js';

const tags = ['delivery zones'];

export function registerDeliveryZoneRoutes(api: ApiRouter): void {
  defineRoute(api, {
    method: 'get',
    path: '/v1/delivery-zones',
    summary: 'List the delivery zones (manager)',
    description: 'The zones a delivery can be sent to, each a radius or a polygon with its fee, minimum subtotal, free-over threshold and priority.',
    tags,
    access: access.manager,
    query: listZonesQuery,
    responses: { 200: { description: 'A page of zones, by id', schema: zonePageSchema } },
    handler: async ({ tenant, query }) => ({ status: 200, body: await zones.listZones(api.deps.db, tenant.id, query) }),
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/delivery-zones/{id}',
    summary: 'One delivery zone (manager)',
    description: 'A zone with its shape and terms.',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 200: { description: 'The zone', schema: zoneSchema } },
    handler: async ({ tenant, params }) => ({ status: 200, body: await zones.getZone(api.deps.db, tenant.id, params.id) }),
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/delivery-zones',
    summary: 'Draw a delivery zone (manager): once a restaurant has zones, deliveries need a delivery_location inside one',
    description:
      'A radius (center and meters, measured by great-circle distance) or a polygon ([lng, lat] positions, closed, not self-intersecting). Boundaries are inclusive; overlapping zones resolve by the highest priority, then the lowest fee.',
    tags,
    access: access.manager,
    body: createZoneBody,
    responses: { 201: { description: 'The zone', schema: zoneSchema } },
    handler: async ({ tenant, body }) => ({ status: 201, body: await zones.createZone(api.deps.db, tenant.id, body) }),
  });

  defineRoute(api, {
    method: 'patch',
    path: '/v1/delivery-zones/{id}',
    summary: 'Change a delivery zone (manager)',
    description: 'Changes the fields sent, with the same shape rules as when drawing it.',
    tags,
    access: access.manager,
    params: idParams,
    body: updateZoneBody,
    responses: { 200: { description: 'The zone', schema: zoneSchema } },
    handler: async ({ tenant, params, body }) => ({ status: 200, body: await zones.updateZone(api.deps.db, tenant.id, params.id, body) }),
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/delivery-zones/{id}',
    summary: 'Remove a delivery zone (manager)',
    description: 'The zone stops serving deliveries; orders already placed keep the fee they were charged.',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 204: { description: 'Removed: it no longer serves deliveries' } },
    handler: async ({ tenant, params }) => {
      await zones.deleteZone(api.deps.db, tenant.id, params.id);
      return { status: 204 };
    },
  });
}
