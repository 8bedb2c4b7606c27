import { z } from '../../http/zod.js';
import { access, type Principal, type StaffRole } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import type { UserDirectory } from '../../lib/identity.js';
import { customerForPrincipal } from '../customers/service.js';
import { idParams } from '../../http/params.js';
import { placeOrder } from './checkout.js';
import { reorder } from './reorder.js';
import { reorderBody, reorderSchema } from '../cart/schemas.js';
import { cancelOrderBody, listOrdersQuery, orderEventSchema, orderPageSchema, orderSchema, placeOrderBody, transitionOrderBody } from './schemas.js';
import { getOrder, getOrderEvents, listOrders, moveOrderAs, type OrderViewer } from './service.js';

const tags = ['orders'];

export function registerOrderRoutes(api: ApiRouter, directory: UserDirectory, nudgeOutbox: () => void): void {
  const viewerOf = async (tenantId: number, principal: Principal, staffRole: StaffRole | undefined): Promise<OrderViewer> =>
    staffRole !== undefined
      ? { kind: 'staff', sub: principal.sub }
      : { kind: 'customer', sub: principal.sub, customerId: (await customerForPrincipal(api.deps.db, directory, tenantId, principal)).id };

  defineRoute(api, {
    method: 'post',
    path: '/v1/orders',
    summary: 'Place the whole cart as one order, reserving its ingredients',
    tags,
    access: access.signedIn,
    idempotent: true,
    body: placeOrderBody,
    responses: {
      201: { description: 'The order, pending', schema: orderSchema },
      409: { description: 'insufficient_stock (errors name each short recipe and ingredient), or a cart line no longer on the menu (conflict)' },
      422: { description: 'cart_empty, or an Idempotency-Key reused with another body' },
    },
    handler: async ({ tenant, principal, body, transaction }) => {
      // Created (or read) before the transaction: it may ask the user pool, and that is no work to hold locks for.
      const customer = await customerForPrincipal(api.deps.db, directory, tenant.id, principal);
      const result = await transaction(async (trx) => ({
        status: 201,
        body: await placeOrder(trx, tenant, { id: customer.id, address: customer.address }, body),
      }));
      nudgeOutbox();
      return result;
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/cart/reorder',
    summary: "Put the lines of one of the caller's past orders back in the cart, priced as today",
    tags: ['cart'],
    access: access.signedIn,
    body: reorderBody,
    responses: {
      200: { description: 'The cart, and the lines that no longer fit the menu (`skipped`, each with why)', schema: reorderSchema },
      404: { description: 'No such order of the caller (another customer\'s order included)' },
    },
    handler: async ({ tenant, principal, body, res }) => {
      res.setHeader('Cache-Control', 'private, no-store');
      const customer = await customerForPrincipal(api.deps.db, directory, tenant.id, principal);
      return { status: 200, body: await reorder(api.deps.db, tenant.id, customer.id, body.order_id) };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/orders',
    summary: 'Orders, newest first: a customer sees their own, staff see all',
    tags,
    access: access.signedIn,
    query: listOrdersQuery,
    responses: { 200: { description: 'A page of orders', schema: orderPageSchema } },
    handler: async ({ tenant, principal, staffRole, query, res }) => {
      res.setHeader('Cache-Control', 'private, no-store');
      const viewer = await viewerOf(tenant.id, principal, staffRole);
      return { status: 200, body: await listOrders(api.deps.db, tenant.id, viewer, { limit: query.limit, cursor: query.cursor, statuses: query.status }) };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/orders/{id}',
    summary: 'One order (another customer’s is not found)',
    tags,
    access: access.signedIn,
    params: idParams,
    responses: { 200: { description: 'The order', schema: orderSchema } },
    handler: async ({ tenant, principal, staffRole, params, res }) => {
      res.setHeader('Cache-Control', 'private, no-store');
      return { status: 200, body: await getOrder(api.deps.db, tenant.id, await viewerOf(tenant.id, principal, staffRole), params.id) };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/orders/{id}/events',
    summary: "The order's status history, oldest first",
    tags,
    access: access.signedIn,
    params: idParams,
    responses: { 200: { description: 'Every status change with its actor and reason', schema: z.array(orderEventSchema) } },
    handler: async ({ tenant, principal, staffRole, params, res }) => {
      res.setHeader('Cache-Control', 'private, no-store');
      return { status: 200, body: await getOrderEvents(api.deps.db, tenant.id, await viewerOf(tenant.id, principal, staffRole), params.id) };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/orders/{id}/cancel',
    summary: 'Cancel an order: its customer while pending, staff while pending or confirmed. Releases its stock.',
    tags,
    access: access.signedIn,
    params: idParams,
    body: cancelOrderBody,
    responses: {
      200: { description: 'The order as it now stands', schema: orderSchema },
      409: { description: 'invalid_transition: the order cannot be cancelled now' },
    },
    handler: async ({ tenant, principal, staffRole, params, body }) => {
      const viewer = await viewerOf(tenant.id, principal, staffRole);
      return { status: 200, body: await moveOrderAs(api.deps.db, tenant.id, viewer, params.id, 'cancelled', body.reason) };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/orders/{id}/transitions',
    summary: 'Move an order along pending → confirmed → preparing → ready → completed, or reject it (staff)',
    tags,
    access: access.staff,
    params: idParams,
    body: transitionOrderBody,
    responses: {
      200: { description: 'The order as it now stands', schema: orderSchema },
      409: { description: 'invalid_transition: not a move the order can make from its status' },
    },
    handler: async ({ tenant, principal, params, body }) => ({
      status: 200,
      body: await moveOrderAs(api.deps.db, tenant.id, { kind: 'staff', sub: principal.sub }, params.id, body.to, body.reason),
    }),
  });
}
