import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createTestApp, silentLogger, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { createCustomer, createPlacedOrder, createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { captureLog } from './support/log-capture.js';
import { createMetrics } from '../src/metrics.js';
import { OrderWorker } from '../src/queue/worker.js';
import { toQueueMessage, type OutboxRow } from '../src/queue/outbox.js';
import { OutboxRelay } from '../src/queue/relay.js';
import { confirmOrderBySystem } from '../src/modules/orders/service.js';
import { attemptWebhookDelivery, emitRestaurantEvent, OrderEventWebhooks, verifySignature } from '../src/modules/webhooks/index.js';
import { createEndpoint } from '../src/modules/webhooks/service.js';
import { createdEndpointSchema, deliverySchema, endpointPageSchema, endpointSchema, webhookEventBodySchema } from '../src/modules/webhooks/schemas.js';
import { orderSchema } from '../src/modules/orders/schemas.js';
import type { Logger } from 'pino';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback that answers each path with the statuses it is told, then 200. */
async function startReceiver() {
  const received: Received[] = [];
  const scripts = new Map<string, number[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = scripts.get(path)?.shift() ?? 200;
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    port,
    at: (path: string) => received.filter((entry) => entry.path === path),
    answer: (path: string, statuses: number[]) => scripts.set(path, [...statuses]),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const MINUTE = 60_000;

describe('outgoing webhooks', () => {
  let t: TestApp;
  let knex: Knex;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let api: CatalogClient;
  let otherApi: CatalogClient;
  let restaurantId: number;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let customer: SignedInUser;
  let otherManager: SignedInUser;
  let now = new Date();
  const clock = () => new Date(now);
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };

  const deliveryDeps = (overrides: { production?: boolean; logger?: Logger; resolve?: Parameters<typeof attemptWebhookDelivery>[0]['resolve'] } = {}) => ({
    db: knex,
    logger: overrides.logger ?? silentLogger,
    production: overrides.production ?? false,
    clock,
    random: () => 0.5,
    timeoutMs: 2_000,
    resolve: overrides.resolve,
  });
  const newWorker = () =>
    new OrderWorker({
      confirmOrder: (r, o) => confirmOrderBySystem(knex, r, o),
      deliverWebhook: (r, d, a) => attemptWebhookDelivery(deliveryDeps(), r, d, a),
      sqs: new SQSClient({ region: 'us-east-1' }),
      queueUrl: 'unused: messages are handed to the worker directly',
      deadLetterQueueUrl: undefined,
      batchSize: 1,
      logger: silentLogger,
      metrics: createMetrics(knex),
    });
  let worker: OrderWorker;

  /**
   * What the relay and SQS would do by the (injected) clock: hand every webhook message that is due to
   * the worker, as the queue message the relay would send. Returns how many were handled.
   */
  const runDueDeliveries = async (): Promise<number> => {
    const rows = (await knex('outbox')
      .where({ type: 'webhook.delivery_requested' })
      .whereNull('sent_at')
      .where('available_at', '<=', knex.raw('greatest(now(), ?::timestamptz)', [now]))
      .orderBy('id')) as OutboxRow[];
    for (const row of rows) {
      await knex('outbox').where({ restaurant_id: row.restaurant_id, id: row.id }).update({ sent_at: knex.fn.now() });
      await worker.handle({ Body: JSON.stringify(toQueueMessage(row)) });
    }
    return rows.length;
  };

  const newEndpoint = async (events: string[], path: string, as = manager, client = api) => {
    const res = await client.post('/v1/webhook-endpoints', { url: receiver.url(path), events }, as);
    expect(res.status, res.text).toBe(201);
    return createdEndpointSchema.parse(res.body);
  };
  const deliveriesOf = async (endpointId: number) => {
    const res = await api.get(`/v1/webhook-endpoints/${endpointId}/deliveries`, manager);
    expect(res.status, res.text).toBe(200);
    return res.body.map((delivery: unknown) => deliverySchema.parse(delivery));
  };
  const adjust = async (ingredientId: number, delta: number) => {
    const res = await api.post(`/v1/ingredients/${ingredientId}/adjustments`, { delta, reason: delta > 0 ? 'restock' : 'waste' }, kitchen);
    expect(res.status, res.text).toBe(201);
  };
  const eventsOf = (type: string) => knex('webhook_events').where({ restaurant_id: restaurantId, type }).orderBy('id');

  beforeAll(async () => {
    t = await createTestApp();
    knex = t.db.knex;
    worker = newWorker();
    receiver = await startReceiver();
    restaurantId = (await createRestaurant(knex, { domain: 'hooks.example.com' })).id;
    const otherId = (await createRestaurant(knex, { domain: 'other-hooks.example.com' })).id;
    api = catalogClient(t.app, 'hooks.example.com');
    otherApi = catalogClient(t.app, 'other-hooks.example.com');
    manager = await signInStaff(t.cognito, knex, restaurantId, 'manager');
    kitchen = await signInStaff(t.cognito, knex, restaurantId, 'kitchen');
    customer = await signInCustomer(t.cognito);
    otherManager = await signInStaff(t.cognito, knex, otherId, 'manager');
  });

  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  describe('endpoints', () => {
    it('are created by a manager with a secret that is shown once and never again', async () => {
      const res = await api.post('/v1/webhook-endpoints', { url: receiver.url('/crud'), events: ['order.placed', 'ingredient.low_stock'] }, manager);
      expect(res.status, res.text).toBe(201);
      const created = createdEndpointSchema.parse(res.body);
      expect(created).toMatchObject({ url: receiver.url('/crud'), events: ['order.placed', 'ingredient.low_stock'], enabled: true, disabled_reason: null });
      expect(created.secret.length).toBeGreaterThanOrEqual(32);
      expect(res.headers['cache-control']).toBe('no-store');

      const one = await api.get(`/v1/webhook-endpoints/${created.id}`, manager);
      expect(one.status).toBe(200);
      expect(one.body).not.toHaveProperty('secret');
      expect(endpointSchema.parse(one.body)).toEqual(endpointSchema.parse(created));
      const list = endpointPageSchema.parse((await api.get('/v1/webhook-endpoints', manager)).body);
      expect(list.data.map((endpoint) => endpoint.id)).toContain(created.id);
      expect(JSON.stringify(list)).not.toContain(created.secret);

      const patched = await api.patch(`/v1/webhook-endpoints/${created.id}`, { events: ['order.updated'], enabled: false }, manager);
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body).not.toHaveProperty('secret');
      expect(endpointSchema.parse(patched.body)).toMatchObject({ events: ['order.updated'], enabled: false });
      const renamed = await api.patch(`/v1/webhook-endpoints/${created.id}`, { url: receiver.url('/crud-2') }, manager);
      expect(renamed.body).toMatchObject({ url: receiver.url('/crud-2'), events: ['order.updated'] });

      expect((await api.delete(`/v1/webhook-endpoints/${created.id}`, manager)).status).toBe(204);
      problem(await api.get(`/v1/webhook-endpoints/${created.id}`, manager), 404, 'not_found');
      problem(await api.delete(`/v1/webhook-endpoints/${created.id}`, manager), 404, 'not_found');
    });

    it('refuse events that are missing, repeated or unknown, and URLs that are not http(s)', async () => {
      const create = (body: object) => api.post('/v1/webhook-endpoints', body, manager);
      expect(problem(await create({ url: receiver.url('/x'), events: [] }), 400, 'validation_failed').errors?.[0]?.path).toBe('events');
      expect(problem(await create({ url: receiver.url('/x'), events: ['order.paid', 'order.paid'] }), 400, 'validation_failed').errors?.[0]?.path).toBe(
        'events.1',
      );
      expect(problem(await create({ url: receiver.url('/x'), events: ['order.shipped'] }), 400, 'validation_failed').errors?.[0]?.path).toBe('events.0');
      for (const url of ['ftp://files.example.com/hook', 'not a url', 'https://user:pass@pos.example.com/hook', '', `https://${'a'.repeat(2050)}.com`]) {
        expect(problem(await create({ url, events: ['order.paid'] }), 400, 'validation_failed').errors?.[0]?.path, url).toBe('url');
      }
      problem(await create({ url: receiver.url('/x'), events: ['order.paid'], secret: 'mine' }), 400, 'validation_failed');
      problem(await create({ events: ['order.paid'] }), 400, 'validation_failed');
      const endpoint = await newEndpoint(['order.paid'], '/validation');
      problem(await api.patch(`/v1/webhook-endpoints/${endpoint.id}`, { events: [] }, manager), 400, 'validation_failed');
      problem(await api.patch(`/v1/webhook-endpoints/${endpoint.id}`, { enabled: 'yes' }, manager), 400, 'validation_failed');
      problem(await api.get('/v1/webhook-endpoints/abc', manager), 400, 'validation_failed');
      await api.delete(`/v1/webhook-endpoints/${endpoint.id}`, manager);
    });

    it('are for managers only: kitchen staff and customers get 403, anonymous callers 401', async () => {
      const endpoint = await newEndpoint(['order.paid'], '/roles');
      for (const user of [kitchen, customer]) {
        problem(await api.post('/v1/webhook-endpoints', { url: receiver.url('/x'), events: ['order.paid'] }, user), 403, 'forbidden');
        problem(await api.get('/v1/webhook-endpoints', user), 403, 'forbidden');
        problem(await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`, user), 403, 'forbidden');
        problem(await api.patch(`/v1/webhook-endpoints/${endpoint.id}`, { enabled: false }, user), 403, 'forbidden');
        problem(await api.delete(`/v1/webhook-endpoints/${endpoint.id}`, user), 403, 'forbidden');
        problem(await api.post('/v1/webhook-deliveries/1/redeliver', {}, user), 403, 'forbidden');
      }
      problem(await api.get('/v1/webhook-endpoints'), 401, 'unauthenticated');
      await api.delete(`/v1/webhook-endpoints/${endpoint.id}`, manager);
    });

    it("of one restaurant are invisible and untouchable through another's domain", async () => {
      const endpoint = await newEndpoint(['order.paid'], '/tenants');
      const theirs = await newEndpoint(['order.paid'], '/tenants-other', otherManager, otherApi);
      problem(await otherApi.get(`/v1/webhook-endpoints/${endpoint.id}`, otherManager), 404, 'not_found');
      problem(await otherApi.patch(`/v1/webhook-endpoints/${endpoint.id}`, { enabled: false }, otherManager), 404, 'not_found');
      problem(await otherApi.delete(`/v1/webhook-endpoints/${endpoint.id}`, otherManager), 404, 'not_found');
      problem(await otherApi.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`, otherManager), 404, 'not_found');
      // A manager of this restaurant is nobody there.
      problem(await otherApi.get('/v1/webhook-endpoints', manager), 403, 'forbidden');
      const theirList = endpointPageSchema.parse((await otherApi.get('/v1/webhook-endpoints', otherManager)).body);
      expect(theirList.data.map((e) => e.id)).toEqual([theirs.id]);
      expect((await api.get(`/v1/webhook-endpoints/${endpoint.id}`, manager)).body.enabled).toBe(true);
      await api.delete(`/v1/webhook-endpoints/${endpoint.id}`, manager);
      await otherApi.delete(`/v1/webhook-endpoints/${theirs.id}`, otherManager);
    });
  });

  describe('deliveries', () => {
    let endpoint: Awaited<ReturnType<typeof newEndpoint>>;
    let ingredientId: number;

    beforeAll(async () => {
      endpoint = await newEndpoint(['ingredient.low_stock', 'ingredient.out_of_stock'], '/stock');
      ingredientId = await insertIngredientRow(knex, restaurantId, { name: 'Basil', stock: 10, low_stock_threshold: 5 });
    });

    it('reach a receiver that fails 3 times, signed, with the same event id every time', async () => {
      receiver.answer('/stock', [500, 503, 502]);
      await adjust(ingredientId, -6); // 10 → 4: at or below 5
      expect(await runDueDeliveries()).toBe(1);
      let [delivery] = await deliveriesOf(endpoint.id);
      expect(delivery).toMatchObject({ event: 'ingredient.low_stock', status: 'pending', attempts: 1, last_status_code: 500 });
      expect(new Date(delivery.next_attempt_at).getTime()).toBe(now.getTime() + MINUTE);

      // Not due yet: nothing is sent.
      expect(await runDueDeliveries()).toBe(0);
      advance(MINUTE + 1_000);
      expect(await runDueDeliveries()).toBe(1);
      advance(5 * MINUTE + 1_000);
      expect(await runDueDeliveries()).toBe(1);
      [delivery] = await deliveriesOf(endpoint.id);
      expect(delivery).toMatchObject({ status: 'pending', attempts: 3, last_status_code: 502 });
      expect(new Date(delivery.next_attempt_at).getTime()).toBe(now.getTime() + 30 * MINUTE);
      advance(30 * MINUTE + 1_000);
      expect(await runDueDeliveries()).toBe(1);

      [delivery] = await deliveriesOf(endpoint.id);
      expect(delivery).toMatchObject({ status: 'succeeded', attempts: 4, last_status_code: 200, last_error: null, next_attempt_at: null });
      const posts = receiver.at('/stock');
      expect(posts).toHaveLength(4);
      for (const post of posts) {
        expect(post.headers['content-type']).toBe('application/json');
        expect(post.headers['user-agent']).toMatch(/^Tablekit-Webhooks\//);
        expect(post.headers['tablekit-event-id']).toBe(String(delivery.event_id));
        expect(post.body).toBe(posts[0]?.body);
        const signature = String(post.headers['tablekit-signature']);
        expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        const signedAt = Number(/^t=(\d+)/.exec(signature)?.[1]);
        expect(verifySignature(endpoint.secret, signature, post.body, { nowSeconds: signedAt })).toBe(true);
      }
      const body = webhookEventBodySchema.parse(JSON.parse(posts[0]?.body ?? ''));
      expect(body).toMatchObject({ id: delivery.event_id, type: 'ingredient.low_stock' });
      // The staff view of the ingredient, as GET /v1/ingredients/{id} shows it to staff.
      expect(body.data).toEqual({
        ingredient: {
          id: ingredientId,
          name: 'Basil',
          description: '',
          unit: 'piece',
          price_cents: 100,
          available: true,
          stock: 4,
          low_stock_threshold: 5,
          allergens: [],
          vegan: false,
          vegetarian: false,
          unavailable_until: null,
        },
      });
    });

    it('are sent again on request: 202, then a new attempt with the same event id and body', async () => {
      const [delivery] = await deliveriesOf(endpoint.id);
      const before = receiver.at('/stock').length;
      const res = await api.post(`/v1/webhook-deliveries/${delivery.id}/redeliver`, {}, manager);
      expect(res.status, res.text).toBe(202);
      expect(deliverySchema.parse(res.body)).toMatchObject({ id: delivery.id, status: 'pending', attempts: 4 });
      expect(await runDueDeliveries()).toBe(1);
      const posts = receiver.at('/stock');
      expect(posts).toHaveLength(before + 1);
      expect(posts.at(-1)?.headers['tablekit-event-id']).toBe(String(delivery.event_id));
      expect(posts.at(-1)?.body).toBe(posts[0]?.body);
      expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ id: delivery.id, status: 'succeeded', attempts: 5 });
      // A copy of that message (at-least-once) posts nothing more.
      const row = await knex('outbox').where({ type: 'webhook.delivery_requested' }).orderBy('id', 'desc').first();
      await worker.handle({ Body: JSON.stringify(toQueueMessage(row)) });
      expect(receiver.at('/stock')).toHaveLength(before + 1);

      problem(await otherApi.post(`/v1/webhook-deliveries/${delivery.id}/redeliver`, {}, otherManager), 404, 'not_found');
      problem(await api.post('/v1/webhook-deliveries/999999999/redeliver', {}, manager), 404, 'not_found');
      problem(await otherApi.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`, otherManager), 404, 'not_found');
    });

    it('fire ingredient.low_stock once per crossing, and again only after a restock above the threshold', async () => {
      expect(await eventsOf('ingredient.low_stock')).toHaveLength(1); // 10 → 4 above
      await adjust(ingredientId, -1); // 4 → 3: still low, no new event
      expect(await eventsOf('ingredient.low_stock')).toHaveLength(1);
      await adjust(ingredientId, 2); // 3 → 5: restocked, but not above 5
      await adjust(ingredientId, -1); // 5 → 4
      expect(await eventsOf('ingredient.low_stock')).toHaveLength(1);
      await adjust(ingredientId, 10); // 4 → 14: above
      await adjust(ingredientId, -9); // 14 → 5: crossed again
      expect(await eventsOf('ingredient.low_stock')).toHaveLength(2);
      expect(await eventsOf('ingredient.out_of_stock')).toHaveLength(0);
      await adjust(ingredientId, -5); // 5 → 0
      expect(await eventsOf('ingredient.out_of_stock')).toHaveLength(1);
      expect(await eventsOf('ingredient.low_stock')).toHaveLength(2);
      await runDueDeliveries();
      const delivered = receiver.at('/stock').map((post) => JSON.parse(post.body) as { type: string; data: { ingredient: { stock: number } } });
      expect(delivered.slice(-2).map((event) => [event.type, event.data.ingredient.stock])).toEqual([
        ['ingredient.low_stock', 5],
        ['ingredient.out_of_stock', 0],
      ]);
      // A rolled-back change sends nothing: a withdrawal beyond the stock is refused whole.
      problem(await api.post(`/v1/ingredients/${ingredientId}/adjustments`, { delta: -1, reason: 'waste' }, kitchen), 409, 'insufficient_stock');
      expect(await eventsOf('ingredient.out_of_stock')).toHaveLength(1);
    });

    it('go only to enabled endpoints subscribed to the event, in its restaurant', async () => {
      const other = await newEndpoint(['ingredient.low_stock'], '/theirs', otherManager, otherApi);
      const switchedOff = await newEndpoint(['ingredient.low_stock'], '/off');
      await api.patch(`/v1/webhook-endpoints/${switchedOff.id}`, { enabled: false }, manager);
      const elsewhere = await newEndpoint(['order.paid'], '/elsewhere');
      await adjust(ingredientId, 20); // 0 → 20
      await adjust(ingredientId, -16); // 20 → 4: a crossing
      await runDueDeliveries();
      expect(receiver.at('/theirs')).toHaveLength(0);
      expect(receiver.at('/off')).toHaveLength(0);
      expect(receiver.at('/elsewhere')).toHaveLength(0);
      expect(await deliveriesOf(switchedOff.id)).toEqual([]);
      await otherApi.delete(`/v1/webhook-endpoints/${other.id}`, otherManager);
      await api.delete(`/v1/webhook-endpoints/${switchedOff.id}`, manager);
      await api.delete(`/v1/webhook-endpoints/${elsewhere.id}`, manager);
    });

    it('count a redirect as a failure and do not follow it', async () => {
      const redirected = await newEndpoint(['restaurant.resumed'], '/redirect');
      receiver.answer('/redirect', [307]);
      await knex.transaction((trx) => emitRestaurantEvent(trx, restaurantId, 'restaurant.resumed', { restaurant: { id: restaurantId } }));
      await runDueDeliveries();
      const [delivery] = await deliveriesOf(redirected.id);
      expect(delivery).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 307, last_error: 'answered 307 (redirects are not followed)' });
      expect(receiver.at('/redirect')).toHaveLength(1);
      await api.delete(`/v1/webhook-endpoints/${redirected.id}`, manager);
    });

    it('switch an endpoint off after 3 days of nothing but failures', async () => {
      const failing = await newEndpoint(['restaurant.paused'], '/down');
      receiver.answer(
        '/down',
        Array.from({ length: 50 }, () => 503),
      );
      const pause = (reason: string) =>
        knex.transaction((trx) => emitRestaurantEvent(trx, restaurantId, 'restaurant.paused', { restaurant: { id: restaurantId }, reason }));

      expect(await pause('busy')).toEqual(expect.any(Number));
      await runDueDeliveries();
      advance(2 * 24 * 60 * MINUTE);
      // Retries over two days (and more events) all fail; the endpoint stays on meanwhile.
      await runDueDeliveries();
      await pause('still busy');
      await runDueDeliveries();
      expect((await api.get(`/v1/webhook-endpoints/${failing.id}`, manager)).body).toMatchObject({ enabled: true, disabled_reason: null });

      advance(24 * 60 * MINUTE + MINUTE);
      await pause('storm');
      await runDueDeliveries();
      const disabled = endpointSchema.parse((await api.get(`/v1/webhook-endpoints/${failing.id}`, manager)).body);
      expect(disabled).toMatchObject({ enabled: false, disabled_reason: 'every delivery failed for 3 days' });

      // What was still planned is not attempted any more; what failed stays failed.
      const posted = receiver.at('/down').length;
      advance(13 * 60 * MINUTE);
      await runDueDeliveries();
      expect(receiver.at('/down')).toHaveLength(posted);
      const deliveries = await deliveriesOf(failing.id);
      expect(deliveries.map((d: { status: string }) => d.status)).toEqual(['failed', 'failed', 'failed']);
      problem(await api.post(`/v1/webhook-deliveries/${deliveries[0].id}/redeliver`, {}, manager), 409, 'conflict');

      // Switched on again, it starts afresh and can be redelivered to.
      const enabled = await api.patch(`/v1/webhook-endpoints/${failing.id}`, { enabled: true }, manager);
      expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
      receiver.answer('/down', []);
      expect((await api.post(`/v1/webhook-deliveries/${deliveries[0].id}/redeliver`, {}, manager)).status).toBe(202);
      await runDueDeliveries();
      expect((await deliveriesOf(failing.id))[0]).toMatchObject({ status: 'succeeded' });
      await api.delete(`/v1/webhook-endpoints/${failing.id}`, manager);
    });

    it('lists deliveries newest first, a page at a time', async () => {
      const paged = await newEndpoint(['restaurant.resumed'], '/paged');
      for (let i = 0; i < 3; i += 1)
        await knex.transaction((trx) => emitRestaurantEvent(trx, restaurantId, 'restaurant.resumed', { restaurant: { id: restaurantId } }));
      const all = await deliveriesOf(paged.id);
      expect(all).toHaveLength(3);
      expect(all.map((d: { id: number }) => d.id)).toEqual([...all.map((d: { id: number }) => d.id)].sort((a, b) => b - a));
      const first = await api.get(`/v1/webhook-endpoints/${paged.id}/deliveries?limit=2`, manager);
      expect(first.body).toHaveLength(2);
      const rest = await api.get(`/v1/webhook-endpoints/${paged.id}/deliveries?limit=2&before=${first.body[1].id}`, manager);
      expect(rest.body.map((d: { id: number }) => d.id)).toEqual([all[2].id]);
      problem(await api.get(`/v1/webhook-endpoints/${paged.id}/deliveries?limit=0`, manager), 400, 'validation_failed');
      await runDueDeliveries();
      await api.delete(`/v1/webhook-endpoints/${paged.id}`, manager);
    });
  });

  describe('in production', () => {
    let production: TestApp;
    let prodApi: CatalogClient;

    beforeAll(async () => {
      production = await createTestApp({ production: true, besideApp: t });
      prodApi = catalogClient(production.app, 'hooks.example.com');
    });
    afterAll(async () => {
      await production.close();
    });

    it('refuses URLs that are not https or that reach this host, a private network or the metadata service', async () => {
      for (const url of [
        'https://localhost/hook',
        'https://127.0.0.1/hook',
        'https://[::1]/hook',
        'https://[::ffff:127.0.0.1]/hook',
        'https://169.254.169.254/latest/meta-data/',
        'https://10.0.0.8/hook',
        'https://[fd00:ec2::254]/',
        'http://93.184.216.34/hook',
      ]) {
        const res = await prodApi.post('/v1/webhook-endpoints', { url, events: ['order.paid'] }, manager);
        expect(problem(res, 400, 'validation_failed').errors?.[0]?.path, url).toBe('url');
      }
      const allowed = await createEndpoint(
        knex,
        restaurantId,
        { url: 'https://pos.example.net/hook', events: ['order.paid'] },
        {
          production: true,
          resolve: async () => [{ address: '93.184.216.34', family: 4 }],
        },
      );
      const res = await prodApi.patch(`/v1/webhook-endpoints/${allowed.id}`, { url: 'https://localhost/hook' }, manager);
      expect(problem(res, 400, 'validation_failed').errors?.[0]?.path).toBe('url');
      await prodApi.delete(`/v1/webhook-endpoints/${allowed.id}`, manager);
    });

    it('checks again when delivering: a host that now resolves to 127.0.0.1 is not posted to', async () => {
      let answer = '93.184.216.34';
      const resolve = async () => [{ address: answer, family: 4 as const }];
      const endpoint = await createEndpoint(
        knex,
        restaurantId,
        { url: `https://rebinding.example.net:${receiver.port}/rebound`, events: ['restaurant.resumed'] },
        { production: true, resolve },
      );
      await knex.transaction((trx) => emitRestaurantEvent(trx, restaurantId, 'restaurant.resumed', { restaurant: { id: restaurantId } }));
      const [delivery] = await knex('webhook_deliveries').where({ restaurant_id: restaurantId, endpoint_id: endpoint.id });
      await knex('outbox')
        .where({ type: 'webhook.delivery_requested' })
        .whereRaw(`payload->>'delivery_id' = ?`, [String(delivery.id)])
        .update({ sent_at: knex.fn.now() });
      answer = '127.0.0.1';
      const log = captureLog('debug');
      expect(await attemptWebhookDelivery(deliveryDeps({ production: true, resolve, logger: log.logger }), restaurantId, Number(delivery.id), 1)).toBe(
        'undelivered',
      );
      expect(receiver.at('/rebound')).toHaveLength(0);
      const [after] = await deliveriesOf(endpoint.id);
      expect(after).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
      expect(after.last_error).toMatch(/^not sent: the host rebinding\.example\.net resolves to 127\.0\.0\.1/);
      // Neither the secret nor the URL (its path may carry the receiver's token) reaches the log.
      expect(log.text()).not.toContain(endpoint.secret);
      expect(log.text()).not.toContain('/rebound');
      expect(log.text()).toContain('webhook delivery failed');
      await api.delete(`/v1/webhook-endpoints/${endpoint.id}`, manager);
    });
  });

  describe('order events', () => {
    let orderApi: CatalogClient;
    let orderRestaurantId: number;
    let orderManager: SignedInUser;
    let recipeId: number;
    let relay: OrderEventWebhooks;

    const placeOrder = async (user: SignedInUser, paymentMethod: 'card' | 'cash') => {
      expect((await orderApi.post('/v1/cart/items', { recipe_id: recipeId, quantity: 1 }, user)).status).toBe(201);
      const res = await orderApi.post('/v1/orders', { fulfillment: 'pickup', payment_method: paymentMethod }, user).set('Idempotency-Key', randomUUID());
      expect(res.status, res.text).toBe(201);
      return orderSchema.parse(res.body);
    };

    beforeAll(async () => {
      orderRestaurantId = (await createRestaurant(knex, { domain: 'order-hooks.example.com' })).id;
      orderApi = catalogClient(t.app, 'order-hooks.example.com');
      orderManager = await signInStaff(t.cognito, knex, orderRestaurantId, 'manager');
      const tomato = await insertIngredientRow(knex, orderRestaurantId, { name: 'Tomato', stock: 10, low_stock_threshold: 8 });
      [recipeId] = (await insertRecipeRows(knex, orderRestaurantId, [{ name: 'Bruschetta', lines: [{ ingredient_id: tomato, quantity: 1 }] }])) as [number];
      relay = new OrderEventWebhooks({ db: knex, feed: t.live.feed, logger: silentLogger });
    });

    it('sends order.placed and order.updated for orders placed through the API, once each, from the endpoint’s creation on', async () => {
      const before = await placeOrder(customer, 'cash'); // before any endpoint: not sent
      const res = await orderApi.post(
        '/v1/webhook-endpoints',
        { url: receiver.url('/orders'), events: ['order.placed', 'order.updated', 'order.paid', 'order.refunded', 'ingredient.low_stock'] },
        orderManager,
      );
      expect(res.status, res.text).toBe(201);
      const { secret } = createdEndpointSchema.parse(res.body);

      const order = await placeOrder(customer, 'cash');
      const moved = await orderApi.post(`/v1/orders/${order.id}/transitions`, { to: 'confirmed' }, orderManager);
      expect(moved.status, moved.text).toBe(200);
      expect(await relay.relayAll()).toBe(2);
      expect(await relay.relayAll()).toBe(0); // the cursor has passed them: nothing twice
      await runDueDeliveries();

      const posts = receiver.at('/orders').map((post) => ({ post, body: webhookEventBodySchema.parse(JSON.parse(post.body)) }));
      expect(posts.map(({ body }) => body.type)).toEqual(['ingredient.low_stock', 'order.placed', 'order.updated']);
      const current = orderSchema.parse((await orderApi.get(`/v1/orders/${order.id}`, orderManager)).body);
      const placed = posts[1]?.body.data as { order: Record<string, unknown> };
      expect(placed.order).toMatchObject({
        id: order.id,
        items: current.items,
        total_cents: current.total_cents,
        latest_event: { status: 'pending', actor: 'customer', reason: null },
      });
      const updated = posts[2]?.body.data as { order: Record<string, unknown> };
      expect(updated.order).toMatchObject({ ...current, latest_event: { status: 'confirmed', actor: 'staff' } });
      expect(
        posts.every(({ post }) =>
          verifySignature(secret, String(post.headers['tablekit-signature']), post.body, { nowSeconds: Math.floor(now.getTime() / 1000) }),
        ),
      ).toBe(true);
      expect(posts.some(({ body }) => (body.data as { order?: { id: number } }).order?.id === before.id)).toBe(false);
      const fromOrderEvents = await knex('webhook_events').where({ restaurant_id: orderRestaurantId }).whereNotNull('order_event_id');
      expect(fromOrderEvents).toHaveLength(2);
    });

    it('sends order.paid when a card order is paid, and order.refunded for a refund', async () => {
      const order = await placeOrder(customer, 'card');
      const paid = await orderApi.post(`/v1/orders/${order.id}/payments`, { payment_token: 'tok_visa' }, customer).set('Idempotency-Key', randomUUID());
      expect(paid.status, paid.text).toBe(201);
      const refund = await orderApi.post(`/v1/payments/${paid.body.id}/refunds`, { amount_cents: 1 }, orderManager).set('Idempotency-Key', randomUUID());
      expect(refund.status, refund.text).toBe(201);
      await relay.relayAll();
      await runDueDeliveries();
      const bodies = receiver.at('/orders').map((post) => JSON.parse(post.body) as { type: string; data: { order?: { id: number; payment_status: string } } });
      const aboutThisOrder = bodies.filter((body) => body.data.order?.id === order.id);
      expect(aboutThisOrder.map((body) => [body.type, body.data.order?.payment_status])).toEqual([
        ['order.paid', 'paid'],
        ['order.refunded', 'partially_refunded'],
        ['order.placed', 'partially_refunded'],
      ]);
    });

    it('reaches the receiver end to end through the outbox, SQS and the worker, woken by the order feed', async () => {
      const { startEmbeddedSqs, embeddedSqsClientConfig } = await import('../src/local/sqs.js');
      const sqs = await startEmbeddedSqs({ visibilityTimeoutSeconds: 5 });
      const client = new SQSClient(embeddedSqsClientConfig(sqs, 'us-east-1'));
      const metrics = createMetrics(knex);
      // Only webhook rows are left for this relay: the confirmations of earlier tests are not its business.
      await knex('outbox').whereNull('sent_at').update({ sent_at: knex.fn.now() });
      const outbox = new OutboxRelay({ db: knex, sqs: client, queueUrl: sqs.queueUrl, logger: silentLogger, metrics, idleDelayMs: 20 });
      const live = new OrderWorker({
        confirmOrder: (r, o) => confirmOrderBySystem(knex, r, o),
        deliverWebhook: (r, d, a) => attemptWebhookDelivery({ db: knex, logger: silentLogger, production: false, timeoutMs: 2_000 }, r, d, a),
        sqs: client,
        queueUrl: sqs.queueUrl,
        deadLetterQueueUrl: sqs.deadLetterQueueUrl,
        batchSize: 1,
        logger: silentLogger,
        metrics,
        waitTimeSeconds: 1,
      });
      const following = new OrderEventWebhooks({ db: knex, feed: t.live.feed, logger: silentLogger, sweepIntervalMs: 60_000 });
      outbox.start();
      live.start();
      following.start();
      try {
        const before = receiver.at('/orders').length;
        const order = await placeOrder(customer, 'cash');
        const started = Date.now();
        // Placed, then confirmed by the same worker: both arrive.
        while (
          receiver
            .at('/orders')
            .slice(before)
            .filter((post) => post.body.includes('"order.updated"')).length === 0
        ) {
          if (Date.now() - started > 20_000)
            throw new Error(
              `timed out; got ${receiver
                .at('/orders')
                .slice(before)
                .map((post) => post.body.slice(0, 60))
                .join(' | ')}`,
            );
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const types = receiver
          .at('/orders')
          .slice(before)
          .map((post) => JSON.parse(post.body) as { type: string; data: { order: { id: number; latest_event: { status: string } } } });
        expect(types.filter((body) => body.data.order.id === order.id).map((body) => [body.type, body.data.order.latest_event.status])).toEqual([
          ['order.placed', 'pending'],
          ['order.updated', 'confirmed'],
        ]);
      } finally {
        await following.stop();
        await outbox.stop();
        await live.stop();
        client.destroy();
        await sqs.stop();
      }
    });

    it('turns each order event into one webhook event when two instances relay at once', async () => {
      const customerRow = await createCustomer(knex, orderRestaurantId);
      const orders = await Promise.all(
        Array.from({ length: 20 }, () => createPlacedOrder(knex, { restaurantId: orderRestaurantId, customerId: customerRow.id, enqueueConfirmation: false })),
      );
      const instanceA = new OrderEventWebhooks({ db: knex, feed: t.live.feed, logger: silentLogger });
      const instanceB = new OrderEventWebhooks({ db: knex, feed: t.live.feed, logger: silentLogger });
      const written = await Promise.all([instanceA.relayRestaurant(orderRestaurantId), instanceB.relayRestaurant(orderRestaurantId), instanceA.relayAll()]);
      expect(written.reduce((sum, n) => sum + n, 0)).toBe(20);
      const events = await knex('webhook_events')
        .where({ restaurant_id: orderRestaurantId, type: 'order.placed' })
        .whereRaw(`(data->'order'->>'id')::bigint = ANY(?::bigint[])`, [orders.map((order) => order.id)]);
      expect(events).toHaveLength(20);
      await runDueDeliveries();
    });

    it('keeps one cursor per restaurant however many endpoints it has', async () => {
      const second = await orderApi.post('/v1/webhook-endpoints', { url: receiver.url('/orders-2'), events: ['order.placed'] }, orderManager);
      expect(second.status).toBe(201);
      expect(await knex('webhook_order_cursors').where({ restaurant_id: orderRestaurantId })).toHaveLength(1);
    });
  });
});
