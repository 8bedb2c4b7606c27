import { z } from '../../http/zod.js';
import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { idParams } from '../../http/params.js';
import type { Clock } from '../../lib/clock.js';
import {
  createEndpointBody,
  createdEndpointSchema,
  deliverySchema,
  endpointPageSchema,
  endpointSchema,
  listDeliveriesQuery,
  listEndpointsQuery,
  updateEndpointBody,
  webhookEventBodySchema,
} from './schemas.js';
import { createEndpoint, deleteEndpoint, getEndpoint, listDeliveries, listEndpoints, redeliver, updateEndpoint, type UrlPolicy } from './service.js';

const tags = ['webhooks'];

export interface WebhookRouteOptions extends UrlPolicy {
  clock?: Clock | undefined;
}

export function registerWebhookRoutes(api: ApiRouter, options: WebhookRouteOptions): void {
  const policy: UrlPolicy = { production: options.production, resolve: options.resolve };
  api.registry.register('WebhookEvent', webhookEventBodySchema);

  defineRoute(api, {
    method: 'post',
    path: '/v1/webhook-endpoints',
    summary: 'Subscribe a URL to events (manager); the answer carries the signing secret, shown only this once',
    tags,
    access: access.manager,
    body: createEndpointBody,
    responses: {
      201: { description: 'The endpoint, with its secret', schema: createdEndpointSchema },
      409: { description: 'conflict: the restaurant already has as many endpoints as it may' },
    },
    handler: async ({ tenant, body, res }) => {
      res.setHeader('Cache-Control', 'no-store');
      return { status: 201, body: await createEndpoint(api.deps.db, tenant.id, body, policy) };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/webhook-endpoints',
    summary: "The restaurant's webhook endpoints (manager)",
    tags,
    access: access.manager,
    query: listEndpointsQuery,
    responses: { 200: { description: 'A page of endpoints, oldest first', schema: endpointPageSchema } },
    handler: async ({ tenant, query }) => ({ status: 200, body: await listEndpoints(api.deps.db, tenant.id, { limit: query.limit, cursor: query.cursor }) }),
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/webhook-endpoints/{id}',
    summary: 'One webhook endpoint (manager)',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 200: { description: 'The endpoint (never its secret)', schema: endpointSchema } },
    handler: async ({ tenant, params }) => ({ status: 200, body: await getEndpoint(api.deps.db, tenant.id, params.id) }),
  });

  defineRoute(api, {
    method: 'patch',
    path: '/v1/webhook-endpoints/{id}',
    summary: 'Change an endpoint’s URL or events, or switch it off and on (manager)',
    tags,
    access: access.manager,
    params: idParams,
    body: updateEndpointBody,
    responses: { 200: { description: 'The endpoint as it now stands', schema: endpointSchema } },
    handler: async ({ tenant, params, body }) => ({ status: 200, body: await updateEndpoint(api.deps.db, tenant.id, params.id, body, policy) }),
  });

  defineRoute(api, {
    method: 'delete',
    path: '/v1/webhook-endpoints/{id}',
    summary: 'Delete an endpoint and its delivery history (manager)',
    tags,
    access: access.manager,
    params: idParams,
    responses: { 204: { description: 'Deleted' } },
    handler: async ({ tenant, params }) => {
      await deleteEndpoint(api.deps.db, tenant.id, params.id);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/webhook-endpoints/{id}/deliveries',
    summary: "An endpoint's deliveries, newest first (manager)",
    tags,
    access: access.manager,
    params: idParams,
    query: listDeliveriesQuery,
    responses: { 200: { description: 'Up to `limit` deliveries; pass the last id as `before` for older ones', schema: z.array(deliverySchema) } },
    handler: async ({ tenant, params, query }) => ({
      status: 200,
      body: await listDeliveries(api.deps.db, tenant.id, params.id, { limit: query.limit, beforeId: query.before }),
    }),
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/webhook-deliveries/{id}/redeliver',
    summary: 'Send a delivery again, now: same event, same event id (manager)',
    tags,
    access: access.manager,
    params: idParams,
    responses: {
      202: { description: 'A new attempt is on its way; the delivery is pending until it is made', schema: deliverySchema },
      409: { description: 'conflict: the endpoint is disabled, or an attempt is in progress' },
    },
    handler: async ({ tenant, params }) => ({ status: 202, body: await redeliver(api.deps.db, tenant.id, params.id, options.clock) }),
  });
}
