import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import Stripe from 'stripe';
import type { Knex } from 'knex';
import { createTestApp, silentLogger, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { onRealPostgres } from './support/database.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { StripePaymentProvider } from '../src/modules/payments/providers/stripe-provider.js';
import { ProviderUnavailableError, type ChargeRequest } from '../src/modules/payments/providers/types.js';
import { PaymentReconciler } from '../src/modules/payments/reconciler.js';
import { processOrderRefunds } from '../src/modules/payments/service.js';

const SECRET_KEY = 'sk_test_tablekit_stub_key';
const WEBHOOK_SECRET = 'whsec_tablekit_stub_webhook_secret';

interface StubRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  form: URLSearchParams;
}

type Json = Record<string, unknown>;

const stripeId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;

/**
 * A local stand-in for api.stripe.com, answering with bodies shaped as Stripe documents them
 * (PaymentIntent, Refund, list and search results, the error envelope with `decline_code`), keeping
 * Stripe's idempotency semantics (a key seen before gets its first response back) and recording every
 * request so tests can count what reached "Stripe".
 */
class StripeStub {
  readonly requests: StubRequest[] = [];
  readonly intents = new Map<string, Json>();
  readonly refunds: Json[] = [];
  private readonly byKey = new Map<string, { status: number; body: Json }>();
  private server: http.Server | undefined;
  /** Holds the answer to the next PaymentIntent creation until released (to let a webhook overtake it). */
  private gate: Promise<void> | undefined;
  /** Answers PaymentIntent creations as Stripe does when the account's key has expired. */
  refuseCharges = false;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      req.on('end', () => {
        void this.handle(req, raw).then(({ status, body }) => {
          res.writeHead(status, { 'Content-Type': 'application/json', 'Request-Id': stripeId('req') });
          res.end(JSON.stringify(body));
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  holdNextCreate(): () => void {
    let release = () => {};
    this.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    return release;
  }

  count(method: string, path: string | RegExp): number {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path))).length;
  }

  /** The customer completes 3-D Secure in Stripe.js: the PaymentIntent succeeds. */
  completeAction(id: string): Json {
    const intent = this.intents.get(id)!;
    Object.assign(intent, { status: 'succeeded', next_action: null, amount_received: intent.amount, latest_charge: stripeId('ch') });
    return intent;
  }

  private async handle(req: http.IncomingMessage, raw: string): Promise<{ status: number; body: Json }> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const entry: StubRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      form: new URLSearchParams(raw),
    };
    this.requests.push(entry);
    if (req.headers.authorization !== `Bearer ${SECRET_KEY}`) return this.error(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' });
    const key = req.headers['idempotency-key'];
    if (entry.method === 'POST' && typeof key === 'string') {
      const seen = this.byKey.get(key);
      if (seen !== undefined) return seen;
    }
    const answer = await this.route(entry);
    if (entry.method === 'POST' && typeof key === 'string') this.byKey.set(key, answer);
    return answer;
  }

