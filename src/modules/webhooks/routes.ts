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
    description:
      'Each event is POSTed as {id, type, created_at, data} with Tablekit-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> and Tablekit-Event-Id. A 2xx within 10 s is success; anything else is retried with exponential backoff (8 attempts over about a day); after 3 days of failures the endpoint is disabled. In production the URL must be https and resolve to public addresses only.',
    tags,
    access: access.manager,
    body: createEndpointBody,
    responses: {
      201: { description: 'The endpoint, with its secret', schema: createdEndpointSchema },
    },
    errors: { conflict: 'The restaurant already has as many endpoints as it may (20)' },
    handler: async ({ tenant, body, res }) => {
      res.setHeader('Cache-Control', 'no-store');
      return { status: 201, body: await createEndpoint(api.deps.db, tenant.id, body, policy) };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/webhook-endpoints',
    summary: "The restaurant's webhook endpoints (manager)",
    description: 'Every endpoint with its events and whether it is enabled (and why not); secrets are never shown again.',
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
    description: 'An endpoint with its events and state; its secret is never shown again.',
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
    description: 'Changes the fields sent. Switching a disabled endpoint on again clears its failure record.',
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
    description: 'No more events are sent to it.',
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
    description:
      'Each delivery of an event to this endpoint with its status, attempts, last HTTP status and when the next attempt is due. Page with limit and before (a delivery id).',
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
    description: 'A new attempt of the same delivery, with the same body and Tablekit-Event-Id, so the receiver can deduplicate.',
    tags,
    access: access.manager,
    params: idParams,
    responses: {
      202: { description: 'A new attempt is on its way; the delivery is pending until it is made', schema: deliverySchema },
    },
    errors: { conflict: 'The endpoint is disabled, or an attempt is in progress' },
    handler: async ({ tenant, params }) => ({ status: 202, body: await redeliver(api.deps.db, tenant.id, params.id, options.clock) }),
  });
}
