import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Knex } from 'knex';
import { createTestApp, silentLogger, TEST_WEBHOOK_SECRET, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { settleCharge, settleRefund } from '../src/modules/payments/settlement.js';
import { processOrderRefunds } from '../src/modules/payments/service.js';
import { handleProviderEvent } from '../src/modules/payments/webhooks.js';
import { signTestWebhook, TestPaymentProvider } from '../src/modules/payments/providers/test-provider.js';
import { ProviderUnavailableError, type RefundRequest, type RefundResult } from '../src/modules/payments/providers/types.js';

/** The test provider, able to leave refunds unanswered (they then stay `pending` on our side). */
class ProviderWithSlowRefunds extends TestPaymentProvider {
  refundsUnanswered = false;

  override async refund(req: RefundRequest): Promise<RefundResult> {
    if (this.refundsUnanswered) throw new ProviderUnavailableError('simulated: no answer');
    return super.refund(req);
  }
}

// Money that arrives, fails or goes back at awkward moments: late and contradictory provider answers,
// refunds the provider refuses or makes on its own, and orders closed while money is on them.
describe('settling money the provider reports late, twice or on its own', () => {
  let t: TestApp;
  let knex: Knex;
  let provider: ProviderWithSlowRefunds;
  let api: CatalogClient;
  let restaurantId: number;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let carol: SignedInUser;
  let burgerId: number;
  const BURGER_CENTS = 500;

  const placeOrder = async (method: 'card' | 'cash' = 'card', quantity = 1) => {
    expect((await api.post('/v1/cart/items', { recipe_id: burgerId, quantity }, carol)).status).toBe(201);
    const res = await api.post('/v1/orders', { fulfillment: 'pickup', payment_method: method }, carol).set('Idempotency-Key', randomUUID());
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number; total_cents: number };
  };
  const pay = async (orderId: number, token = 'tok_visa') =>
    api.post(`/v1/orders/${orderId}/payments`, { payment_token: token }, carol).set('Idempotency-Key', randomUUID());
  const paidOrder = async (quantity = 1) => {
    const order = await placeOrder('card', quantity);
    const paid = await pay(order.id);
    expect(paid.status, paid.text).toBe(201);
    return { order, paymentId: paid.body.id as number };
  };
  const refund = (paymentId: number, amountCents: number) =>
    api.post(`/v1/payments/${paymentId}/refunds`, { amount_cents: amountCents }, manager).set('Idempotency-Key', randomUUID());
  const webhook = async (event: Record<string, unknown>) => {
    const body = JSON.stringify({ id: `evt_${randomUUID()}`, ...event });
    const res = await request(t.app)
      .post('/v1/payments/webhooks/test')
      .set('Content-Type', 'application/json')
      .set('Tablekit-Signature', signTestWebhook(body, TEST_WEBHOOK_SECRET))
      .send(body);
    expect(res.status, res.text).toBe(200);
    return res.body as { outcome: string };
  };
  const orderRow = async (id: number) => knex('orders').where({ restaurant_id: restaurantId, id }).first();
  const paymentRow = async (id: number) => knex('payments').where({ restaurant_id: restaurantId, id }).first();
  const paymentsOf = async (orderId: number) => knex('payments').where({ restaurant_id: restaurantId, order_id: orderId }).orderBy('id');
  const refundsOf = async (paymentId: number) => knex('refunds').where({ restaurant_id: restaurantId, payment_id: paymentId }).orderBy('id');
  const outboxOf = async (orderId: number) =>
    (
      await knex('outbox')
        .where({ restaurant_id: restaurantId })
        .whereRaw(`payload->>'order_id' = ?`, [String(orderId)])
        .orderBy('id')
    ).map((row) => row.type as string);
  const sendRefunds = (orderId: number) => processOrderRefunds({ db: knex, provider, logger: silentLogger }, restaurantId, orderId);
  const moveTo = async (orderId: number, to: string, reason?: string) => {
    const res = await api.post(`/v1/orders/${orderId}/transitions`, { to, ...(reason === undefined ? {} : { reason }) }, kitchen);
    expect(res.status, res.text).toBe(200);
  };
  /** A card payment waiting for 3-D Secure, and its id at the provider. */
  const pendingPayment = async (orderId: number) => {
    expect((await pay(orderId, 'tok_3ds')).status).toBe(201);
    const [payment] = await paymentsOf(orderId);
    return { id: Number(payment.id), providerPaymentId: payment.provider_payment_id as string };
  };

  beforeAll(async () => {
    provider = new ProviderWithSlowRefunds({ env: 'test', webhookSecret: TEST_WEBHOOK_SECRET });
    t = await createTestApp({ paymentProvider: provider });
    knex = t.db.knex;
    restaurantId = (await createRestaurant(knex, { domain: 'settle.example.com', currency: 'EUR' })).id;
    api = catalogClient(t.app, 'settle.example.com');
    manager = await signInStaff(t.cognito, knex, restaurantId, 'manager');
    kitchen = await signInStaff(t.cognito, knex, restaurantId, 'kitchen');
    carol = await signInCustomer(t.cognito);
    const bun = await insertIngredientRow(knex, restaurantId, { name: 'Bun', price_cents: 100, stock: 500 });
    const patty = await insertIngredientRow(knex, restaurantId, { name: 'Patty', price_cents: 400, stock: 500 });
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

  describe('charges', () => {
    it('a late failure report does not undo a payment that went through, nor a second success refund it', async () => {
      const order = await placeOrder();
      const payment = await pendingPayment(order.id);
      expect((await webhook({ type: 'payment_intent.succeeded', payment_intent: payment.providerPaymentId })).outcome).toBe('settled');
      await webhook({ type: 'payment_intent.payment_failed', payment_intent: payment.providerPaymentId, failure_code: 'expired_card' });
      await webhook({ type: 'payment_intent.succeeded', payment_intent: payment.providerPaymentId });
      expect(await paymentRow(payment.id)).toMatchObject({ status: 'succeeded', failure_code: null, client_secret: null });
      expect((await orderRow(order.id)).payment_status).toBe('paid');
      expect(await refundsOf(payment.id)).toHaveLength(0);
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
    });

    it('a late "needs action" or "processing" answer reopens neither a paid nor a failed payment', async () => {
      const paid = await paidOrder();
      const declined = await placeOrder();
      expect((await pay(declined.id, 'tok_chargeDeclined')).status).toBe(402);
      const [failed] = await paymentsOf(declined.id);
      for (const paymentId of [paid.paymentId, Number(failed.id)]) {
        const before = await paymentRow(paymentId);
        await knex.transaction((trx) =>
          settleCharge(trx, restaurantId, paymentId, { status: 'requires_action', providerPaymentId: 'tpi_late', clientSecret: 'tpi_late_secret' }),
        );
        await knex.transaction((trx) => settleCharge(trx, restaurantId, paymentId, { status: 'processing', providerPaymentId: 'tpi_late' }));
        await knex.transaction((trx) => settleCharge(trx, restaurantId, paymentId, { status: 'failed', providerPaymentId: 'tpi_late', failureCode: 'late' }));
        expect(await paymentRow(paymentId)).toEqual(before);
      }
    });

    it('keeps the provider’s id of a payment that fails without naming one, and cuts an over-long failure code to fit', async () => {
      const order = await placeOrder();
      const payment = await pendingPayment(order.id);
      await knex.transaction((trx) => settleCharge(trx, restaurantId, payment.id, { status: 'processing', providerPaymentId: payment.providerPaymentId }));
      expect(await paymentRow(payment.id)).toMatchObject({ status: 'pending', client_secret: null, provider_payment_id: payment.providerPaymentId });
      await knex.transaction((trx) => settleCharge(trx, restaurantId, payment.id, { status: 'failed', providerPaymentId: null, failureCode: 'x'.repeat(150) }));
      expect(await paymentRow(payment.id)).toMatchObject({ status: 'failed', failure_code: 'x'.repeat(100), provider_payment_id: payment.providerPaymentId });
      expect((await orderRow(order.id)).payment_status).toBe('unpaid');
    });

    it.each([
      ['cancelled', 'the customer cancelled'],
      ['rejected', 'staff rejected'],
    ] as const)('money for an order %s meanwhile (%s) goes straight back, saying why', async (status, _who) => {
      const order = await placeOrder();
      const payment = await pendingPayment(order.id);
      if (status === 'cancelled') expect((await api.post(`/v1/orders/${order.id}/cancel`, {}, carol)).status).toBe(200);
      else await moveTo(order.id, 'rejected', 'sold out');
      await webhook({ type: 'payment_intent.succeeded', payment_intent: payment.providerPaymentId });
      const [back] = await refundsOf(payment.id);
      expect(back).toMatchObject({
        status: 'pending',
        amount_cents: BURGER_CENTS,
        reason: `the order was ${status} before its payment completed`,
        user_sub: null,
      });
      expect(back.provider_idempotency_key).toMatch(/^tablekit_refund_[0-9a-f-]{36}$/);
      expect(await outboxOf(order.id)).toEqual(['payment.refund_requested']);
      expect(await sendRefunds(order.id)).toBe(1);
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
    });

    it('records a token the provider does not accept as invalid_payment_token, answered 400', async () => {
      const order = await placeOrder();
      expect((await pay(order.id, 'tok_made_up')).status).toBe(400);
      const listed = await api.get(`/v1/orders/${order.id}/payments`, carol);
      expect(listed.body).toEqual([expect.objectContaining({ status: 'failed', failure_code: 'invalid_payment_token' })]);
      expect((await paymentsOf(order.id))[0].provider_idempotency_key).toMatch(/^tablekit_payment_[0-9a-f-]{36}$/);
    });

    it('gives back a second payment that arrives on top of one that already covered the order', async () => {
      const order = await placeOrder();
      const first = await pendingPayment(order.id);
      await knex('payments').where({ id: first.id }).update({ status: 'failed', client_secret: null });
      const second = await pay(order.id);
      await webhook({ type: 'payment_intent.succeeded', payment_intent: first.providerPaymentId });
      expect((await refundsOf(first.id)).map((r) => [r.status, r.amount_cents, r.reason])).toEqual([
        ['pending', BURGER_CENTS, 'paid twice: other payments already covered the order'],
      ]);
      expect(await refundsOf(second.body.id)).toHaveLength(0);
    });

    it('gives back in full a late payment that arrives after the one that covered the order was refunded: a refund never invites a second charge', async () => {
      const order = await placeOrder();
      const first = await pendingPayment(order.id);
      await knex('payments').where({ id: first.id }).update({ status: 'failed', client_secret: null });
      const second = await pay(order.id);
      expect((await refund(second.body.id, BURGER_CENTS)).status).toBe(201);
      await sendRefunds(order.id);
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
      // The provider then reports that the abandoned first attempt took the money after all: the customer
      // meant to pay once, and did, so it goes back, and the manager's refund stands.
      await webhook({ type: 'payment_intent.succeeded', payment_intent: first.providerPaymentId });
      expect((await refundsOf(first.id)).map((r) => [r.status, r.amount_cents, r.reason])).toEqual([
        ['pending', BURGER_CENTS, 'paid twice: other payments already covered the order'],
      ]);
      await sendRefunds(order.id);
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
      expect((await outboxOf(order.id)).filter((type) => type === 'order.confirmation_requested')).toHaveLength(1);
    });

    it('gives back in full a late payment that arrives after a partial refund, so the partial refund stands', async () => {
      const order = await placeOrder();
      const first = await pendingPayment(order.id);
      await knex('payments').where({ id: first.id }).update({ status: 'failed', client_secret: null });
      const second = await pay(order.id);
      expect((await refund(second.body.id, 200)).status).toBe(201);
      await sendRefunds(order.id);
      await webhook({ type: 'payment_intent.succeeded', payment_intent: first.providerPaymentId });
      expect((await refundsOf(first.id)).map((r) => [r.status, r.amount_cents])).toEqual([['pending', BURGER_CENTS]]);
      await sendRefunds(order.id);
      expect((await orderRow(order.id)).payment_status).toBe('partially_refunded');
    });

    it('refuses to record an answer about a payment or refund it does not have', async () => {
      await expect(knex.transaction((trx) => settleCharge(trx, restaurantId, 987_654, { status: 'processing', providerPaymentId: 'tpi_x' }))).rejects.toThrow(
        `payment ${restaurantId}/987654 does not exist`,
      );
      await expect(knex.transaction((trx) => settleRefund(trx, restaurantId, 987_654, { status: 'succeeded', providerRefundId: 'tre_x' }))).rejects.toThrow(
        `refund ${restaurantId}/987654 does not exist`,
      );
    });
  });

  describe('refunds', () => {
    it('counts a card refund only once the provider confirms it', async () => {
      const { order, paymentId } = await paidOrder(2);
      await moveTo(order.id, 'rejected');
      expect((await refundsOf(paymentId)).map((r) => [r.status, r.amount_cents])).toEqual([['pending', 2 * BURGER_CENTS]]);
      expect((await paymentRow(paymentId)).refunded_cents).toBe(0);
      expect((await orderRow(order.id)).payment_status).toBe('paid');
      expect(await sendRefunds(order.id)).toBe(1);
      expect((await paymentRow(paymentId)).refunded_cents).toBe(2 * BURGER_CENTS);
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
    });

    it('a refund the provider refused frees its amount for another, and keeps the provider’s failure code cut to fit', async () => {
      const { order, paymentId } = await paidOrder();
      await moveTo(order.id, 'rejected');
      const [refused] = await refundsOf(paymentId);
      await knex.transaction((trx) =>
        settleRefund(trx, restaurantId, Number(refused.id), { status: 'failed', providerRefundId: null, failureCode: 'y'.repeat(150) }),
      );
      expect(await knex('refunds').where({ id: refused.id }).first()).toMatchObject({
        status: 'failed',
        failure_code: 'y'.repeat(100),
        provider_refund_id: null,
      });
      expect((await orderRow(order.id)).payment_status).toBe('paid');

      const again = await refund(paymentId, BURGER_CENTS);
      expect(again.status, again.text).toBe(201);
      expect(again.body.status).toBe('succeeded');
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
    });

    it('keeps a refund pending on a "pending" answer with the provider’s id for it, which a later failure naming none keeps', async () => {
      const { order, paymentId } = await paidOrder();
      await moveTo(order.id, 'rejected');
      const [pending] = await refundsOf(paymentId);
      const settle = (result: RefundResult) => knex.transaction((trx) => settleRefund(trx, restaurantId, Number(pending.id), result));
      expect(await settle({ status: 'pending', providerRefundId: 'tre_waiting' })).toMatchObject({ status: 'pending', provider_refund_id: 'tre_waiting' });
      expect((await paymentRow(paymentId)).refunded_cents).toBe(0);
      expect(await settle({ status: 'failed', providerRefundId: null, failureCode: 'expired_card' })).toMatchObject({
        status: 'failed',
        failure_code: 'expired_card',
        provider_refund_id: 'tre_waiting',
      });
      expect((await orderRow(order.id)).payment_status).toBe('paid');
    });

    it('settles a refund once: a later answer only fills in the provider’s refund id if it was missing', async () => {
      const { order, paymentId } = await paidOrder();
      await moveTo(order.id, 'rejected');
      const [pending] = await refundsOf(paymentId);
      // The provider's charge.refunded (which names no refund) settles it first.
      await webhook({ type: 'charge.refunded', payment_intent: (await paymentRow(paymentId)).provider_payment_id, amount_refunded_cents: BURGER_CENTS });
      expect(await knex('refunds').where({ id: pending.id }).first()).toMatchObject({ status: 'succeeded', provider_refund_id: null });

      const settle = (result: RefundResult) => knex.transaction((trx) => settleRefund(trx, restaurantId, Number(pending.id), result));
      expect(await settle({ status: 'failed', providerRefundId: null, failureCode: 'late' })).toMatchObject({ status: 'succeeded', provider_refund_id: null });
      expect(await settle({ status: 'succeeded', providerRefundId: 'tre_first' })).toMatchObject({ status: 'succeeded', provider_refund_id: 'tre_first' });
      expect(await settle({ status: 'succeeded', providerRefundId: 'tre_second' })).toMatchObject({ status: 'succeeded', provider_refund_id: 'tre_first' });
      expect(await refundsOf(paymentId)).toHaveLength(1);
      expect((await paymentRow(paymentId)).refunded_cents).toBe(BURGER_CENTS);
    });

    it('cancelling an order refunds only the payment that went through, not the declined attempt', async () => {
      const order = await placeOrder();
      expect((await pay(order.id, 'tok_chargeDeclined')).status).toBe(402);
      expect((await pay(order.id)).status).toBe(201);
      const [declined, charged] = await paymentsOf(order.id);
      expect((await api.post(`/v1/orders/${order.id}/cancel`, {}, manager)).status).toBe(200);
      expect(await refundsOf(declined.id)).toHaveLength(0);
      expect((await refundsOf(charged.id)).map((r) => [r.status, r.amount_cents])).toEqual([['pending', BURGER_CENTS]]);
    });

    it('cancelling an order whose payment was already refunded in full sends nothing more back', async () => {
      const { order, paymentId } = await paidOrder();
      expect((await refund(paymentId, BURGER_CENTS)).status).toBe(201);
      expect((await api.post(`/v1/orders/${order.id}/cancel`, {}, manager)).status).toBe(200);
      expect(await refundsOf(paymentId)).toHaveLength(1);
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
    });

    it('cancelling a cash order with the longest reason hands the cash back at once, the reason cut to fit', async () => {
      const order = await placeOrder('cash');
      const cash = (await api.post(`/v1/orders/${order.id}/payments/cash`, {}, kitchen)).body;
      const reason = 'r'.repeat(200);
      const res = await api.post(`/v1/orders/${order.id}/cancel`, { reason }, manager);
      expect(res.status, res.text).toBe(200);
      const [back] = await refundsOf(cash.id);
      expect(back).toMatchObject({ status: 'succeeded', amount_cents: BURGER_CENTS, provider_idempotency_key: null });
      expect(back.reason).toBe(`order cancelled: ${reason}`.slice(0, 200));
      expect((await paymentRow(cash.id)).refunded_cents).toBe(BURGER_CENTS);
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
    });

    it('a refund for an order cancelled or rejected without a reason records just the move, not a blank reason', async () => {
      const cancelled = await placeOrder('cash');
      const cash = (await api.post(`/v1/orders/${cancelled.id}/payments/cash`, {}, kitchen)).body;
      expect((await api.post(`/v1/orders/${cancelled.id}/cancel`, {}, manager)).status).toBe(200);
      expect((await refundsOf(cash.id)).map((row) => row.reason)).toEqual(['order cancelled']);

      const { order: rejected, paymentId } = await paidOrder();
      await moveTo(rejected.id, 'rejected');
      expect((await refundsOf(paymentId)).map((row) => row.reason)).toEqual(['order rejected']);
    });
  });

  describe('refunds the provider reports in total (charge.refunded)', () => {
    it('settles our pending refunds the total covers, in the order we asked for them, and records the rest as made at the provider', async () => {
      const { order, paymentId } = await paidOrder(2);
      const payment = await paymentRow(paymentId);
      provider.refundsUnanswered = true;
      expect((await refund(paymentId, 300)).status).toBe(202);
      expect((await refund(paymentId, 500)).status).toBe(202);
      provider.refundsUnanswered = false;
      const statuses = async () => (await refundsOf(paymentId)).map((r) => [r.amount_cents, r.status, r.reason]);

      await webhook({ type: 'charge.refunded', payment_intent: payment.provider_payment_id, amount_refunded_cents: 300 });
      expect(await statuses()).toEqual([
        [300, 'succeeded', 'refunded by staff'],
        [500, 'pending', 'refunded by staff'],
      ]);
      expect((await paymentRow(paymentId)).refunded_cents).toBe(300);
      expect((await orderRow(order.id)).payment_status).toBe('partially_refunded');

      await webhook({ type: 'charge.refunded', payment_intent: payment.provider_payment_id, amount_refunded_cents: 800 });
      expect((await statuses())[1]).toEqual([500, 'succeeded', 'refunded by staff']);

      // More than ours, and more than the payment: what is left of it went back at the provider.
      await webhook({ type: 'charge.refunded', payment_intent: payment.provider_payment_id, amount_refunded_cents: 5000 });
      expect(await statuses()).toEqual([
        [300, 'succeeded', 'refunded by staff'],
        [500, 'succeeded', 'refunded by staff'],
        [200, 'succeeded', 'refunded at the provider'],
      ]);
      expect((await paymentRow(paymentId)).refunded_cents).toBe(2 * BURGER_CENTS);
      expect((await orderRow(order.id)).payment_status).toBe('refunded');
      await webhook({ type: 'charge.refunded', payment_intent: payment.provider_payment_id, amount_refunded_cents: 5000 });
      expect(await refundsOf(paymentId)).toHaveLength(3);
    });

    it('settles the refunds the provider lists by its id or our key, leaves those it still has pending, and keeps our books at its total', async () => {
      const { order, paymentId } = await paidOrder(2);
      const payment = await paymentRow(paymentId);
      provider.refundsUnanswered = true;
      for (const amount of [300, 200, 100]) expect((await refund(paymentId, amount)).status).toBe(202);
      provider.refundsUnanswered = false;
      const [byKey, byId, stillPending] = await refundsOf(paymentId);
      await knex.transaction((trx) => settleRefund(trx, restaurantId, Number(byId.id), { status: 'pending', providerRefundId: 'tre_by_id' }));
      const deps = { db: knex, provider, logger: silentLogger };
      const chargeRefunded = (
        amountRefundedCents: number,
        refunds: Array<{ providerRefundId: string; refundKey: string | undefined; amountCents: number; status: 'succeeded' | 'pending' | 'failed' }>,
      ) =>
        handleProviderEvent(deps, {
          id: `evt_${randomUUID()}`,
          type: 'charge.refunded',
          kind: 'charge.refunded',
          providerPaymentId: payment.provider_payment_id,
          amountRefundedCents,
          refunds,
        });
      const rows = async () => (await refundsOf(paymentId)).map((r) => [r.amount_cents, r.status, r.provider_refund_id, r.failure_code]);

      expect(
        await chargeRefunded(350, [
          { providerRefundId: 'tre_by_key', refundKey: byKey.provider_idempotency_key, amountCents: 300, status: 'succeeded' },
          { providerRefundId: 'tre_by_id', refundKey: undefined, amountCents: 200, status: 'failed' },
          { providerRefundId: 'tre_still_pending', refundKey: stillPending.provider_idempotency_key, amountCents: 100, status: 'pending' },
          { providerRefundId: 'tre_from_the_dashboard', refundKey: undefined, amountCents: 50, status: 'succeeded' },
        ]),
      ).toBe('settled');
      expect(await rows()).toEqual([
        [300, 'succeeded', 'tre_by_key', null],
        [200, 'failed', 'tre_by_id', 'failed'],
        [100, 'pending', null, null],
        [50, 'succeeded', null, null],
      ]);
      expect((await paymentRow(paymentId)).refunded_cents).toBe(350);
      expect((await orderRow(order.id)).payment_status).toBe('partially_refunded');

      // Later the provider calls the failed one succeeded after all: a settled refund is not reopened,
      // and the difference is recorded beside it, so what we show as refunded is what the provider says.
      await chargeRefunded(650, [
        { providerRefundId: 'tre_by_key', refundKey: byKey.provider_idempotency_key, amountCents: 300, status: 'succeeded' },
        { providerRefundId: 'tre_by_id', refundKey: undefined, amountCents: 200, status: 'succeeded' },
        { providerRefundId: 'tre_still_pending', refundKey: stillPending.provider_idempotency_key, amountCents: 100, status: 'succeeded' },
      ]);
      expect((await rows()).slice(0, 3)).toEqual([
        [300, 'succeeded', 'tre_by_key', null],
        [200, 'failed', 'tre_by_id', 'failed'],
        [100, 'succeeded', 'tre_still_pending', null],
      ]);
      expect((await paymentRow(paymentId)).refunded_cents).toBe(650);
    });

    it('records a refund made in the provider’s dashboard once, so the order does not read as fully paid', async () => {
      const { order, paymentId } = await paidOrder(2);
      const payment = await paymentRow(paymentId);
      await webhook({ type: 'charge.refunded', payment_intent: payment.provider_payment_id, amount_refunded_cents: 200 });
      await webhook({ type: 'charge.refunded', payment_intent: payment.provider_payment_id, amount_refunded_cents: 200 });
      expect((await refundsOf(paymentId)).map((r) => [r.amount_cents, r.status, r.user_sub])).toEqual([[200, 'succeeded', null]]);
      expect((await paymentRow(paymentId)).refunded_cents).toBe(200);
      expect((await orderRow(order.id)).payment_status).toBe('partially_refunded');
    });

    it('ignores a refund report for a payment that never went through', async () => {
      const order = await placeOrder();
      expect((await pay(order.id, 'tok_chargeDeclined')).status).toBe(402);
      const [declined] = await paymentsOf(order.id);
      await webhook({ type: 'charge.refunded', payment_intent: declined.provider_payment_id, amount_refunded_cents: BURGER_CENTS });
      expect(await refundsOf(declined.id)).toHaveLength(0);
      expect((await orderRow(order.id)).payment_status).toBe('unpaid');
    });
  });
});