  private async route(r: StubRequest): Promise<{ status: number; body: Json }> {
    if (r.method === 'POST' && r.path === '/v1/payment_intents' && this.refuseCharges) {
      return this.error(401, { type: 'invalid_request_error', code: 'api_key_expired', message: 'Expired API Key provided: sk_test_***' });
    }
    if (r.method === 'POST' && r.path === '/v1/payment_intents') {
      // Stripe has acted; only its answer is held back.
      const gate = this.gate;
      this.gate = undefined;
      const answer = this.createIntent(r.form);
      await gate;
      return answer;
    }
    if (r.method === 'GET' && r.path === '/v1/payment_intents/search') {
      const match = /^metadata\['(\w+)'\]:'([^']+)'$/.exec(r.query.get('query') ?? '');
      const data = [...this.intents.values()].filter((intent) => match !== null && (intent.metadata as Json)[match[1]!] === match[2]);
      return { status: 200, body: { object: 'search_result', data, has_more: false, next_page: null, url: '/v1/payment_intents/search' } };
    }
    const intentPath = /^\/v1\/payment_intents\/(pi_\w+)(\/cancel)?$/.exec(r.path);
    if (intentPath !== null) {
      const intent = this.intents.get(intentPath[1]!);
      if (intent === undefined)
        return this.error(404, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          param: 'intent',
          message: `No such payment_intent: '${intentPath[1]}'`,
        });
      if (r.method === 'GET') return { status: 200, body: intent };
      if (intent.status !== 'requires_action' && intent.status !== 'requires_payment_method') {
        return this.error(400, {
          type: 'invalid_request_error',
          code: 'payment_intent_unexpected_state',
          message: `You cannot cancel this PaymentIntent because it has a status of ${String(intent.status)}.`,
        });
      }
      Object.assign(intent, { status: 'canceled', cancellation_reason: r.form.get('cancellation_reason'), canceled_at: now(), next_action: null });
      return { status: 200, body: intent };
    }
    if (r.method === 'POST' && r.path === '/v1/refunds') return this.createRefund(r.form);
    if (r.method === 'GET' && r.path === '/v1/refunds') {
      const data = this.refunds.filter((refund) => refund.payment_intent === r.query.get('payment_intent'));
      return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/refunds' } };
    }
    return this.error(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${r.method}: ${r.path})` });
  }

  private createIntent(form: URLSearchParams): { status: number; body: Json } {
    const id = stripeId('pi');
    const paymentMethod = form.get('payment_method') ?? '';
    const intent: Json = {
      id,
      object: 'payment_intent',
      amount: Number(form.get('amount')),
      amount_capturable: 0,
      amount_received: 0,
      automatic_payment_methods: { allow_redirects: 'never', enabled: true },
      canceled_at: null,
      cancellation_reason: null,
      capture_method: 'automatic',
      client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
      confirmation_method: 'automatic',
      created: now(),
      currency: form.get('currency'),
      customer: null,
      description: null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: metadataOf(form),
      next_action: null,
      payment_method: paymentMethod,
      payment_method_types: ['card'],
      status: 'requires_payment_method',
    };
    if (!paymentMethod.startsWith('pm_card_')) {
      return this.error(400, {
        type: 'invalid_request_error',
        code: 'resource_missing',
        param: 'payment_method',
        message: `No such PaymentMethod: '${paymentMethod}'`,
        doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
      });
    }
    this.intents.set(id, intent);
    if (paymentMethod === 'pm_card_visa') {
      Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, latest_charge: stripeId('ch') });
      return { status: 200, body: intent };
    }
    if (paymentMethod === 'pm_card_threeDSecure2Required') {
      Object.assign(intent, {
        status: 'requires_action',
        next_action: {
          type: 'use_stripe_sdk',
          use_stripe_sdk: { type: 'stripe_3ds2_fingerprint', three_d_secure_2_source: stripeId('payatt'), directory_server_name: 'visa' },
        },
      });
      return { status: 200, body: intent };
    }
    // A decline: Stripe answers 402 with the error, the PaymentIntent (back to requires_payment_method) inside.
    const chargeId = stripeId('ch');
    const lastError = {
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      charge: chargeId,
      message: 'Your card has insufficient funds.',
      doc_url: 'https://stripe.com/docs/error-codes/card-declined',
    };
    Object.assign(intent, { last_payment_error: lastError, latest_charge: chargeId });
    return this.error(402, { ...lastError, payment_intent: intent, request_log_url: `https://dashboard.stripe.com/test/logs/${stripeId('req')}` });
  }

  private createRefund(form: URLSearchParams): { status: number; body: Json } {
    const intent = this.intents.get(form.get('payment_intent') ?? '');
    if (intent === undefined || intent.status !== 'succeeded') {
      return this.error(400, { type: 'invalid_request_error', code: 'charge_not_refundable', message: 'This charge cannot be refunded.' });
    }
    const refund: Json = {
      id: stripeId('re'),
      object: 'refund',
      amount: Number(form.get('amount')),
      balance_transaction: stripeId('txn'),
      charge: intent.latest_charge,
      created: now(),
      currency: intent.currency,
      metadata: metadataOf(form),
      payment_intent: intent.id,
      reason: null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    };
    this.refunds.push(refund);
    return { status: 200, body: refund };
  }

  private error(status: number, error: Json): { status: number; body: Json } {
    return { status, body: { error } };
  }
}

