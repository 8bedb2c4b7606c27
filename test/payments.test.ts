import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Knex } from 'knex';
import { createTestApp, silentLogger, TEST_WEBHOOK_SECRET, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { signTestWebhook, TestPaymentProvider } from '../src/modules/payments/providers/test-provider.js';
import { createPaymentProvider, TEST_WEBHOOK_SECRET_FILE } from '../src/modules/payments/providers/index.js';
import { ProviderUnavailableError, type ChargeRequest, type RefundRequest } from '../src/modules/payments/providers/types.js';
import { PaymentReconciler } from '../src/modules/payments/reconciler.js';
import { processOrderRefunds } from '../src/modules/payments/service.js';
import { PaymentTimeoutSweeper } from '../src/modules/orders/payment-timeout.js';
import { OutboxRelay } from '../src/queue/relay.js';
import { OrderWorker } from '../src/queue/worker.js';
import { confirmOrderBySystem } from '../src/modules/orders/service.js';
import { startEmbeddedSqs, embeddedSqsClientConfig, type EmbeddedSqs } from '../src/local/sqs.js';
import { findDeadLetterQueueUrl } from '../src/queue/sqs.js';
import { loadConfig } from '../src/config/config.js';
import { startService } from '../src/service.js';
import { createTestDatabase } from './support/database.js';

/**
 * The test provider, able to lose its answer: `failNext = 'before'` fails the next call without acting
 * (the request never reached the provider), `'after'` acts and then fails (the answer was lost: the
 * crash between the provider call and our second write).
 */
class FlakyProvider extends TestPaymentProvider {
  failNext: 'before' | 'after' | undefined;

  override async charge(request: ChargeRequest) {
    return this.maybeFail(() => super.charge(request));
  }

  override async refund(request: RefundRequest) {
    return this.maybeFail(() => super.refund(request));
  }

  private async maybeFail<T>(call: () => Promise<T>): Promise<T> {
    const mode = this.failNext;
    this.failNext = undefined;
    if (mode === 'before') throw new ProviderUnavailableError('simulated: connection refused');
    const result = await call();
    if (mode === 'after') throw new ProviderUnavailableError('simulated: the answer was lost');
    return result;
  }
}

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 15_000) => {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('paying for orders, taking cash and refunding (test provider)', () => {
  let t: TestApp;
  let knex: Knex;
  let provider: FlakyProvider;
  let api: CatalogClient;
  let restaurantId: number;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let alice: SignedInUser;
  let bob: SignedInUser;
  let bun: number;
  let patty: number;
  let burgerId: number;
  const BURGER_CENTS = 500;

  const placeOrder = async (user: SignedInUser, method: 'card' | 'cash' = 'card', quantity = 1) => {
    expect((await api.post('/v1/cart/items', { recipe_id: burgerId, quantity }, user)).status).toBe(201);
    const res = await api.post('/v1/orders', { fulfillment: 'pickup', payment_method: method }, user).set('Idempotency-Key', randomUUID());
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number; total_cents: number; currency: string };
  };
  const pay = (user: SignedInUser, orderId: number, token: string, key: string = randomUUID()) =>
    api.post(`/v1/orders/${orderId}/payments`, { payment_token: token }, user).set('Idempotency-Key', key);
  const refund = (user: SignedInUser, paymentId: number, amount: unknown, key: string = randomUUID()) =>
    api.post(`/v1/payments/${paymentId}/refunds`, { amount_cents: amount }, user).set('Idempotency-Key', key);
  const webhook = (event: object, options: { secret?: string; timestamp?: number; signature?: string | null } = {}) => {
    const body = JSON.stringify(event);
    const req = request(t.app).post('/v1/payments/webhooks/test').set('Content-Type', 'application/json');
    const signature = options.signature === undefined ? signTestWebhook(body, options.secret ?? TEST_WEBHOOK_SECRET, options.timestamp) : options.signature;
    if (signature !== null) req.set('Tablekit-Signature', signature);
    return req.send(body);
  };
  const orderRow = async (id: number) => knex('orders').where({ restaurant_id: restaurantId, id }).first();
  const paymentsOf = async (orderId: number) => knex('payments').where({ restaurant_id: restaurantId, order_id: orderId }).orderBy('id');
  const refundsOf = async (paymentId: number) => knex('refunds').where({ restaurant_id: restaurantId, payment_id: paymentId }).orderBy('id');
  const outboxOf = async (orderId: number) =>
    (
      await knex('outbox')
        .where({ restaurant_id: restaurantId })
        .whereRaw(`payload->>'order_id' = ?`, [String(orderId)])
        .orderBy('id')
    ).map((row) => row.type as string);
  const stockOf = async (id: number) => Number((await knex('ingredients').where({ id }).first()).stock);
  const reconciler = (options: { reconcileAfterMs?: number; abandonAfterMs?: number } = {}) =>
    new PaymentReconciler({
      db: knex,
      provider,
      logger: silentLogger,
      reconcileAfterMs: options.reconcileAfterMs ?? 0,
      abandonAfterMs: options.abandonAfterMs ?? 15 * 60_000,
    });

  beforeAll(async () => {
    provider = new FlakyProvider({ env: 'test', webhookSecret: TEST_WEBHOOK_SECRET });
    t = await createTestApp({ paymentProvider: provider });
    knex = t.db.knex;
    const restaurant = await createRestaurant(knex, { domain: 'pay.example.com', currency: 'EUR' });
    restaurantId = restaurant.id;
    api = catalogClient(t.app, 'pay.example.com');
    manager = await signInStaff(t.cognito, knex, restaurantId, 'manager');
    kitchen = await signInStaff(t.cognito, knex, restaurantId, 'kitchen');
    alice = await signInCustomer(t.cognito);
    bob = await signInCustomer(t.cognito);
    bun = await insertIngredientRow(knex, restaurantId, { name: 'Bun', price_cents: 100, stock: 500 });
    patty = await insertIngredientRow(knex, restaurantId, { name: 'Patty', price_cents: 400, stock: 500 });
    [burgerId] = (await insertRecipeRows(knex, restaurantId, [
      {
        name: 'Burger',
        lines: [
          { ingredient_id: bun, quantity: 1 },
          { ingredient_id: patty, quantity: 1 },
        ],
      },
    ])) as [number];
  });
  afterAll(async () => {
    await t.close();
  });

  describe('card payments', () => {
    it('charges a card order with tok_visa: the order is paid and asks the kitchen for confirmation, once', async () => {
      const order = await placeOrder(alice, 'card', 2);
      expect(await outboxOf(order.id)).toEqual([]);
      const before = provider.chargesMade;
      const key = randomUUID();
      const res = await pay(alice, order.id, 'tok_visa', key);
      expect(res.status, res.text).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        order_id: order.id,
        method: 'card',
        provider: 'test',
        status: 'succeeded',
        amount_cents: 2 * BURGER_CENTS,
        refunded_cents: 0,
        currency: 'EUR',
        failure_code: null,
        created_at: expect.any(String),
      });
      expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);
      expect((await orderRow(order.id)).payment_status).toBe('paid');
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
      expect(provider.chargesMade).toBe(before + 1);

      // The provider got our key for this payment, derived from the row written before the call.
      const [row] = await paymentsOf(order.id);
      expect(row.provider_idempotency_key).toMatch(/^tablekit_payment_/);
      expect(row.provider_payment_id).toMatch(/^tpi_/);

      const retry = await pay(alice, order.id, 'tok_visa', key);
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(res.body);
      expect(provider.chargesMade).toBe(before + 1);
      expect(await paymentsOf(order.id)).toHaveLength(1);

      problem(await pay(alice, order.id, 'tok_visa'), 409, 'conflict');
      expect(provider.chargesMade).toBe(before + 1);
    });

    it('declines tok_chargeDeclined with 402 and the decline code; the order stays unpaid, its stock reserved until the timeout', async () => {
      const stockBefore = await stockOf(patty);
      const order = await placeOrder(alice, 'card', 3);
      expect(await stockOf(patty)).toBe(stockBefore - 3);
      const declined = problem(await pay(alice, order.id, 'tok_chargeDeclined'), 402, 'payment_declined');
      expect(declined.errors).toEqual([{ path: 'payment_token', message: 'generic_decline' }]);
      expect(declined.detail).toContain('generic_decline');

      expect((await orderRow(order.id)).payment_status).toBe('unpaid');
      expect((await orderRow(order.id)).status).toBe('pending');
      expect(await outboxOf(order.id)).toEqual([]);
      expect(await stockOf(patty)).toBe(stockBefore - 3);
      const listed = await api.get(`/v1/orders/${order.id}/payments`, alice);
      expect(listed.body).toEqual([expect.objectContaining({ status: 'failed', failure_code: 'generic_decline', amount_cents: 3 * BURGER_CENTS })]);

      const insufficient = problem(await pay(alice, order.id, 'tok_chargeDeclinedInsufficientFunds'), 402, 'payment_declined');
      expect(insufficient.errors?.[0]?.message).toBe('insufficient_funds');

      // The payment timeout then cancels it and gives the stock back (a failed payment does not hold it).
      await knex('orders')
        .where({ id: order.id })
        .update({ placed_at: new Date(Date.now() - 60 * 60_000) });
      const sweeper = new PaymentTimeoutSweeper({ db: knex, timeoutMs: 15 * 60_000, logger: silentLogger, metrics: t.metrics });
      expect(await sweeper.sweepOnce()).toBeGreaterThanOrEqual(1);
      expect((await orderRow(order.id)).status).toBe('cancelled');
      expect(await stockOf(patty)).toBe(stockBefore);
    });

    it('lets the customer pay with another card after a decline', async () => {
      const order = await placeOrder(bob);
      problem(await pay(bob, order.id, 'tok_chargeDeclined'), 402, 'payment_declined');
      const paid = await pay(bob, order.id, 'tok_visa');
      expect(paid.status, paid.text).toBe(201);
      expect(paid.body.amount_cents).toBe(BURGER_CENTS);
      expect((await paymentsOf(order.id)).map((p) => p.status)).toEqual(['failed', 'succeeded']);
      expect((await orderRow(order.id)).payment_status).toBe('paid');
    });

    it('answers 400 validation_failed for a token the test provider does not know, and charges nothing', async () => {
      const order = await placeOrder(alice);
      const before = provider.chargesMade;
      const res = problem(await pay(alice, order.id, 'tok_mastercard_of_dreams'), 400, 'validation_failed');
      expect(res.errors?.[0]?.path).toBe('payment_token');
      expect(res.errors?.[0]?.message).toContain('tok_visa');
      expect(provider.chargesMade).toBe(before);
      expect((await orderRow(order.id)).payment_status).toBe('unpaid');
      expect((await pay(alice, order.id, 'tok_visa')).status).toBe(201);
    });

    it('refuses what cannot be paid: a cash order, a closed order, another customer’s or restaurant’s order, bad requests', async () => {
      const cash = await placeOrder(alice, 'cash');
      expect(problem(await pay(alice, cash.id, 'tok_visa'), 409, 'conflict').detail).toMatch(/cash/);

      const cancelled = await placeOrder(alice);
      expect((await api.post(`/v1/orders/${cancelled.id}/cancel`, {}, alice)).status).toBe(200);
      problem(await pay(alice, cancelled.id, 'tok_visa'), 409, 'conflict');

      const alices = await placeOrder(alice);
      problem(await pay(bob, alices.id, 'tok_visa'), 404, 'not_found');
      problem(await pay(alice, 987_654, 'tok_visa'), 404, 'not_found');
      const other = await createRestaurant(knex, { domain: 'other-pay.example.com' });
      const elsewhere = catalogClient(t.app, other.domain);
      problem(
        await elsewhere.post(`/v1/orders/${alices.id}/payments`, { payment_token: 'tok_visa' }, alice).set('Idempotency-Key', randomUUID()),
        404,
        'not_found',
      );

      problem(await api.post(`/v1/orders/${alices.id}/payments`, { payment_token: 'tok_visa' }, alice), 400, 'idempotency_key_required');
      problem(await api.post(`/v1/orders/${alices.id}/payments`, {}, alice).set('Idempotency-Key', randomUUID()), 400, 'validation_failed');
      problem(
        await api.post(`/v1/orders/${alices.id}/payments`, { payment_token: 'tok_visa', amount_cents: 1 }, alice).set('Idempotency-Key', randomUUID()),
        400,
        'validation_failed',
      );
      problem(await api.post(`/v1/orders/${alices.id}/payments`, { payment_token: 42 }, alice).set('Idempotency-Key', randomUUID()), 400, 'validation_failed');
      problem(await api.post('/v1/orders/abc/payments', { payment_token: 'tok_visa' }, alice).set('Idempotency-Key', randomUUID()), 400, 'validation_failed');
      problem(
        await request(t.app)
          .post(`/v1/orders/${alices.id}/payments`)
          .set('X-Restaurant-Domain', 'pay.example.com')
          .set('Idempotency-Key', randomUUID())
          .send({ payment_token: 'tok_visa' }),
        401,
        'unauthenticated',
      );
      expect(await paymentsOf(alices.id)).toHaveLength(0);
    });

    it('lists an order’s payments to its customer and to staff, hiding them from other customers', async () => {
      const order = await placeOrder(bob);
      await pay(bob, order.id, 'tok_chargeDeclined');
      await pay(bob, order.id, 'tok_visa');
      const mine = await api.get(`/v1/orders/${order.id}/payments`, bob);
      expect(mine.status).toBe(200);
      expect(mine.headers['cache-control']).toBe('private, no-store');
      expect(mine.body.map((p: { status: string }) => p.status)).toEqual(['failed', 'succeeded']);
      expect((await api.get(`/v1/orders/${order.id}/payments`, kitchen)).body).toEqual(mine.body);
      problem(await api.get(`/v1/orders/${order.id}/payments`, alice), 404, 'not_found');
    });
  });

  describe('3-D Secure and webhooks', () => {
    it('keeps a tok_3ds payment pending with a client secret that only its customer sees; another payment meanwhile is 409', async () => {
      const order = await placeOrder(alice);
      const res = await pay(alice, order.id, 'tok_3ds');
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ status: 'pending', amount_cents: BURGER_CENTS });
      expect(res.body.client_secret).toMatch(/^tpi_\w+_secret_\w+$/);
      expect((await orderRow(order.id)).payment_status).toBe('unpaid');

      expect((await api.get(`/v1/orders/${order.id}/payments`, alice)).body[0].client_secret).toBe(res.body.client_secret);
      expect((await api.get(`/v1/orders/${order.id}/payments`, manager)).body[0]).not.toHaveProperty('client_secret');

      problem(await pay(alice, order.id, 'tok_visa'), 409, 'conflict');
      problem(await api.post(`/v1/orders/${order.id}/payments/cash`, {}, kitchen), 409, 'conflict');
      // The payment timeout leaves an order whose payment is still being settled alone.
      await knex('orders')
        .where({ id: order.id })
        .update({ placed_at: new Date(Date.now() - 60 * 60_000) });
      await new PaymentTimeoutSweeper({ db: knex, timeoutMs: 15 * 60_000, logger: silentLogger, metrics: t.metrics }).sweepOnce();
      expect((await orderRow(order.id)).status).toBe('pending');
    });

    it('refuses unsigned, forged, stale and malformed webhooks with 400, and changes nothing', async () => {
      const order = await placeOrder(alice);
      const pending = (await pay(alice, order.id, 'tok_3ds')).body;
      const providerId = (await paymentsOf(order.id))[0].provider_payment_id as string;
      const event = { id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', payment_intent: providerId };

      problem(await webhook(event, { signature: null }), 400, 'validation_failed');
      problem(await webhook(event, { secret: 'whsec_someone_else_entirely' }), 400, 'validation_failed');
      problem(await webhook(event, { timestamp: Math.floor(Date.now() / 1000) - 301 }), 400, 'validation_failed');
      problem(await webhook(event, { timestamp: Math.floor(Date.now() / 1000) + 600 }), 400, 'validation_failed');
      problem(await webhook(event, { signature: 't=abc,v1=zz' }), 400, 'validation_failed');
      // A valid signature over another body does not carry over.
      const signedForOther = signTestWebhook(JSON.stringify({ ...event, payment_intent: 'tpi_other' }), TEST_WEBHOOK_SECRET);
      problem(await webhook(event, { signature: signedForOther }), 400, 'validation_failed');
      const unsignedText = await request(t.app).post('/v1/payments/webhooks/test').set('Content-Type', 'text/plain').send('hello');
      problem(unsignedText, 400, 'validation_failed');
      problem(await request(t.app).post('/v1/payments/webhooks/stripe').set('Content-Type', 'application/json').send('{}'), 404, 'not_found');
      problem(await request(t.app).post('/v1/payments/webhooks/paypal').set('Content-Type', 'application/json').send('{}'), 400, 'validation_failed');

      expect((await paymentsOf(order.id))[0].status).toBe('pending');
      expect((await orderRow(order.id)).payment_status).toBe('unpaid');
      expect(await knex('payment_webhook_events').where({ event_id: event.id })).toHaveLength(0);
      expect(pending.status).toBe('pending');
    });

    it('settles a 3-D Secure payment through its signed webhook; the same event twice settles once', async () => {
      const order = await placeOrder(alice);
      await pay(alice, order.id, 'tok_3ds');
      const providerId = (await paymentsOf(order.id))[0].provider_payment_id as string;
      const event = { id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', payment_intent: providerId };

      const first = await webhook(event);
      expect(first.status, first.text).toBe(200);
      expect(first.body).toEqual({ received: true, outcome: 'settled' });
      const again = await webhook(event);
      expect(again.body).toEqual({ received: true, outcome: 'duplicate' });

      const [payment] = await paymentsOf(order.id);
      expect(payment).toMatchObject({ status: 'succeeded', client_secret: null });
      expect((await orderRow(order.id)).payment_status).toBe('paid');
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
      expect((await api.get(`/v1/orders/${order.id}/payments`, alice)).body[0]).not.toHaveProperty('client_secret');

      // A different event about the same payment changes nothing either: it is settled.
      expect((await webhook({ ...event, id: `evt_${randomUUID()}` })).body.outcome).toBe('settled');
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
    });

    it('leaves the order unpaid when the 3-D Secure challenge fails', async () => {
      const order = await placeOrder(bob);
      await pay(bob, order.id, 'tok_3ds');
      const providerId = (await paymentsOf(order.id))[0].provider_payment_id as string;
      const res = await webhook({
        id: `evt_${randomUUID()}`,
        type: 'payment_intent.payment_failed',
        payment_intent: providerId,
        failure_code: 'authentication_failed',
      });
      expect(res.status).toBe(200);
      expect((await paymentsOf(order.id))[0]).toMatchObject({ status: 'failed', failure_code: 'authentication_failed', client_secret: null });
      expect((await orderRow(order.id)).payment_status).toBe('unpaid');
      expect((await pay(bob, order.id, 'tok_visa')).status).toBe(201);
    });

    it('acknowledges events about charges it does not know and event types it does not handle', async () => {
      expect((await webhook({ id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', payment_intent: 'tpi_unknown' })).body.outcome).toBe('ignored');
      expect((await webhook({ id: `evt_${randomUUID()}`, type: 'customer.created' })).body.outcome).toBe('ignored');
    });
  });

  describe('cash', () => {
    it('lets staff record cash for the outstanding total; a cash order needs no second confirmation', async () => {
      const order = await placeOrder(bob, 'cash', 2);
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
      problem(await api.post(`/v1/orders/${order.id}/payments/cash`, {}, bob), 403, 'forbidden');
      const res = await api.post(`/v1/orders/${order.id}/payments/cash`, {}, kitchen);
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({
        order_id: order.id,
        method: 'cash',
        provider: 'cash',
        status: 'succeeded',
        amount_cents: 2 * BURGER_CENTS,
        refunded_cents: 0,
      });
      expect((await orderRow(order.id)).payment_status).toBe('paid');
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
      problem(await api.post(`/v1/orders/${order.id}/payments/cash`, {}, kitchen), 409, 'conflict');
      problem(await api.post('/v1/orders/987654/payments/cash', {}, kitchen), 404, 'not_found');
    });

    it('takes cash for a card order at the counter, which then goes to the kitchen', async () => {
      const order = await placeOrder(alice, 'card');
      expect((await api.post(`/v1/orders/${order.id}/payments/cash`, {}, manager)).status).toBe(201);
      expect((await orderRow(order.id)).payment_status).toBe('paid');
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
    });

    it('records cash after the order was served, but not for a rejected order', async () => {
      const served = await placeOrder(bob, 'cash');
      for (const to of ['confirmed', 'preparing', 'ready', 'completed']) {
        expect((await api.post(`/v1/orders/${served.id}/transitions`, { to }, kitchen)).status).toBe(200);
      }
      expect((await api.post(`/v1/orders/${served.id}/payments/cash`, {}, kitchen)).status).toBe(201);
      const rejected = await placeOrder(bob, 'cash');
      expect((await api.post(`/v1/orders/${rejected.id}/transitions`, { to: 'rejected' }, kitchen)).status).toBe(200);
      problem(await api.post(`/v1/orders/${rejected.id}/payments/cash`, {}, kitchen), 409, 'conflict');
    });
  });

  describe('refunds', () => {
    const paidCardOrder = async (user: SignedInUser = alice, quantity = 2) => {
      const order = await placeOrder(user, 'card', quantity);
      const paid = await pay(user, order.id, 'tok_visa');
      expect(paid.status, paid.text).toBe(201);
      return { order, payment: paid.body as { id: number; amount_cents: number } };
    };

    it('refunds part, then the rest; the order goes partially_refunded, then refunded; more is 409', async () => {
      const { order, payment } = await paidCardOrder();
      const before = provider.refundsMade;
      const part = await refund(manager, payment.id, 300);
      expect(part.status, part.text).toBe(201);
      expect(part.body).toEqual({ id: expect.any(Number), payment_id: payment.id, amount_cents: 300, status: 'succeeded', created_at: expect.any(String) });
      expect((await orderRow(order.id)).payment_status).toBe('partially_refunded');
      expect((await api.get(`/v1/orders/${order.id}/payments`, alice)).body[0].refunded_cents).toBe(300);

      const tooMuch = problem(await refund(manager, payment.id, payment.amount_cents - 300 + 1), 409, 'conflict');
      expect(tooMuch.errors).toEqual([{ path: 'amount_cents', message: `at most ${payment.amount_cents - 300} can still be refunded` }]);

      const rest = await refund(manager, payment.id, payment.amount_cents - 300);
      expect(rest.status).toBe(201);
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
      expect((await knex('payments').where({ id: payment.id }).first()).refunded_cents).toBe(payment.amount_cents);
      problem(await refund(manager, payment.id, 1), 409, 'conflict');
      expect(provider.refundsMade).toBe(before + 2);
      const [first] = await refundsOf(payment.id);
      expect(first).toMatchObject({ user_sub: manager.sub, provider_refund_id: expect.stringMatching(/^tre_/) });
    });

    it('replays a refund to a retry with the same key, and refunds nothing twice', async () => {
      const { payment } = await paidCardOrder();
      const key = randomUUID();
      const before = provider.refundsMade;
      const first = await refund(manager, payment.id, 100, key);
      const again = await refund(manager, payment.id, 100, key);
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(provider.refundsMade).toBe(before + 1);
      expect(await refundsOf(payment.id)).toHaveLength(1);
      problem(await refund(manager, payment.id, 200, key), 422, 'idempotency_key_reused');
      problem(await api.post(`/v1/payments/${payment.id}/refunds`, { amount_cents: 1 }, manager), 400, 'idempotency_key_required');
    });

    it.each([
      ['zero', 0],
      ['negative', -100],
      ['a fraction of a cent', 1.5],
      ['a string', '100'],
      ['more than any order can hold', 2_147_483_648],
      ['a huge number', 1e30],
      ['null', null],
    ])('refuses an amount that is %s with 400', async (_name, amount) => {
      const { payment } = await paidCardOrder(bob, 1);
      const res = problem(await refund(manager, payment.id, amount), 400, 'validation_failed');
      expect(res.errors?.[0]?.path).toBe('amount_cents');
      expect(await refundsOf(payment.id)).toHaveLength(0);
    });

    it('is for managers only, and only for this restaurant’s succeeded payments', async () => {
      const { payment } = await paidCardOrder(bob, 1);
      problem(await refund(kitchen, payment.id, 100), 403, 'forbidden');
      problem(await refund(bob, payment.id, 100), 403, 'forbidden');
      problem(await refund(manager, 987_654, 100), 404, 'not_found');
      const other = await createRestaurant(knex, { domain: 'other-refund.example.com' });
      const otherManager = await signInStaff(t.cognito, knex, other.id, 'manager');
      problem(
        await catalogClient(t.app, other.domain)
          .post(`/v1/payments/${payment.id}/refunds`, { amount_cents: 100 }, otherManager)
          .set('Idempotency-Key', randomUUID()),
        404,
        'not_found',
      );
      problem(
        await catalogClient(t.app, other.domain)
          .post(`/v1/payments/${payment.id}/refunds`, { amount_cents: 100 }, manager)
          .set('Idempotency-Key', randomUUID()),
        403,
        'forbidden',
      );

      const declinedOrder = await placeOrder(bob);
      await pay(bob, declinedOrder.id, 'tok_chargeDeclined');
      const [declined] = await paymentsOf(declinedOrder.id);
      expect(problem(await refund(manager, declined.id, 100), 409, 'conflict').detail).toMatch(/failed/);
      expect(await refundsOf(payment.id)).toHaveLength(0);
    });

    it('refunds cash without a provider', async () => {
      const order = await placeOrder(bob, 'cash', 2);
      const cash = (await api.post(`/v1/orders/${order.id}/payments/cash`, {}, kitchen)).body;
      const before = provider.refundsMade;
      const res = await refund(manager, cash.id, 2 * BURGER_CENTS);
      expect(res.status, res.text).toBe(201);
      expect(res.body.status).toBe('succeeded');
      expect(provider.refundsMade).toBe(before);
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
    });

    it('refunds a paid card order that staff reject: written with the move, sent by the worker, never twice', async () => {
      const { order, payment } = await paidCardOrder(alice, 2);
      const res = await api.post(`/v1/orders/${order.id}/transitions`, { to: 'rejected', reason: 'out of buns' }, kitchen);
      expect(res.status, res.text).toBe(200);
      const [pending] = await refundsOf(payment.id);
      expect(pending).toMatchObject({ status: 'pending', amount_cents: payment.amount_cents, user_sub: null });
      expect(pending.reason).toContain('rejected');
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested', 'payment.refund_requested']);
      // Nothing more can be refunded by hand meanwhile: the pending refund has the whole payment.
      problem(await refund(manager, payment.id, 1), 409, 'conflict');

      const before = provider.refundsMade;
      const deps = { db: knex, provider, logger: silentLogger };
      expect(await processOrderRefunds(deps, restaurantId, order.id)).toBe(1);
      expect(await processOrderRefunds(deps, restaurantId, order.id)).toBe(0); // a redelivered message
      expect(provider.refundsMade).toBe(before + 1);
      expect((await refundsOf(payment.id))[0].status).toBe('succeeded');
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
    });

    it('keeps a refund the provider did not answer pending, and lets the worker retry it with the same key', async () => {
      const { order, payment } = await paidCardOrder(bob, 1);
      expect((await api.post(`/v1/orders/${order.id}/cancel`, {}, manager)).status).toBe(200);
      const deps = { db: knex, provider, logger: silentLogger };
      provider.failNext = 'after';
      await expect(processOrderRefunds(deps, restaurantId, order.id)).rejects.toThrow(ProviderUnavailableError);
      expect((await refundsOf(payment.id))[0].status).toBe('pending');
      const before = provider.refundsMade;
      expect(await processOrderRefunds(deps, restaurantId, order.id)).toBe(1);
      expect(provider.refundsMade).toBe(before); // the provider had done it already; the same key got its answer
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
    });

    it('records cash as handed back when a paid cash order is cancelled', async () => {
      const order = await placeOrder(bob, 'cash');
      const cash = (await api.post(`/v1/orders/${order.id}/payments/cash`, {}, kitchen)).body;
      expect((await api.post(`/v1/orders/${order.id}/cancel`, { reason: 'customer left' }, kitchen)).status).toBe(200);
      expect((await refundsOf(cash.id)).map((r) => [r.status, r.amount_cents])).toEqual([['succeeded', BURGER_CENTS]]);
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
    });

    it('answers 202 with the refund pending when the provider gives no answer', async () => {
      const { payment } = await paidCardOrder(bob, 1);
      provider.failNext = 'before';
      const res = await refund(manager, payment.id, 100);
      expect(res.status, res.text).toBe(202);
      expect(res.body.status).toBe('pending');
      const before = provider.refundsMade;
      expect(await reconciler().reconcileOnce()).toEqual({ payments: 0, refunds: 1 });
      expect(provider.refundsMade).toBe(before + 1);
      expect((await refundsOf(payment.id))[0].status).toBe('succeeded');
    });
  });

  describe('money moves a crash interrupted', () => {
    it('answers 202 when the charge’s answer is lost, and the reconciler settles it without charging again', async () => {
      const order = await placeOrder(alice);
      provider.failNext = 'after';
      const before = provider.chargesMade;
      const res = await pay(alice, order.id, 'tok_visa');
      expect(res.status, res.text).toBe(202);
      expect(res.body).toMatchObject({ status: 'pending' });
      expect(res.body).not.toHaveProperty('client_secret');
      expect(provider.chargesMade).toBe(before + 1);
      expect((await orderRow(order.id)).payment_status).toBe('unpaid');

      // Not yet old enough for the reconciler.
      expect(await reconciler({ reconcileAfterMs: 60_000 }).reconcileOnce()).toEqual({ payments: 0, refunds: 0 });
      expect(await reconciler().reconcileOnce()).toEqual({ payments: 1, refunds: 0 });
      expect(provider.chargesMade).toBe(before + 1);
      expect((await paymentsOf(order.id))[0]).toMatchObject({ status: 'succeeded', provider_payment_id: expect.stringMatching(/^tpi_/) });
      expect((await orderRow(order.id)).payment_status).toBe('paid');
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
    });

    it('resumes the same payment when the client retries with its key after the answer was lost', async () => {
      const order = await placeOrder(bob);
      const key = randomUUID();
      provider.failNext = 'after';
      expect((await pay(bob, order.id, 'tok_visa', key)).status).toBe(202);
      // The client's retry replays the stored 202; a retry after the key's answer was lost (simulated by
      // forgetting it) resumes the payment with the same provider key rather than charging again.
      await knex('idempotency_keys').where({ key }).delete();
      const before = provider.chargesMade;
      const resumed = await pay(bob, order.id, 'tok_visa', key);
      expect(resumed.status, resumed.text).toBe(201);
      expect(resumed.body.status).toBe('succeeded');
      expect(provider.chargesMade).toBe(before);
      expect(await paymentsOf(order.id)).toHaveLength(1);
    });

    it('records a charge the provider never received as failed, and charges nothing', async () => {
      const order = await placeOrder(alice);
      provider.failNext = 'before';
      const before = provider.chargeRequests;
      expect((await pay(alice, order.id, 'tok_visa')).status).toBe(202);
      expect(await reconciler().reconcileOnce()).toEqual({ payments: 1, refunds: 0 });
      expect(provider.chargeRequests).toBe(before); // the reconciler asked where it stood; it never charges
      expect((await paymentsOf(order.id))[0]).toMatchObject({ status: 'failed', failure_code: 'not_submitted' });
      expect((await orderRow(order.id)).payment_status).toBe('unpaid');
      expect((await pay(alice, order.id, 'tok_visa')).status).toBe(201);
    });

    it('cancels a 3-D Secure charge abandoned past the payment timeout, so the order’s timeout can release its stock', async () => {
      const order = await placeOrder(bob);
      await pay(bob, order.id, 'tok_3ds');
      expect(await reconciler({ abandonAfterMs: 60 * 60_000 }).reconcileOnce()).toEqual({ payments: 0, refunds: 0 });
      expect((await paymentsOf(order.id))[0].status).toBe('pending');
      await knex('payments')
        .where({ order_id: order.id })
        .update({ created_at: new Date(Date.now() - 20 * 60_000) });
      expect(await reconciler().reconcileOnce()).toEqual({ payments: 1, refunds: 0 });
      expect((await paymentsOf(order.id))[0]).toMatchObject({ status: 'failed', failure_code: 'canceled', client_secret: null });
      await knex('orders')
        .where({ id: order.id })
        .update({ placed_at: new Date(Date.now() - 60 * 60_000) });
      await new PaymentTimeoutSweeper({ db: knex, timeoutMs: 15 * 60_000, logger: silentLogger, metrics: t.metrics }).sweepOnce();
      expect((await orderRow(order.id)).status).toBe('cancelled');
    });

    it('gives the money back when a payment completes after its order was cancelled', async () => {
      const order = await placeOrder(alice);
      await pay(alice, order.id, 'tok_3ds');
      expect((await api.post(`/v1/orders/${order.id}/cancel`, {}, alice)).status).toBe(200);
      const [payment] = await paymentsOf(order.id);
      const res = await webhook({ id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', payment_intent: payment.provider_payment_id });
      expect(res.status).toBe(200);
      expect((await paymentsOf(order.id))[0].status).toBe('succeeded');
      expect((await refundsOf(payment.id)).map((r) => [r.status, r.amount_cents])).toEqual([['pending', BURGER_CENTS]]);
      expect(await outboxOf(order.id)).toEqual(['payment.refund_requested']);
      await processOrderRefunds({ db: knex, provider, logger: silentLogger }, restaurantId, order.id);
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
    });
  });

  it('documents the payment routes', async () => {
    const doc = (await request(t.app).get('/openapi.json')).body;
    expect(doc.paths['/v1/orders/{id}/payments'].post.responses).toHaveProperty('402');
    expect(doc.paths['/v1/orders/{id}/payments'].get).toBeDefined();
    expect(doc.paths['/v1/orders/{id}/payments/cash'].post).toBeDefined();
    expect(doc.paths['/v1/payments/{id}/refunds'].post.responses).toHaveProperty('201');
    expect(doc.paths['/v1/payments/webhooks/{provider}'].post).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Payment', 'Refund', 'PayOrder', 'CreateRefund']));
  });
});

describe('the test provider', () => {
  it('refuses to exist in production', () => {
    expect(() => new TestPaymentProvider({ env: 'production', webhookSecret: TEST_WEBHOOK_SECRET })).toThrow(/production/);
  });

  it('keeps a generated webhook secret in DATA_DIR, readable by its owner only, and reuses it', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-secret-'));
    try {
      const config = { env: 'development' as const, dataDir, payments: { provider: 'test' as const } };
      const first = await createPaymentProvider(config);
      const file = path.join(dataDir, TEST_WEBHOOK_SECRET_FILE);
      const secret = (await fs.readFile(file, 'utf8')).trim();
      expect(secret).toMatch(/^whsec_test_[0-9a-f]{48}$/);
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
      await createPaymentProvider(config);
      expect((await fs.readFile(file, 'utf8')).trim()).toBe(secret);
      const body = JSON.stringify({ id: 'evt_1', type: 'customer.created' });
      expect(first.parseWebhook(Buffer.from(body), { 'tablekit-signature': signTestWebhook(body, secret) })).toMatchObject({ kind: 'ignored' });
      expect(() => first.parseWebhook(Buffer.from(body), { 'tablekit-signature': signTestWebhook(body, TEST_WEBHOOK_SECRET) })).toThrow();
      const configured = await createPaymentProvider({ ...config, payments: { provider: 'test', webhookSecret: TEST_WEBHOOK_SECRET } });
      expect(configured.parseWebhook(Buffer.from(body), { 'tablekit-signature': signTestWebhook(body, TEST_WEBHOOK_SECRET) })).toMatchObject({
        kind: 'ignored',
      });
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(process.getuid?.() === 0)('the test provider in a read-only DATA_DIR (as in the container image)', () => {
  it('starts with a secret nobody knows rather than failing', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-readonly-'));
    await fs.chmod(dataDir, 0o500);
    try {
      const provider = await createPaymentProvider({ env: 'development', dataDir: path.join(dataDir, 'data'), payments: { provider: 'test' } });
      const body = JSON.stringify({ id: 'evt_1', type: 'customer.created' });
      expect(() => provider.parseWebhook(Buffer.from(body), { 'tablekit-signature': signTestWebhook(body, TEST_WEBHOOK_SECRET) })).toThrow();
    } finally {
      await fs.chmod(dataDir, 0o700);
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('3-D Secure end to end: webhook → paid → outbox → SQS → the worker confirms; a rejection is refunded by the worker', () => {
  let t: TestApp;
  let sqs: EmbeddedSqs;
  let client: SQSClient;
  let relay: OutboxRelay;
  let worker: OrderWorker;

  beforeAll(async () => {
    t = await createTestApp();
    sqs = await startEmbeddedSqs({ visibilityTimeoutSeconds: 2 });
    client = new SQSClient(embeddedSqsClientConfig(sqs, 'us-east-1'));
    const deps = { db: t.db.knex, provider: t.paymentProvider, logger: silentLogger };
    relay = new OutboxRelay({ db: t.db.knex, sqs: client, queueUrl: sqs.queueUrl, logger: silentLogger, metrics: t.metrics, idleDelayMs: 20 });
    worker = new OrderWorker({
      confirmOrder: (restaurantId, orderId) => confirmOrderBySystem(t.db.knex, restaurantId, orderId),
      sqs: client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: await findDeadLetterQueueUrl(client, sqs.queueUrl),
      batchSize: 1,
      logger: silentLogger,
      metrics: t.metrics,
      waitTimeSeconds: 1,
      processRefunds: (restaurantId, orderId) => processOrderRefunds(deps, restaurantId, orderId),
    });
    relay.start();
    worker.start();
  });
  afterAll(async () => {
    await relay.stop();
    await worker.stop();
    // Leave nothing in flight on the queue before it stops.
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
    if (Messages?.[0]?.ReceiptHandle !== undefined)
      await client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl, ReceiptHandle: Messages[0].ReceiptHandle }));
    client.destroy();
    await sqs.stop();
    await t.close();
  });

  it('confirms a card order once its 3-D Secure payment completes, and refunds it through the queue when rejected', async () => {
    const knex = t.db.knex;
    const restaurant = await createRestaurant(knex, { domain: 'e2e-pay.example.com' });
    const api = catalogClient(t.app, restaurant.domain);
    const customer = await signInCustomer(t.cognito);
    const kitchen = await signInStaff(t.cognito, knex, restaurant.id, 'kitchen');
    const ingredient = await insertIngredientRow(knex, restaurant.id, { name: 'Dough', price_cents: 750, stock: 10 });
    const [pizza] = (await insertRecipeRows(knex, restaurant.id, [{ name: 'Pizza', lines: [{ ingredient_id: ingredient, quantity: 1 }] }])) as [number];
    expect((await api.post('/v1/cart/items', { recipe_id: pizza, quantity: 2 }, customer)).status).toBe(201);
    const order = (await api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'card' }, customer).set('Idempotency-Key', randomUUID())).body;
    const statusOf = async () => (await api.get(`/v1/orders/${order.id}`, customer)).body as { status: string; payment_status: string };

    const pending = await api.post(`/v1/orders/${order.id}/payments`, { payment_token: 'tok_3ds' }, customer).set('Idempotency-Key', randomUUID());
    expect(pending.status, pending.text).toBe(201);
    expect(pending.body.client_secret).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await statusOf()).toMatchObject({ status: 'pending', payment_status: 'unpaid' });

    const providerId = (await knex('payments').where({ id: pending.body.id }).first()).provider_payment_id as string;
    const body = JSON.stringify({ id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', payment_intent: providerId });
    const hook = await request(t.app)
      .post('/v1/payments/webhooks/test')
      .set('Content-Type', 'application/json')
      .set('Tablekit-Signature', signTestWebhook(body, TEST_WEBHOOK_SECRET))
      .send(body);
    expect(hook.status, hook.text).toBe(200);

    await waitFor('the worker to confirm the paid order', async () => (await statusOf()).status === 'confirmed');
    expect(await statusOf()).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    const events = (await api.get(`/v1/orders/${order.id}/events`, customer)).body;
    expect(events.map((e: { status: string; actor: string }) => [e.status, e.actor])).toEqual([
      ['pending', 'customer'],
      ['confirmed', 'system'],
    ]);

    expect((await api.post(`/v1/orders/${order.id}/transitions`, { to: 'rejected', reason: 'oven broke' }, kitchen)).status).toBe(200);
    await waitFor('the worker to refund the rejected order', async () => (await statusOf()).payment_status === 'refunded');
    const refunds = await knex('refunds').where({ payment_id: pending.body.id });
    expect(refunds.map((r) => [r.status, r.amount_cents])).toEqual([['succeeded', 1500]]);
    expect((t.paymentProvider as TestPaymentProvider).refundsMade).toBe(1);
  });

  it('a card order with nothing to pay (a 100 % coupon) is paid at placement and the worker confirms it without any payment', async () => {
    const knex = t.db.knex;
    const restaurant = await createRestaurant(knex, { domain: 'e2e-free.example.com' });
    const api = catalogClient(t.app, restaurant.domain);
    const customer = await signInCustomer(t.cognito);
    const manager = await signInStaff(t.cognito, knex, restaurant.id, 'manager');
    const ingredient = await insertIngredientRow(knex, restaurant.id, { name: 'Dough', price_cents: 750, stock: 10 });
    const [pizza] = (await insertRecipeRows(knex, restaurant.id, [{ name: 'Pizza', lines: [{ ingredient_id: ingredient, quantity: 1 }] }])) as [number];
    expect((await api.post('/v1/coupons', { code: 'ONTHEHOUSE', kind: 'percent', percent: '100' }, manager)).status).toBe(201);
    expect((await api.post('/v1/cart/items', { recipe_id: pizza, quantity: 2 }, customer)).status).toBe(201);
    const placed = await api
      .post('/v1/orders', { fulfillment: 'pickup', payment_method: 'card', coupon_code: 'onthehouse' }, customer)
      .set('Idempotency-Key', randomUUID());
    expect(placed.status, placed.text).toBe(201);
    expect(placed.body).toMatchObject({ status: 'pending', payment_status: 'paid', subtotal_cents: 1500, discount_cents: 1500, total_cents: 0 });

    const statusOf = async () => (await api.get(`/v1/orders/${placed.body.id}`, customer)).body as { status: string; payment_status: string };
    await waitFor('the worker to confirm the free order', async () => (await statusOf()).status === 'confirmed');
    expect(await statusOf()).toMatchObject({ status: 'confirmed', payment_status: 'paid' });
    expect(await knex('payments').where({ order_id: placed.body.id })).toEqual([]);
  });
});

describe('the service takes payments in process', () => {
  it('confirms a card order paid with tok_visa, and refunds it through the worker when staff reject it', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-pay-service-'));
    const db = await createTestDatabase();
    const env: Record<string, string> = { PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    if (db.url !== undefined) env.DATABASE_URL = db.url;
    else await db.destroy();
    const service = await startService(loadConfig(env), silentLogger);
    try {
      const knex = service.database.knex;
      const restaurant = await createRestaurant(knex, { domain: 'service-pay.example.com' });
      const ingredient = await insertIngredientRow(knex, restaurant.id, { name: 'Noodles', price_cents: 900, stock: 10 });
      const [dish] = (await insertRecipeRows(knex, restaurant.id, [{ name: 'Ramen', lines: [{ ingredient_id: ingredient, quantity: 1 }] }])) as [number];
      const call = async (method: string, url: string, token: string | undefined, body?: object, headers: Record<string, string> = {}) => {
        const res = await fetch(`${service.url}${url}`, {
          method,
          headers: {
            'Content-Type': 'application/json',
            'X-Restaurant-Domain': restaurant.domain,
            ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
            ...headers,
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
      };
      const signUp = async (email: string) => {
        const password = 'Pay-password-1!';
        const created = await call('POST', '/v1/auth/signup', undefined, { email, password });
        expect(created.status).toBe(201);
        const login = await call('POST', '/v1/auth/login', undefined, { email, password });
        return { sub: String(created.body.user_sub), token: String(login.body.access_token) };
      };
      const customer = await signUp(`payer-${randomUUID()}@example.com`);
      const staff = await signUp(`staff-${randomUUID()}@example.com`);
      await knex('staff_members').insert({ restaurant_id: restaurant.id, user_sub: staff.sub, email: 'staff@example.com', role: 'kitchen' });

      expect((await call('POST', '/v1/cart/items', customer.token, { recipe_id: dish, quantity: 1 })).status).toBe(201);
      const order = await call('POST', '/v1/orders', customer.token, { fulfillment: 'pickup', payment_method: 'card' }, { 'Idempotency-Key': randomUUID() });
      expect(order.status).toBe(201);
      const orderId = Number(order.body.id);
      const paid = await call('POST', `/v1/orders/${orderId}/payments`, customer.token, { payment_token: 'tok_visa' }, { 'Idempotency-Key': randomUUID() });
      expect(paid.status).toBe(201);
      const orderNow = async () => (await call('GET', `/v1/orders/${orderId}`, customer.token)).body;
      await waitFor('the paid order to be confirmed', async () => (await orderNow()).status === 'confirmed', 10_000);

      expect((await call('POST', `/v1/orders/${orderId}/transitions`, staff.token, { to: 'rejected' })).status).toBe(200);
      await waitFor('the rejected order to be refunded', async () => (await orderNow()).payment_status === 'refunded', 10_000);
      // The embedded stack generated the test provider's webhook secret for this data directory.
      expect((await fs.readFile(path.join(dataDir, TEST_WEBHOOK_SECRET_FILE), 'utf8')).trim()).toMatch(/^whsec_test_/);
    } finally {
      await service.stop();
      if (db.url !== undefined) await db.destroy();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
