import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Knex } from 'knex';
import { createTestApp, silentLogger, TEST_WEBHOOK_SECRET, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { orderActors, orderStatuses, releasesStock, statusesAllowingMove, type OrderActor, type OrderStatus } from '../src/modules/orders/state-machine.js';
import { paymentStatusFor } from '../src/modules/orders/payment-status.js';
import { orderSchema } from '../src/modules/orders/schemas.js';
import { settleCharge } from '../src/modules/payments/settlement.js';
import { processOrderRefunds } from '../src/modules/payments/service.js';
import { signTestWebhook } from '../src/modules/payments/providers/test-provider.js';
import type { PaymentProvider } from '../src/modules/payments/providers/types.js';

// The rules that decide where an order's stock and money go: who may move an order, what its payments
// amount to, and what a payment or refund may touch. Each test names what a customer or the
// restaurant would notice if the rule broke (`npm run test:mutation` checks that each rule is pinned).

describe('who may move an order (API.md "Orders")', () => {
  // to → actor → the statuses the move may start from; anything not listed is 409 invalid_transition.
  const allowedFrom: Record<OrderStatus, Partial<Record<OrderActor, OrderStatus[]>>> = {
    pending: {},
    confirmed: { staff: ['pending'], system: ['pending'] },
    preparing: { staff: ['confirmed'] },
    ready: { staff: ['preparing'] },
    completed: { staff: ['ready'] },
    rejected: { staff: ['pending', 'confirmed'] },
    cancelled: { customer: ['pending'], staff: ['pending', 'confirmed'], system: ['pending'] },
  };

  it('allows exactly the moves the contract lists, each only to the actors it names', () => {
    for (const to of orderStatuses) {
      for (const actor of orderActors) {
        expect(statusesAllowingMove(to, actor), `${actor} → ${to}`).toEqual(allowedFrom[to][actor] ?? []);
      }
    }
  });

  it('gives the stock back only when an order is rejected or cancelled', () => {
    expect(orderStatuses.filter(releasesStock)).toEqual(['rejected', 'cancelled']);
  });
});

describe('what the money on an order amounts to', () => {
  it('calls an order paid only once its payments cover the total: nothing or a part paid is unpaid', () => {
    expect(paymentStatusFor(1000, 0, 0)).toBe('unpaid');
    expect(paymentStatusFor(1000, 999, 0)).toBe('unpaid');
    expect(paymentStatusFor(1000, 1000, 0)).toBe('paid');
    expect(paymentStatusFor(1000, 1500, 0)).toBe('paid');
    // Nothing paid is never paid, even on an order that costs nothing.
    expect(paymentStatusFor(0, 0, 0)).toBe('unpaid');
  });

  it('calls a refunded order refunded once nothing is kept, and partially refunded while some is', () => {
    expect(paymentStatusFor(1000, 1000, 1000)).toBe('refunded');
    expect(paymentStatusFor(1000, 1000, 1)).toBe('partially_refunded');
    expect(paymentStatusFor(1000, 1000, 999)).toBe('partially_refunded');
  });

  it('keeps an overpaid order paid when only the overpayment went back, down to exactly its total', () => {
    expect(paymentStatusFor(1000, 2000, 999)).toBe('paid');
    expect(paymentStatusFor(1000, 2000, 1000)).toBe('paid');
    expect(paymentStatusFor(1000, 2000, 1001)).toBe('partially_refunded');
  });
});

describe('payments, refunds and moves, as the restaurant and its customers see them', () => {
  let t: TestApp;
  let knex: Knex;
  let provider: PaymentProvider;
  const BURGER_CENTS = 500;

  interface Restaurant {
    id: number;
    api: CatalogClient;
    manager: SignedInUser;
    kitchen: SignedInUser;
    burgerId: number;
    bunId: number;
  }
  let a: Restaurant;
  let b: Restaurant;
  let alice: SignedInUser;
  let bob: SignedInUser;

  const setUpRestaurant = async (domain: string): Promise<Restaurant> => {
    const { id } = await createRestaurant(knex, { domain, currency: 'EUR' });
    const bunId = await insertIngredientRow(knex, id, { name: 'Bun', price_cents: 100, stock: 100 });
    const pattyId = await insertIngredientRow(knex, id, { name: 'Patty', price_cents: 400, stock: 100 });
    const [burgerId] = (await insertRecipeRows(knex, id, [
      {
        name: 'Burger',
        lines: [
          { ingredient_id: bunId, quantity: 1 },
          { ingredient_id: pattyId, quantity: 1 },
        ],
      },
    ])) as [number];
    return {
      id,
      api: catalogClient(t.app, domain),
      manager: await signInStaff(t.cognito, knex, id, 'manager'),
      kitchen: await signInStaff(t.cognito, knex, id, 'kitchen'),
      burgerId,
      bunId,
    };
  };

  const placeOrder = async (
    at: Restaurant,
    user: SignedInUser,
    options: { method?: 'card' | 'cash'; quantity?: number; fulfillment?: 'pickup' | 'delivery' } = {},
  ) => {
    expect((await at.api.post('/v1/cart/items', { recipe_id: at.burgerId, quantity: options.quantity ?? 1 }, user)).status).toBe(201);
    const res = await at.api
      .post('/v1/orders', { fulfillment: options.fulfillment ?? 'pickup', payment_method: options.method ?? 'card' }, user)
      .set('Idempotency-Key', randomUUID());
    expect(res.status, res.text).toBe(201);
    return orderSchema.parse(res.body);
  };
  const pay = async (at: Restaurant, user: SignedInUser, orderId: number, token = 'tok_visa') =>
    at.api.post(`/v1/orders/${orderId}/payments`, { payment_token: token }, user).set('Idempotency-Key', randomUUID());
  const refund = async (at: Restaurant, paymentId: number, amountCents: number) => {
    const res = await at.api.post(`/v1/payments/${paymentId}/refunds`, { amount_cents: amountCents }, at.manager).set('Idempotency-Key', randomUUID());
    expect(res.status, res.text).toBe(201);
    return res.body as { status: string };
  };
  const move = async (at: Restaurant, orderId: number, to: OrderStatus) => {
    const res = await at.api.post(`/v1/orders/${orderId}/transitions`, { to }, at.kitchen);
    expect(res.status, res.text).toBe(200);
    return orderSchema.parse(res.body);
  };
  const paymentStatusOf = async (at: Restaurant, orderId: number) =>
    (await knex('orders').where({ restaurant_id: at.id, id: orderId }).first()).payment_status as string;
  const outboxOf = async (at: Restaurant, orderId: number) =>
    (
      await knex('outbox')
        .where({ restaurant_id: at.id })
        .whereRaw(`payload->>'order_id' = ?`, [String(orderId)])
        .orderBy('id')
    ).map((row) => row.type as string);
  const paymentsOf = async (at: Restaurant, orderId: number) => knex('payments').where({ restaurant_id: at.id, order_id: orderId }).orderBy('id');
  const stockOf = async (ingredientId: number) => Number((await knex('ingredients').where({ id: ingredientId }).first()).stock);
  const sendRefundsToProvider = (at: Restaurant, orderId: number) => processOrderRefunds({ db: knex, provider, logger: silentLogger }, at.id, orderId);
  const webhook = (event: object) => {
    const body = JSON.stringify(event);
    return request(t.app)
      .post('/v1/payments/webhooks/test')
      .set('Content-Type', 'application/json')
      .set('Tablekit-Signature', signTestWebhook(body, TEST_WEBHOOK_SECRET))
      .send(body);
  };

  beforeAll(async () => {
    t = await createTestApp();
    knex = t.db.knex;
    provider = t.paymentProvider;
    a = await setUpRestaurant('money-a.example.com');
    b = await setUpRestaurant('money-b.example.com');
    alice = await signInCustomer(t.cognito);
    bob = await signInCustomer(t.cognito);
  });
  afterAll(async () => {
    await t.close();
  });

  it('paying order A leaves order B of another restaurant, and other orders of the same one, untouched', async () => {
    const mine = await placeOrder(a, alice);
    const neighbours = await placeOrder(a, bob);
    const elsewhere = await placeOrder(b, alice);

    const paid = await pay(a, alice, mine.id);
    expect(paid.status, paid.text).toBe(201);
    expect(await paymentStatusOf(a, mine.id)).toBe('paid');
    expect(await paymentStatusOf(a, neighbours.id)).toBe('unpaid');
    expect(await paymentStatusOf(b, elsewhere.id)).toBe('unpaid');
    expect(await outboxOf(b, elsewhere.id)).toEqual([]);

    // Refunding it touches nobody else's order either.
    expect((await pay(b, alice, elsewhere.id)).status).toBe(201);
    await refund(a, paid.body.id, 100);
    expect(await paymentStatusOf(a, mine.id)).toBe('partially_refunded');
    expect(await paymentStatusOf(a, neighbours.id)).toBe('unpaid');
    expect(await paymentStatusOf(b, elsewhere.id)).toBe('paid');
    expect((await b.api.get(`/v1/orders/${elsewhere.id}`, alice)).body.payment_status).toBe('paid');
  });

  /**
   * A card payment for less than the order's total, settled as a provider's answer would be. The API
   * always charges the whole outstanding amount, so the payment is written as a partial capture would
   * leave it: charged at the provider, then recorded.
   */
  const payPartly = async (at: Restaurant, orderId: number, amountCents: number) => {
    const key = `partial-${randomUUID()}`;
    const charged = await provider.charge({ amountCents, currency: 'EUR', paymentToken: 'tok_visa', idempotencyKey: key, metadata: {} });
    if (charged.status !== 'succeeded') throw new Error(`the test provider did not charge: ${charged.status}`);
    const [row] = await knex('payments')
      .insert({
        restaurant_id: at.id,
        order_id: orderId,
        method: 'card',
        provider: provider.name,
        provider_idempotency_key: key,
        status: 'pending',
        amount_cents: amountCents,
        currency: 'EUR',
      })
      .returning('id');
    await knex.transaction((trx) => settleCharge(trx, at.id, Number(row.id), { status: 'succeeded', providerPaymentId: charged.providerPaymentId }));
    return Number(row.id);
  };

  it('a customer cannot pay another customer’s order, nor one that does not exist', async () => {
    const alices = await placeOrder(a, alice);
    const paymentsBefore = (await knex('payments').where({ restaurant_id: a.id })).length;
    problem(await pay(a, bob, alices.id), 404, 'not_found');
    problem(await pay(a, bob, 987_654), 404, 'not_found');
    expect(await knex('payments').where({ restaurant_id: a.id })).toHaveLength(paymentsBefore);
    expect(await paymentStatusOf(a, alices.id)).toBe('unpaid');
    expect((await pay(a, alice, alices.id)).status).toBe(201);
  });

  it('a partial payment does not send the order to the kitchen; the rest taken in cash does', async () => {
    const order = await placeOrder(a, alice, { quantity: 2 });
    await payPartly(a, order.id, 400);
    expect(await paymentStatusOf(a, order.id)).toBe('unpaid');
    expect(await outboxOf(a, order.id)).toEqual([]);
    expect((await a.api.get(`/v1/orders/${order.id}`, alice)).body).toMatchObject({ status: 'pending', payment_status: 'unpaid' });

    const cash = await a.api.post(`/v1/orders/${order.id}/payments/cash`, {}, a.kitchen);
    expect(cash.status, cash.text).toBe(201);
    expect(cash.body.amount_cents).toBe(2 * BURGER_CENTS - 400);
    expect(await paymentStatusOf(a, order.id)).toBe('paid');
    expect(await outboxOf(a, order.id)).toEqual(['order.confirmation_requested']);
  });

  it('refunding a partial payment does not send the order to the kitchen either', async () => {
    const order = await placeOrder(a, bob, { quantity: 2 });
    const paymentId = await payPartly(a, order.id, 400);
    expect((await refund(a, paymentId, 400)).status).toBe('succeeded');
    expect(await paymentStatusOf(a, order.id)).toBe('refunded');
    expect(await outboxOf(a, order.id)).toEqual([]);
  });

  it('a refund does not re-confirm an order: the kitchen is asked once, when it is paid', async () => {
    const order = await placeOrder(a, alice, { quantity: 2 });
    const paid = await pay(a, alice, order.id);
    expect(await outboxOf(a, order.id)).toEqual(['order.confirmation_requested']);
    await move(a, order.id, 'confirmed');

    expect((await refund(a, paid.body.id, 300)).status).toBe('succeeded');
    expect(await paymentStatusOf(a, order.id)).toBe('partially_refunded');
    await refund(a, paid.body.id, 2 * BURGER_CENTS - 300);
    expect(await paymentStatusOf(a, order.id)).toBe('refunded');
    expect(await outboxOf(a, order.id)).toEqual(['order.confirmation_requested']);
  });

  it('a card order staff confirmed before it was paid is not sent to the kitchen again when paid', async () => {
    const order = await placeOrder(a, bob);
    await move(a, order.id, 'confirmed');
    expect((await pay(a, bob, order.id)).status).toBe(201);
    expect(await paymentStatusOf(a, order.id)).toBe('paid');
    expect(await outboxOf(a, order.id)).toEqual([]);
  });

  it('a cash order paid at the counter asks the kitchen nothing more: it asked when placed', async () => {
    const order = await placeOrder(a, bob, { method: 'cash' });
    expect((await a.api.post(`/v1/orders/${order.id}/payments/cash`, {}, a.kitchen)).status).toBe(201);
    expect(await paymentStatusOf(a, order.id)).toBe('paid');
    expect(await outboxOf(a, order.id)).toEqual(['order.confirmation_requested']);
  });

  it('an order refunded down to exactly its total after being paid twice stays paid', async () => {
    const order = await placeOrder(a, alice);
    expect((await pay(a, alice, order.id, 'tok_3ds')).status).toBe(201);
    const [first] = await paymentsOf(a, order.id);
    // We recorded the 3-D Secure attempt as failed, but the customer completed it at the provider
    // later (Stripe lets a challenge be retried on the same intent): the second card also pays.
    await knex('payments').where({ id: first.id }).update({ status: 'failed', failure_code: 'authentication_failed', client_secret: null });
    expect((await pay(a, alice, order.id)).status).toBe(201);
    expect(await paymentStatusOf(a, order.id)).toBe('paid');
    const paidAt = (await a.api.get(`/v1/orders/${order.id}`, alice)).body.updated_at;

    const late = await webhook({ id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', payment_intent: first.provider_payment_id });
    expect(late.body).toEqual({ received: true, outcome: 'settled' });
    expect((await paymentsOf(a, order.id)).map((p) => p.status)).toEqual(['succeeded', 'succeeded']);
    expect(await outboxOf(a, order.id)).toEqual(['order.confirmation_requested', 'payment.refund_requested']);

    expect(await sendRefundsToProvider(a, order.id)).toBe(1);
    const [duplicate, kept] = await paymentsOf(a, order.id);
    expect([duplicate.refunded_cents, kept.refunded_cents]).toEqual([BURGER_CENTS, 0]);
    // Another report that the kept payment went through changes nothing: it was settled already.
    await webhook({ id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', payment_intent: kept.provider_payment_id });
    expect(await knex('refunds').whereIn('payment_id', [duplicate.id, kept.id])).toHaveLength(1);
    // The order itself did not change: a client watching its updated_at sees nothing happen.
    expect((await a.api.get(`/v1/orders/${order.id}`, alice)).body).toMatchObject({ payment_status: 'paid', updated_at: paidAt });
  });

  it('money arriving late on a refunded order does not send it to the kitchen a second time', async () => {
    const order = await placeOrder(a, bob);
    expect((await pay(a, bob, order.id, 'tok_3ds')).status).toBe(201);
    const [first] = await paymentsOf(a, order.id);
    await knex('payments').where({ id: first.id }).update({ status: 'failed', failure_code: 'authentication_failed', client_secret: null });
    const second = await pay(a, bob, order.id);
    await refund(a, second.body.id, BURGER_CENTS);
    expect(await paymentStatusOf(a, order.id)).toBe('refunded');

    // The first attempt completes at the provider after all: the order is paid again, still pending.
    await webhook({ id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', payment_intent: first.provider_payment_id });
    expect((await outboxOf(a, order.id)).filter((type) => type === 'order.confirmation_requested')).toHaveLength(1);
  });

  it('staff cancel a confirmed order: stock and money come back', async () => {
    const before = await stockOf(a.bunId);
    const order = await placeOrder(a, bob, { quantity: 3 });
    const paid = await pay(a, bob, order.id);
    await move(a, order.id, 'confirmed');
    expect(await stockOf(a.bunId)).toBe(before - 3);

    const cancelled = await a.api.post(`/v1/orders/${order.id}/cancel`, { reason: 'fryer broke' }, a.manager);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(orderSchema.parse(cancelled.body).status).toBe('cancelled');
    expect(await stockOf(a.bunId)).toBe(before);
    const ledger = await knex('inventory_movements').where({ order_id: order.id, ingredient_id: a.bunId }).orderBy('id');
    expect(ledger.map((row) => [row.reason, row.delta])).toEqual([
      ['order_reserved', -3],
      ['order_released', 3],
    ]);
    const refunds = await knex('refunds').where({ payment_id: paid.body.id });
    expect(refunds.map((r) => [r.status, r.amount_cents])).toEqual([['pending', 3 * BURGER_CENTS]]);
    expect(await outboxOf(a, order.id)).toEqual(['order.confirmation_requested', 'payment.refund_requested']);

    expect(await sendRefundsToProvider(a, order.id)).toBe(1);
    expect(await paymentStatusOf(a, order.id)).toBe('refunded');
    const events = (await a.api.get(`/v1/orders/${order.id}/events`, bob)).body;
    expect(events.at(-1)).toMatchObject({ status: 'cancelled', actor: 'staff', reason: 'fryer broke' });
  });

  it('staff reject a confirmed order: stock and money come back too', async () => {
    const before = await stockOf(a.bunId);
    const order = await placeOrder(a, alice, { method: 'cash' });
    await move(a, order.id, 'confirmed');
    const cash = (await a.api.post(`/v1/orders/${order.id}/payments/cash`, {}, a.kitchen)).body;
    await move(a, order.id, 'rejected');
    expect(await stockOf(a.bunId)).toBe(before);
    expect((await knex('refunds').where({ payment_id: cash.id })).map((r) => [r.status, r.amount_cents])).toEqual([['succeeded', BURGER_CENTS]]);
    expect(await paymentStatusOf(a, order.id)).toBe('refunded');
  });

  it('keeps the ingredients reserved while an order goes through the kitchen and is served', async () => {
    const before = await stockOf(a.bunId);
    const order = await placeOrder(a, bob, { method: 'cash', quantity: 2 });
    for (const to of ['confirmed', 'preparing', 'ready', 'completed'] as const) {
      await move(a, order.id, to);
      expect(await stockOf(a.bunId), `after ${to}`).toBe(before - 2);
    }
    expect(await knex('inventory_movements').where({ order_id: order.id, reason: 'order_released' })).toHaveLength(0);
  });

  it('a pickup order never carries the customer’s saved address; a delivery without one in the body does', async () => {
    const saved = await request(t.app)
      .put('/v1/customers/me')
      .set('X-Restaurant-Domain', 'money-b.example.com')
      .set('Authorization', bob.auth)
      .send({ address: '7 Quay Street, Galway' });
    expect(saved.status, saved.text).toBe(200);

    const pickup = await placeOrder(b, bob, { method: 'cash', fulfillment: 'pickup' });
    expect(pickup.delivery_address).toBeNull();
    expect((await b.api.get(`/v1/orders/${pickup.id}`, bob)).body.delivery_address).toBeNull();

    const delivery = await placeOrder(b, bob, { method: 'cash', fulfillment: 'delivery' });
    expect(delivery.delivery_address).toBe('7 Quay Street, Galway');
  });

  it('a restaurant subscribed to order.paid and order.refunded hears of each, once, about the order it happened to', async () => {
    const c = await setUpRestaurant('money-c.example.com');
    await knex('webhook_endpoints').insert({
      restaurant_id: c.id,
      url: 'https://hooks.example.com/tablekit',
      events: ['order.paid', 'order.refunded'],
      secret: 'whsec_money_core_test_endpoint_secret',
    });
    const events = async () =>
      (await knex('webhook_events').where({ restaurant_id: c.id }).orderBy('id')).map((row) => {
        const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as { order: { id: number; payment_status: string } };
        return [row.type as string, data.order.id, data.order.payment_status];
      });
    const order = await placeOrder(c, alice);
    expect(await events()).toEqual([]);

    const paid = await pay(c, alice, order.id);
    expect(paid.status, paid.text).toBe(201);
    expect(await events()).toEqual([['order.paid', order.id, 'paid']]);

    await refund(c, paid.body.id, 200);
    await refund(c, paid.body.id, BURGER_CENTS - 200);
    expect(await events()).toEqual([
      ['order.paid', order.id, 'paid'],
      ['order.refunded', order.id, 'partially_refunded'],
      ['order.refunded', order.id, 'refunded'],
    ]);
  });
});