const now = () => Math.floor(Date.now() / 1000);
function metadataOf(form: URLSearchParams): Json {
  const metadata: Json = {};
  for (const [name, value] of form) {
    const match = /^metadata\[(.+)\]$/.exec(name);
    if (match !== null) metadata[match[1]!] = value;
  }
  return metadata;
}

/** A Stripe event as Stripe sends it, signed as Stripe signs it. */
function stripeEvent(type: string, object: Json, options: { id?: string; timestamp?: number; secret?: string } = {}) {
  const payload = JSON.stringify({
    id: options.id ?? stripeId('evt'),
    object: 'event',
    api_version: Stripe.API_VERSION,
    created: now(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  });
  const header = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? WEBHOOK_SECRET,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
  return { payload, header };
}

/** The Stripe provider, able to lose Stripe's answer after Stripe acted (the crash between our two writes). */
class LossyStripeProvider extends StripePaymentProvider {
  loseNextAnswer = false;

  override async charge(request: ChargeRequest) {
    const result = await super.charge(request);
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false;
      throw new ProviderUnavailableError('simulated: the connection dropped before the answer arrived');
    }
    return result;
  }
}

describe('the Stripe provider against a stand-in for api.stripe.com', () => {
  let stub: StripeStub;
  let provider: LossyStripeProvider;
  let t: TestApp;
  let knex: Knex;
  let api: CatalogClient;
  let restaurantId: number;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let alice: SignedInUser;
  let burgerId: number;

  const placeOrder = async (user: SignedInUser, quantity = 1) => {
    expect((await api.post('/v1/cart/items', { recipe_id: burgerId, quantity }, user)).status).toBe(201);
    const res = await api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'card' }, user).set('Idempotency-Key', randomUUID());
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number; total_cents: number };
  };
  const pay = (user: SignedInUser, orderId: number, token: string, key: string = randomUUID()) =>
    api.post(`/v1/orders/${orderId}/payments`, { payment_token: token }, user).set('Idempotency-Key', key);
  const deliver = (event: { payload: string; header: string | null }) => {
    const req = request(t.app).post('/v1/payments/webhooks/stripe').set('Content-Type', 'application/json; charset=utf-8');
    if (event.header !== null) req.set('Stripe-Signature', event.header);
    return req.send(event.payload);
  };
  const paymentRow = async (id: number) => knex('payments').where({ id }).first();
  const orderRow = async (id: number) => knex('orders').where({ id }).first();
  const outboxOf = async (orderId: number) =>
    (
      await knex('outbox')
        .where({ restaurant_id: restaurantId })
        .whereRaw(`payload->>'order_id' = ?`, [String(orderId)])
    ).map((row) => row.type as string);
  const creates = () => stub.count('POST', '/v1/payment_intents');

  beforeAll(async () => {
    stub = new StripeStub();
    await stub.start();
    provider = new LossyStripeProvider({
      secretKey: SECRET_KEY,
      webhookSecret: WEBHOOK_SECRET,
      api: { host: '127.0.0.1', port: stub.port, protocol: 'http' },
      maxNetworkRetries: 0,
      timeoutMs: 5_000,
    });
    t = await createTestApp({ paymentProvider: provider });
    knex = t.db.knex;
    const restaurant = await createRestaurant(knex, { domain: 'stripe.example.com', currency: 'EUR' });
    restaurantId = restaurant.id;
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, knex, restaurantId, 'manager');
    kitchen = await signInStaff(t.cognito, knex, restaurantId, 'kitchen');
    alice = await signInCustomer(t.cognito);
    const beef = await insertIngredientRow(knex, restaurantId, { name: 'Beef', price_cents: 1250, stock: 1000 });
    [burgerId] = (await insertRecipeRows(knex, restaurantId, [{ name: 'Burger', lines: [{ ingredient_id: beef, quantity: 1 }] }])) as [number];
  });
  afterAll(async () => {
    await t.close();
    await stub.stop();
  });

  it('creates and confirms a PaymentIntent for the outstanding amount with our key as Stripe’s Idempotency-Key', async () => {
    const order = await placeOrder(alice, 2);
    const before = creates();
    const res = await pay(alice, order.id, 'pm_card_visa');
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ provider: 'stripe', status: 'succeeded', amount_cents: 2500, currency: 'EUR' });
    expect(creates()).toBe(before + 1);

    const sent = stub.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents').at(-1)!;
    const row = await paymentRow(res.body.id);
    expect(sent.headers['idempotency-key']).toBe(row.provider_idempotency_key);
    expect(sent.form.get('amount')).toBe('2500');
    expect(sent.form.get('currency')).toBe('eur');
    expect(sent.form.get('confirm')).toBe('true');
    expect(sent.form.get('payment_method')).toBe('pm_card_visa');
    expect(sent.form.get('metadata[order_id]')).toBe(String(order.id));
    expect(sent.form.get('metadata[tablekit_payment_key]')).toBe(row.provider_idempotency_key);
    expect(row.provider_payment_id).toMatch(/^pi_/);
    expect(stub.intents.get(row.provider_payment_id)?.status).toBe('succeeded');

    expect((await orderRow(order.id)).payment_status).toBe('paid');
    expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
  });

  it('answers 402 payment_declined with Stripe’s decline code; the order stays unpaid', async () => {
    const order = await placeOrder(alice);
    const res = problem(await pay(alice, order.id, 'pm_card_visa_chargeDeclinedInsufficientFunds'), 402, 'payment_declined');
    expect(res.errors).toEqual([{ path: 'payment_token', message: 'insufficient_funds' }]);
    const [row] = await knex('payments').where({ order_id: order.id });
    expect(row).toMatchObject({ status: 'failed', failure_code: 'insufficient_funds', provider_payment_id: expect.stringMatching(/^pi_/) });
    expect((await orderRow(order.id)).payment_status).toBe('unpaid');
    expect(await outboxOf(order.id)).toEqual([]);
  });

  it('answers 503 while Stripe refuses our account, tells the customer nothing of why, and never holds it against the order', async () => {
    const order = await placeOrder(alice);
    stub.refuseCharges = true;
    try {
      // More refusals than the order's limit of failed attempts.
      for (let attempt = 0; attempt < 6; attempt += 1) {
        const res = await pay(alice, order.id, 'pm_card_visa');
        expect(problem(res, 503, 'service_unavailable').detail).toBe('Card payments are unavailable right now; nothing was charged');
        expect(res.headers['retry-after']).toBe('30');
        expect(res.text).not.toContain('api_key');
      }
      const listed = await api.get(`/v1/orders/${order.id}/payments`, alice);
      expect(listed.body).toHaveLength(6);
      expect(listed.text).not.toContain('api_key');
      expect(
        (listed.body as Array<{ status: string; failure_code: string }>).every((p) => p.status === 'failed' && p.failure_code === 'provider_unavailable'),
      ).toBe(true);
    } finally {
      stub.refuseCharges = false;
    }
    // Once the account works again, the customer pays as if nothing happened.
    const paid = await pay(alice, order.id, 'pm_card_visa');
    expect(paid.status, paid.text).toBe(201);
    expect((await orderRow(order.id)).payment_status).toBe('paid');
  });

  it('answers 400 for a PaymentMethod Stripe does not know', async () => {
    const order = await placeOrder(alice);
    const res = problem(await pay(alice, order.id, 'pm_nonexistent'), 400, 'validation_failed');
    expect(res.errors?.[0]?.path).toBe('payment_token');
    expect(JSON.stringify(res)).not.toContain(SECRET_KEY);
  });

  it('keeps a PaymentIntent that requires action pending with its client_secret, settles it by webhook, and settles the same event once', async () => {
    const order = await placeOrder(alice);
    const res = await pay(alice, order.id, 'pm_card_threeDSecure2Required');
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe('pending');
    const row = await paymentRow(res.body.id);
    expect(res.body.client_secret).toBe(stub.intents.get(row.provider_payment_id)?.client_secret);
    expect(res.body.client_secret).toMatch(/^pi_\w+_secret_/);
    expect((await orderRow(order.id)).payment_status).toBe('unpaid');

    const event = stripeEvent('payment_intent.succeeded', stub.completeAction(row.provider_payment_id));
    const first = await deliver(event);
    expect(first.status, first.text).toBe(200);
    expect(first.body.outcome).toBe('settled');
    expect((await deliver(event)).body.outcome).toBe('duplicate');
    expect(await paymentRow(res.body.id)).toMatchObject({ status: 'succeeded', client_secret: null });
    expect((await orderRow(order.id)).payment_status).toBe('paid');
    expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
  });

  it('settles a failed 3-D Secure attempt from payment_intent.payment_failed', async () => {
    const order = await placeOrder(alice);
    const res = await pay(alice, order.id, 'pm_card_threeDSecure2Required');
    const row = await paymentRow(res.body.id);
    const intent = {
      ...stub.intents.get(row.provider_payment_id),
      status: 'requires_payment_method',
      next_action: null,
      last_payment_error: {
        type: 'invalid_request_error',
        code: 'payment_intent_authentication_failure',
        message: 'The provided PaymentMethod has failed authentication.',
      },
    };
    expect((await deliver(stripeEvent('payment_intent.payment_failed', intent))).status).toBe(200);
    expect(await paymentRow(res.body.id)).toMatchObject({ status: 'failed', failure_code: 'payment_intent_authentication_failure' });
    expect((await orderRow(order.id)).payment_status).toBe('unpaid');
  });

  it('refuses webhooks with a bad or stale Stripe-Signature with 400, and changes nothing', async () => {
    const order = await placeOrder(alice);
    const res = await pay(alice, order.id, 'pm_card_threeDSecure2Required');
    const row = await paymentRow(res.body.id);
    const intent = { ...stub.intents.get(row.provider_payment_id), status: 'succeeded' };
    const id = stripeId('evt');
    problem(await deliver({ ...stripeEvent('payment_intent.succeeded', intent, { id }), header: null }), 400, 'validation_failed');
    problem(await deliver(stripeEvent('payment_intent.succeeded', intent, { id, secret: 'whsec_not_ours' })), 400, 'validation_failed');
    problem(await deliver(stripeEvent('payment_intent.succeeded', intent, { id, timestamp: now() - 301 })), 400, 'validation_failed');
    const good = stripeEvent('payment_intent.succeeded', intent, { id });
    problem(await deliver({ payload: good.payload.replace('"livemode":false', '"livemode":true'), header: good.header }), 400, 'validation_failed');

    expect(await paymentRow(res.body.id)).toMatchObject({ status: 'pending' });
    expect((await orderRow(order.id)).payment_status).toBe('unpaid');
    expect(await knex('payment_webhook_events').where({ event_id: id })).toHaveLength(0);
    // Within the tolerance it is accepted.
    expect((await deliver(stripeEvent('payment_intent.succeeded', intent, { id, timestamp: now() - 250 }))).status).toBe(200);
    expect((await orderRow(order.id)).payment_status).toBe('paid');
  });

  it('settles a payment whose webhook arrives before Stripe’s answer to our own request', async () => {
    const order = await placeOrder(alice);
    const release = stub.holdNextCreate();
    const paying = pay(alice, order.id, 'pm_card_visa').then((res) => res);
    let intent: Json | undefined;
    const started = Date.now();
    while (intent === undefined && Date.now() - started < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      intent = [...stub.intents.values()].find((candidate) => (candidate.metadata as Json).order_id === String(order.id));
    }
    expect((await knex('payments').where({ order_id: order.id }).first()).provider_payment_id).toBeNull();
    // Stripe's id is not known to us yet: the event is matched by the key in its metadata.
    expect((await deliver(stripeEvent('payment_intent.succeeded', intent!))).body.outcome).toBe('settled');
    expect((await orderRow(order.id)).payment_status).toBe('paid');
    release();
    const res = await paying;
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe('succeeded');
    expect((await knex('payments').where({ order_id: order.id }).first()).provider_payment_id).toBe(intent!.id);
    expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
  });

  it('refunds through Stripe with the refund’s key; charge.refunded settles refunds and records ones made in Stripe’s dashboard', async () => {
    const order = await placeOrder(alice, 4);
    const payment = (await pay(alice, order.id, 'pm_card_visa')).body;
    const res = await api.post(`/v1/payments/${payment.id}/refunds`, { amount_cents: 1000 }, manager).set('Idempotency-Key', randomUUID());
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ payment_id: payment.id, amount_cents: 1000, status: 'succeeded' });
    const sent = stub.requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds').at(-1)!;
    const [refund] = await knex('refunds').where({ payment_id: payment.id });
    expect(sent.headers['idempotency-key']).toBe(refund.provider_idempotency_key);
    expect(sent.form.get('payment_intent')).toBe((await paymentRow(payment.id)).provider_payment_id);
    expect(sent.form.get('amount')).toBe('1000');
    expect(refund.provider_refund_id).toMatch(/^re_/);
    expect((await orderRow(order.id)).payment_status).toBe('partially_refunded');

    const intentId = (await paymentRow(payment.id)).provider_payment_id as string;
    const charge = (amountRefunded: number) => ({
      id: stub.intents.get(intentId)?.latest_charge,
      object: 'charge',
      amount: 5000,
      amount_captured: 5000,
      amount_refunded: amountRefunded,
      captured: true,
      currency: 'eur',
      paid: true,
      payment_intent: intentId,
      refunded: amountRefunded === 5000,
      status: 'succeeded',
    });
    const ours = stripeEvent('charge.refunded', charge(1000));
    expect((await deliver(ours)).body.outcome).toBe('settled');
    expect((await paymentRow(payment.id)).refunded_cents).toBe(1000);
    // Someone refunded the rest in Stripe's dashboard: our books follow.
    expect((await deliver(stripeEvent('charge.refunded', charge(5000)))).body.outcome).toBe('settled');
    expect((await paymentRow(payment.id)).refunded_cents).toBe(5000);
    expect((await knex('refunds').where({ payment_id: payment.id }).orderBy('id')).map((r) => [r.status, r.amount_cents, r.reason])).toEqual([
      ['succeeded', 1000, 'refunded by staff'],
      ['succeeded', 4000, 'refunded at the provider'],
    ]);
    expect((await orderRow(order.id)).payment_status).toBe('refunded');
    expect((await deliver(ours)).body.outcome).toBe('duplicate');
  });

  it('refunds a rejected order once through Stripe, however often the worker is asked', async () => {
    const order = await placeOrder(alice);
    const payment = (await pay(alice, order.id, 'pm_card_visa')).body;
    expect((await api.post(`/v1/orders/${order.id}/transitions`, { to: 'rejected' }, kitchen)).status).toBe(200);
    const before = stub.count('POST', '/v1/refunds');
    const deps = { db: knex, provider, logger: silentLogger };
    expect(await processOrderRefunds(deps, restaurantId, order.id)).toBe(1);
    expect(await processOrderRefunds(deps, restaurantId, order.id)).toBe(0);
    expect(stub.count('POST', '/v1/refunds')).toBe(before + 1);
    expect((await paymentRow(payment.id)).refunded_cents).toBe(1250);
    expect((await orderRow(order.id)).payment_status).toBe('refunded');
  });

  it('reconciles a charge whose answer was lost by finding it at Stripe by our key, without charging again', async () => {
    const order = await placeOrder(alice);
    provider.loseNextAnswer = true;
    const before = creates();
    const res = await pay(alice, order.id, 'pm_card_visa');
    expect(res.status, res.text).toBe(202);
    expect(creates()).toBe(before + 1);
    expect((await paymentRow(res.body.id)).provider_payment_id).toBeNull();

    const reconciler = new PaymentReconciler({ db: knex, provider, logger: silentLogger, reconcileAfterMs: 0, abandonAfterMs: 15 * 60_000 });
    const searches = stub.count('GET', '/v1/payment_intents/search');
    await reconciler.reconcileOnce();
    expect(stub.count('GET', '/v1/payment_intents/search')).toBe(searches + 1);
    expect(creates()).toBe(before + 1);
    expect(await paymentRow(res.body.id)).toMatchObject({ status: 'succeeded', provider_payment_id: expect.stringMatching(/^pi_/) });
    expect((await orderRow(order.id)).payment_status).toBe('paid');
    expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
  });

  it('cancels a PaymentIntent left waiting for 3-D Secure past the payment timeout', async () => {
    const order = await placeOrder(alice);
    const res = await pay(alice, order.id, 'pm_card_threeDSecure2Required');
    await knex('payments')
      .where({ id: res.body.id })
      .update({ created_at: new Date(Date.now() - 20 * 60_000) });
    const reconciler = new PaymentReconciler({ db: knex, provider, logger: silentLogger, reconcileAfterMs: 60_000, abandonAfterMs: 15 * 60_000 });
    await reconciler.reconcileOnce();
    const row = await paymentRow(res.body.id);
    expect(row).toMatchObject({ status: 'failed', failure_code: 'canceled' });
    expect(stub.intents.get(row.provider_payment_id)?.status).toBe('canceled');
    expect(stub.count('POST', `/v1/payment_intents/${row.provider_payment_id}/cancel`)).toBe(1);
  });

  describe.skipIf(!onRealPostgres)('under concurrency (real PostgreSQL)', () => {
    it('charges once at Stripe for 20 concurrent identical requests with one key: one 201, the rest in-use or replayed', async () => {
      const order = await placeOrder(alice);
      const key = randomUUID();
      const release = stub.holdNextCreate();
      const before = creates();
      const inFlight = Array.from({ length: 20 }, () => pay(alice, order.id, 'pm_card_visa', key).then((res) => res));
      await new Promise((resolve) => setTimeout(resolve, 500));
      release();
      const answers = await Promise.all(inFlight);
      const statuses = answers.map((res) => res.status);
      expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      expect(statuses.filter((s) => s === 409).length).toBeGreaterThan(0);
      for (const res of answers.filter((r) => r.status === 409)) problem(res, 409, 'idempotency_key_in_use');
      const succeeded = answers.filter((r) => r.status === 201);
      expect(new Set(succeeded.map((r) => r.body.id)).size).toBe(1);
      expect(creates()).toBe(before + 1);
      expect(await knex('payments').where({ order_id: order.id })).toHaveLength(1);
      expect(await outboxOf(order.id)).toEqual(['order.confirmation_requested']);
    });
  });
});
