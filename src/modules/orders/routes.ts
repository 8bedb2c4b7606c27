import { z } from '../../http/zod.js';
import { access, type Principal, type StaffRole } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import type { UserDirectory } from '../../lib/identity.js';
import { createCustomerIds, customerForPrincipal } from '../customers/service.js';
import { idParams } from '../../http/params.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { createHitLimiter } from '../../http/hit-limiter.js';
import { placeOrder, requestedAtOf } from './checkout.js';
import { rejectOpenOrdersOf, type CustomerOrderLimits } from './customer-limits.js';
import { decideTiming, requireSlotRoom } from './slot-step.js';
import { quoteCart } from './pricing-step.js';
import {
  cancelOrderBody,
  listOrdersQuery,
  orderEventSchema,
  orderPageSchema,
  orderSchema,
  placeOrderBody,
  quoteBody,
  quoteSchema,
  rejectCustomerOrdersBody,
  rejectedOrdersSchema,
  transitionOrderBody,
} from './schemas.js';
import { reorder } from './reorder.js';
import { reorderBody, reorderSchema } from '../cart/schemas.js';
import { getOrder, getOrderEvents, listOrders, moveOrderAs, type OrderViewer } from './service.js';

const tags = ['orders'];

/** The refusals a price can meet, the same for the quote and the order (API.md "Prices", "Delivery zones"). */
const pricingErrors = {
  below_minimum: 'A delivery whose subtotal (before any discount) is under the minimum; `shortfall_cents` says how much is missing',
  outside_delivery_area: 'The delivery_location is outside every delivery zone',
  coupon_invalid:
    'The coupon cannot be used; `reason` says why (unknown, not_started, expired, limit_reached, customer_limit_reached, min_not_met, not_applicable)',
} as const;

/** The refusals of when an order is for, the same for the quote and the order (API.md "Service hours"). */
const timingErrors = {
  restaurant_closed:
    'An ASAP order while the restaurant is not taking orders (closed, a closure or a pause); `next_open_at` says when it takes them again (null: not within a year)',
  invalid_slot:
    'requested_at is not the start of a bookable slot (outside the hours, in a closure, sooner than the lead time, beyond order_ahead_days, or off a slot boundary)',
  slot_full:
    'The slot already holds max_orders_per_slot orders; `next_available_slot` is the earliest later slot with room (null: none in the order-ahead window)',
} as const;

