import { z } from '../../http/zod.js';
import { access, type Principal, type StaffRole } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import type { UserDirectory } from '../../lib/identity.js';
import { customerForPrincipal } from '../customers/service.js';
import { idParams } from '../../http/params.js';
import { placeOrder } from './checkout.js';
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
    description: 'In one transaction: the cart becomes a pending order with snapshots of names and prices, the ingredients it needs are taken from stock (ledger rows `order_reserved`) and the cart is emptied. If anything is short nothing changes. A cash order goes to the kitchen at once; a card order once paid.',
    tags,
    access: access.signedIn,
    idempotent: true,
    body: placeOrderBody,
    responses: { 201: { description: 'The order, pending', schema: orderSchema } },
    errors: {
      insufficient_stock: '`errors` names each short recipe and ingredient',
      conflict: 'A cart line is no longer on the menu or no longer fits its recipe, or the total is too large for one order',
      cart_empty: 'The cart has no lines',
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
    method: 'get',
    path: '/v1/orders',
    summary: 'Orders, newest first: a customer sees their own, staff see all',
    description: '`status` filters by one or more statuses (comma-separated).',
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
    description: 'With its items as they were when it was placed, its status and its payment status.',
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
    description: 'Every status change with who made it (customer, staff or the system) and the reason given.',
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
    description: 'The reserved ingredients go back to stock exactly once (ledger rows `order_released`); a paid card order is refunded.',
    tags,
    access: access.signedIn,
    params: idParams,
    body: cancelOrderBody,
    responses: { 200: { description: 'The order as it now stands', schema: orderSchema } },
    errors: { invalid_transition: 'The order cannot be cancelled now (or not by this caller)' },
    handler: async ({ tenant, principal, staffRole, params, body }) => {
      const viewer = await viewerOf(tenant.id, principal, staffRole);
      return { status: 200, body: await moveOrderAs(api.deps.db, tenant.id, viewer, params.id, 'cancelled', body.reason) };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/orders/{id}/transitions',
    summary: 'Move an order along pending → confirmed → preparing → ready → completed, or reject it (staff)',
    description: 'One step at a time; `rejected` and `cancelled` are possible from pending or confirmed and release the reserved stock.',
    tags,
    access: access.staff,
    params: idParams,
    body: transitionOrderBody,
    responses: { 200: { description: 'The order as it now stands', schema: orderSchema } },
    errors: { invalid_transition: 'Not a move the order can make from its status' },
    handler: async ({ tenant, principal, params, body }) => ({
      status: 200,
      body: await moveOrderAs(api.deps.db, tenant.id, { kind: 'staff', sub: principal.sub }, params.id, body.to, body.reason),
    }),
  });
}
