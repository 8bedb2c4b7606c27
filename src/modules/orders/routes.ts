import { z } from '../../http/zod.js';
import { access, type Principal, type StaffRole } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import type { UserDirectory } from '../../lib/identity.js';
import { customerForPrincipal } from '../customers/service.js';
import { idParams } from '../../http/params.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { placeOrder } from './checkout.js';
import { quoteCart } from './pricing-step.js';
import { cancelOrderBody, listOrdersQuery, orderEventSchema, orderPageSchema, orderSchema, placeOrderBody, quoteBody, quoteSchema, transitionOrderBody } from './schemas.js';
import { reorder } from './reorder.js';
import { reorderBody, reorderSchema } from '../cart/schemas.js';
import { getOrder, getOrderEvents, listOrders, moveOrderAs, type OrderViewer } from './service.js';

const tags = ['orders'];

/** The refusals a price can meet, the same for the quote and the order (API.md "Prices", "Delivery zones"). */
const pricingErrors = {
  below_minimum: 'A delivery whose subtotal (before any discount) is under the minimum; `shortfall_cents` says how much is missing',
  outside_delivery_area: 'The delivery_location is outside every delivery zone',
  coupon_invalid: 'The coupon cannot be used; `reason` says why (unknown, not_started, expired, limit_reached, customer_limit_reached, min_not_met, not_applicable)',
} as const;

export function registerOrderRoutes(api: ApiRouter, directory: UserDirectory, nudgeOutbox: () => void, clock: Clock = systemClock): void {
  const viewerOf = async (tenantId: number, principal: Principal, staffRole: StaffRole | undefined): Promise<OrderViewer> =>
    staffRole !== undefined
      ? { kind: 'staff', sub: principal.sub }
      : { kind: 'customer', sub: principal.sub, customerId: (await customerForPrincipal(api.deps.db, directory, tenantId, principal)).id };

  defineRoute(api, {
    method: 'post',
    path: '/v1/orders',
    summary: 'Place the whole cart as one order, reserving its ingredients',
    description:
      'In one transaction: the cart becomes a pending order with snapshots of names, prices and the price breakdown (the one POST /v1/cart/quote shows), the ingredients it needs are taken from stock (ledger rows `order_reserved`), a coupon is counted and the cart is emptied. ' +
      'If anything is short or refused nothing changes. With `expected_total_cents` (a quote\'s total) and any other total, nothing is ordered: `409 price_changed` with the fresh breakdown as `quote`. ' +
      'A cash order goes to the kitchen at once; a card order once paid, and one with nothing to pay is paid at placement.',
    tags,
    access: access.signedIn,
    idempotent: true,
    body: placeOrderBody,
    responses: { 201: { description: 'The order, pending', schema: orderSchema } },
    errors: {
      insufficient_stock: '`errors` names each short recipe and ingredient',
      conflict: 'A cart line is no longer on the menu or no longer fits its recipe, or the total is too large for one order',
      cart_empty: 'The cart has no lines',
      price_changed: 'expected_total_cents is not what the order would be charged; `quote` holds the fresh breakdown',
      ...pricingErrors,
    },
    handler: async ({ tenant, principal, body, transaction }) => {
      // Created (or read) before the transaction: it may ask the user pool, and that is no work to hold locks for.
      const customer = await customerForPrincipal(api.deps.db, directory, tenant.id, principal);
      const result = await transaction(async (trx) => ({
        status: 201,
        body: await placeOrder(trx, tenant, { id: customer.id, address: customer.address }, body, clock()),
      }));
      nudgeOutbox();
      return result;
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/cart/quote',
    summary: 'Price the cart as an order with these fields would be charged now (changes nothing)',
    description:
      'The breakdown (subtotal, discount, service charges, delivery fee, taxes, tip, total) from the same function that prices the order, so an order placed with the same fields and `expected_total_cents` set to this `total_cents` is charged exactly it. ' +
      'The refusals are those of placing the order. Nothing is reserved and no coupon is counted.',
    tags: ['cart'],
    access: access.signedIn,
    body: quoteBody,
    responses: { 200: { description: 'The breakdown', schema: quoteSchema } },
    errors: {
      cart_empty: 'The cart has no lines',
      conflict: 'A cart line is no longer on the menu or no longer fits its recipe, or the total is too large for one order',
      ...pricingErrors,
    },
    handler: async ({ tenant, principal, body, res }) => {
      res.setHeader('Cache-Control', 'private, no-store');
      const customer = await customerForPrincipal(api.deps.db, directory, tenant.id, principal);
      // requested_at is checked as an instant by the body schema; the price does not depend on it.
      const { requested_at: _requestedAt, ...pricing } = body;
      return { status: 200, body: await quoteCart(api.deps.db, tenant, { id: customer.id }, pricing, clock()) };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/cart/reorder',
    summary: "Put the lines of one of the caller's past orders back in the cart, priced as today",
    description:
      'Each line comes back with the same options and customisations; a line that no longer fits the menu (an archived recipe, an option gone) ' +
      'is listed in `skipped` with why, never dropped silently.',
    tags: ['cart'],
    access: access.signedIn,
    body: reorderBody,
    responses: { 200: { description: 'The cart, and the lines that no longer fit the menu (`skipped`, each with why)', schema: reorderSchema } },
    errors: { not_found: "No such order of the caller (another customer's order included)" },
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