export function registerOrderRoutes(
  api: ApiRouter,
  directory: UserDirectory,
  nudgeOutbox: () => void,
  clock: Clock = systemClock,
  limits: CustomerOrderLimits = { maxOpenUnpaidOrders: 3, checkoutsPerMinute: 10 },
): void {
  const checkoutLimiter = createHitLimiter(api.deps.db, {
    prefix: 'orders-customer',
    limit: limits.checkoutsPerMinute,
    windowMs: 60_000,
    now: clock,
    what: 'orders',
  });
  const customerIds = createCustomerIds(directory);
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
      "If anything is short or refused nothing changes. With `expected_total_cents` (a quote's total) and any other total, nothing is ordered: `409 price_changed` with the fresh breakdown as `quote`. " +
      'A cash order goes to the kitchen at once; a card order once paid, and one with nothing to pay is paid at placement. ' +
      '`requested_at` (a slot start from GET /v1/restaurant/slots) schedules it; absent or null, it is for as soon as possible and counts in the slot of its promised_at. ' +
      'The slot place is counted in the same transaction and given back when the order is rejected or cancelled.',
    tags,
    access: access.signedIn,
    ignoresStaffRole: true,
    idempotent: true,
    body: placeOrderBody,
    responses: { 201: { description: 'The order, pending', schema: orderSchema } },
    errors: {
      insufficient_stock: '`errors` names each short recipe and ingredient',
      conflict: 'A cart line is no longer on the menu or no longer fits its recipe, or the total is too large for one order',
      cart_empty: 'The cart has no lines',
      price_changed: 'expected_total_cents is not what the order would be charged; `quote` holds the fresh breakdown',
      ...pricingErrors,
      ...timingErrors,
      too_many_open_orders: 'The customer already holds MAX_OPEN_UNPAID_ORDERS unpaid card orders here (cash orders do not count)',
      rate_limited: 'More checkouts by this customer in a minute than allowed (10); Retry-After says when to try again',
    },
    handler: async ({ tenant, principal, body, transaction }) => {
      // Created (or read) before the transaction: it may ask the user pool, and that is no work to hold locks for.
      const customerId = await customerIds.idFor(api.deps.db, tenant.id, principal);
      await checkoutLimiter.hit(`${tenant.id}:${customerId}`);
      // The saved address matters only to a delivery that names none: read (fresh) then, and only then.
      const address =
        body.fulfillment === 'delivery' && body.delivery_address === undefined
          ? (await customerForPrincipal(api.deps.db, directory, tenant.id, principal)).address
          : null;
      const result = await transaction(async (trx) => {
        const placed = await placeOrder(trx, tenant, { id: customerId, address }, body, clock(), limits);
        return { status: 201, body: placed.order, lastInTransaction: placed.reserve };
      });
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
      'The refusals are those of placing the order, `requested_at` included (restaurant_closed, invalid_slot, slot_full). Nothing is reserved, no coupon and no slot place is counted.',
    tags: ['cart'],
    access: access.signedIn,
    ignoresStaffRole: true,
    body: quoteBody,
    responses: { 200: { description: 'The breakdown', schema: quoteSchema } },
    errors: {
      cart_empty: 'The cart has no lines',
      conflict: 'A cart line is no longer on the menu or no longer fits its recipe, or the total is too large for one order',
      ...pricingErrors,
      ...timingErrors,
    },
    handler: async ({ tenant, principal, body, res }) => {
      res.setHeader('Cache-Control', 'private, no-store');
      const customer = await customerForPrincipal(api.deps.db, directory, tenant.id, principal);
      const { requested_at: requested, ...pricing } = body;
      const now = clock();
      const quote = await quoteCart(api.deps.db, tenant, { id: customer.id }, pricing, now);
      // The same checks of when as the order, after the price (the order meets them in that order too).
      const timing = await decideTiming(api.deps.db, tenant, requestedAtOf({ requested_at: requested }), now);
      await requireSlotRoom(api.deps.db, tenant.id, timing, now);
      return { status: 200, body: quote };
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
    ignoresStaffRole: true,
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
    description:
      '`status` filters by one or more statuses (comma-separated); `customer_id` (staff) by customer; `due_from`/`due_to` by when orders are due (promised_at, from inclusive, to exclusive), e.g. what the kitchen has in the next hour.',
    tags,
    access: access.signedIn,
    query: listOrdersQuery,
    responses: { 200: { description: 'A page of orders', schema: orderPageSchema } },
    handler: async ({ tenant, principal, staffRole, query, res }) => {
      res.setHeader('Cache-Control', 'private, no-store');
      const viewer = await viewerOf(tenant.id, principal, staffRole);
      const instant = (text: string | undefined) => (text === undefined ? undefined : new Date(text));
      return {
        status: 200,
        body: await listOrders(api.deps.db, tenant.id, viewer, {
          limit: query.limit,
          cursor: query.cursor,
          statuses: query.status,
          dueFrom: instant(query.due_from),
          dueTo: instant(query.due_to),
          customerId: query.customer_id,
        }),
      };
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
    path: '/v1/customers/{id}/orders/reject',
    summary: 'Reject every open (pending or confirmed) order of one customer (manager)',
    description:
      'Each order is rejected through the normal transition: its stock, slot place and coupon are given back once and a paid order is refunded. ' +
      'For a customer hoarding stock with unpaid or cash orders. Orders already preparing or later are left alone.',
    tags,
    access: access.manager,
    params: idParams,
    body: rejectCustomerOrdersBody,
    responses: { 200: { description: 'The orders rejected (none: an empty list)', schema: rejectedOrdersSchema } },
    errors: { not_found: 'No such customer in this restaurant' },
    handler: async ({ tenant, principal, params, body, transaction }) => {
      const result = await transaction(async (trx) => ({
        status: 200,
        body: { rejected: await rejectOpenOrdersOf(trx, tenant.id, params.id, { sub: principal.sub, reason: body.reason }) },
      }));
      nudgeOutbox();
      return result;
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
