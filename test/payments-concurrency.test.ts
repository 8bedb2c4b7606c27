import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Knex } from 'knex';
import { createTestApp, TEST_WEBHOOK_SECRET, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { onRealPostgres } from './support/database.js';
import { createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { signTestWebhook, TestPaymentProvider } from '../src/modules/payments/providers/test-provider.js';
import type { ChargeRequest, RefundRequest } from '../src/modules/payments/providers/types.js';

/** The test provider with a network's worth of latency, so concurrent requests really overlap. */
class SlowProvider extends TestPaymentProvider {
  override async charge(request: ChargeRequest) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    return super.charge(request);
  }

  override async refund(request: RefundRequest) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return super.refund(request);
  }
}

describe.skipIf(!onRealPostgres)('payments and refunds under concurrency (real PostgreSQL)', () => {
  let t: TestApp;
  let knex: Knex;
  let provider: SlowProvider;
  let api: CatalogClient;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let alice: SignedInUser;
  let burgerId: number;

  const placeOrder = async (quantity = 1) => {
    expect((await api.post('/v1/cart/items', { recipe_id: burgerId, quantity }, alice)).status).toBe(201);
    const res = await api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'card' }, alice).set('Idempotency-Key', randomUUID());
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number };
  };
  const pay = (orderId: number, token: string, key: string = randomUUID()) =>
    api.post(`/v1/orders/${orderId}/payments`, { payment_token: token }, alice).set('Idempotency-Key', key);
  const refund = (paymentId: number, amount: number) =>
    api.post(`/v1/payments/${paymentId}/refunds`, { amount_cents: amount }, manager).set('Idempotency-Key', randomUUID());
  const paidOrder = async (quantity: number) => {
    const order = await placeOrder(quantity);
    const paid = await pay(order.id, 'tok_visa');
    expect(paid.status, paid.text).toBe(201);
    return { order, payment: paid.body as { id: number; amount_cents: number } };
  };

  beforeAll(async () => {
    provider = new SlowProvider({ env: 'test', webhookSecret: TEST_WEBHOOK_SECRET });
    t = await createTestApp({ paymentProvider: provider });
    knex = t.db.knex;
    const restaurant = await createRestaurant(knex, { domain: 'pay-race.example.com' });
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, knex, restaurant.id, 'kitchen');
    alice = await signInCustomer(t.cognito);
    const ingredient = await insertIngredientRow(knex, restaurant.id, { name: 'Rice', price_cents: 100, stock: 100_000 });
    [burgerId] = (await insertRecipeRows(knex, restaurant.id, [{ name: 'Rice bowl', lines: [{ ingredient_id: ingredient, quantity: 1 }] }])) as [number];
  });
  afterAll(async () => {
    await t.close();
  });

  it('charges once for the same payment request sent 20 times at once with one key: one payment row', async () => {
    const order = await placeOrder(5);
    const key = randomUUID();
    const before = provider.chargeRequests;
    const answers = await Promise.all(Array.from({ length: 20 }, () => pay(order.id, 'tok_visa', key)));
    const statuses = answers.map((res) => res.status);
    expect(
      statuses.every((s) => s === 201 || s === 409),
      statuses.join(','),
    ).toBe(true);
    expect(statuses.filter((s) => s === 409).length).toBeGreaterThan(0);
    for (const res of answers.filter((r) => r.status === 409)) problem(res, 409, 'idempotency_key_in_use');
    expect(new Set(answers.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(1);
    expect(provider.chargeRequests).toBe(before + 1);
    expect(await knex('payments').where({ order_id: order.id })).toHaveLength(1);
    expect((await knex('orders').where({ id: order.id }).first()).payment_status).toBe('paid');
  });

  it('charges once when 20 requests with different keys race to pay one order; the others are 409 conflict', async () => {
    const order = await placeOrder(3);
    const before = provider.chargesMade;
    const answers = await Promise.all(Array.from({ length: 20 }, () => pay(order.id, 'tok_visa')));
    expect(answers.filter((r) => r.status === 201)).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 201)) problem(res, 409, 'conflict');
    expect(provider.chargesMade).toBe(before + 1);
    expect((await knex('payments').where({ order_id: order.id })).map((p) => p.status)).toEqual(['succeeded']);
  });

  it('lets only one of two concurrent refunds that together exceed the payment through: one 201, one 409', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { payment } = await paidOrder(10); // 1000 cents
      const before = provider.refundsMade;
      const [a, b] = await Promise.all([refund(payment.id, 600), refund(payment.id, 600)]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      problem(a.status === 409 ? a : b, 409, 'conflict');
      expect(provider.refundsMade).toBe(before + 1);
      const refunds = await knex('refunds').where({ payment_id: payment.id });
      expect(refunds.map((r) => [r.status, r.amount_cents])).toEqual([['succeeded', 600]]);
      expect((await knex('payments').where({ id: payment.id }).first()).refunded_cents).toBe(600);
    }
  });

  it('never refunds more than was paid, however many refunds run at once', async () => {
    const { order, payment } = await paidOrder(10);
    const answers = await Promise.all(Array.from({ length: 12 }, () => refund(payment.id, 300)));
    expect(answers.filter((r) => r.status === 201)).toHaveLength(3);
    expect(answers.filter((r) => r.status === 409)).toHaveLength(9);
    expect((await knex('payments').where({ id: payment.id }).first()).refunded_cents).toBe(900);
    expect((await knex('orders').where({ id: order.id }).first()).payment_status).toBe('partially_refunded');
  });

  it('keeps the money right when a rejection and a refund race: everything paid goes back exactly once', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { order, payment } = await paidOrder(4);
      const [moved, refunded] = await Promise.all([api.post(`/v1/orders/${order.id}/transitions`, { to: 'rejected' }, kitchen), refund(payment.id, 150)]);
      expect(moved.status).toBe(200);
      expect([201, 409]).toContain(refunded.status);
      const refunds = await knex('refunds').where({ payment_id: payment.id });
      expect(refunds.reduce((sum, r) => sum + Number(r.amount_cents), 0)).toBe(payment.amount_cents);
    }
  });

  it('settles a 3-D Secure payment once when its webhook is delivered 10 times at once', async () => {
    const order = await placeOrder(2);
    const pending = await pay(order.id, 'tok_3ds');
    const providerId = (await knex('payments').where({ id: pending.body.id }).first()).provider_payment_id as string;
    const body = JSON.stringify({ id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', payment_intent: providerId });
    const deliveries = await Promise.all(
      Array.from({ length: 10 }, () =>
        request(t.app)
          .post('/v1/payments/webhooks/test')
          .set('Content-Type', 'application/json')
          .set('Tablekit-Signature', signTestWebhook(body, TEST_WEBHOOK_SECRET))
          .send(body),
      ),
    );
    expect(deliveries.every((res) => res.status === 200)).toBe(true);
    expect(deliveries.filter((res) => res.body.outcome === 'settled')).toHaveLength(1);
    const outbox = await knex('outbox').whereRaw(`payload->>'order_id' = ?`, [String(order.id)]);
    expect(outbox.map((row) => row.type)).toEqual(['order.confirmation_requested']);
  });
});
