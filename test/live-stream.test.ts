import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';
import { insertIngredientRow, insertRecipeRows } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { onRealPostgres } from './support/database.js';
import { captureLog, type CapturedLog } from './support/log-capture.js';
import { openSse, type SseConnection, type SseFrame } from './support/sse.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { orderStreamEventSchema, streamTicketSchema } from '../src/modules/live/schemas.js';
import { orderSchema } from '../src/modules/orders/schemas.js';

const listen = (t: TestApp) =>
  new Promise<{ server: Server; base: string }>((resolve) => {
    const server = t.app.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

const dataOf = (frame: SseFrame) => orderStreamEventSchema.parse(JSON.parse(frame.data ?? 'null'));

/** A restaurant with one dish on the menu, its staff and two customers, reached through one app. */
async function openRestaurant(t: TestApp, domain: string) {
  const restaurant = await createRestaurant(t.db.knex, { domain });
  const bun = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Bun', stock: 10_000 });
  const [dish] = (await insertRecipeRows(t.db.knex, restaurant.id, [{ name: 'Burger', lines: [{ ingredient_id: bun, quantity: 1 }] }])) as [number];
  const kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
  return { restaurant, domain, dish, kitchen };
}

type Restaurant = Awaited<ReturnType<typeof openRestaurant>>;

/** Places an order through the API as the customer does: a cart line, then checkout. */
async function placeOrder(app: TestApp['app'], r: Restaurant, customer: SignedInUser): Promise<number> {
  const line = await request(app)
    .post('/v1/cart/items')
    .set('X-Restaurant-Domain', r.domain)
    .set('Authorization', customer.auth)
    .send({ recipe_id: r.dish, quantity: 1 });
  expect(line.status, line.text).toBe(201);
  const placed = await request(app)
    .post('/v1/orders')
    .set('X-Restaurant-Domain', r.domain)
    .set('Authorization', customer.auth)
    .set('Idempotency-Key', randomUUID())
    .send({ fulfillment: 'pickup', payment_method: 'cash' });
  expect(placed.status, placed.text).toBe(201);
  return orderSchema.parse(placed.body).id;
}

async function moveOrder(app: TestApp['app'], r: Restaurant, orderId: number, to: string): Promise<void> {
  const res = await request(app)
    .post(`/v1/orders/${orderId}/transitions`)
    .set('X-Restaurant-Domain', r.domain)
    .set('Authorization', r.kitchen.auth)
    .send({ to });
  expect(res.status, res.text).toBe(200);
}

const FORWARD = ['confirmed', 'preparing', 'ready', 'completed'] as const;

describe('GET /v1/orders/stream', () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  let log: CapturedLog;
  let a: Restaurant;
  let b: Restaurant;
  let alice: SignedInUser;
  let bob: SignedInUser;
  let offsetMs = 0;
  const open: SseConnection[] = [];

  const stream = async (r: Restaurant, user: SignedInUser, headers: Record<string, string> = {}, query = '') => {
    const connection = await openSse(`${base}/v1/orders/stream${query}`, { 'X-Restaurant-Domain': r.domain, Authorization: user.auth, ...headers });
    open.push(connection);
    return connection;
  };

  beforeAll(async () => {
    log = captureLog('info');
    t = await createTestApp({ logger: log.logger, heartbeatMs: 200, maxStreams: 50, clock: () => new Date(Date.now() + offsetMs) });
    ({ server, base } = await listen(t));
    a = await openRestaurant(t, 'live-a.example.com');
    b = await openRestaurant(t, 'live-b.example.com');
    alice = await signInCustomer(t.cognito);
    bob = await signInCustomer(t.cognito);
  });
  afterAll(async () => {
    for (const connection of open) connection.close();
    await closeServer(server);
    await t.close();
  });

  it('sends staff order.placed when an order is placed and order.updated when it moves, with the order and its latest event', async () => {
    const kitchen = await stream(a, a.kitchen);
    expect(kitchen.status).toBe(200);
    expect(kitchen.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(kitchen.headers['cache-control']).toContain('no-store');

    const orderId = await placeOrder(t.app, a, alice);
    await moveOrder(t.app, a, orderId, 'confirmed');
    const [placed, confirmed] = await kitchen.waitForEvents(2);
    expect(placed?.event).toBe('order.placed');
    expect(confirmed?.event).toBe('order.updated');
    expect(Number(confirmed?.id)).toBeGreaterThan(Number(placed?.id));

    const placedData = dataOf(placed!);
    expect(placedData.id).toBe(orderId);
    expect(placedData.items).toEqual([expect.objectContaining({ name: 'Burger', quantity: 1 })]);
    expect(placedData.latest_event).toEqual({ status: 'pending', at: expect.any(String), actor: 'customer', reason: null });
    const confirmedData = dataOf(confirmed!);
    expect(confirmedData.status).toBe('confirmed');
    expect(confirmedData.latest_event).toMatchObject({ status: 'confirmed', actor: 'staff' });

    // The data is the order as GET /v1/orders/{id} shows it.
    const got = await request(t.app).get(`/v1/orders/${orderId}`).set('X-Restaurant-Domain', a.domain).set('Authorization', a.kitchen.auth);
    const { latest_event: _latest, ...order } = confirmedData;
    expect(order).toEqual(got.body);

    // The event ids are those of the order's history.
    const ids = (await t.db.knex('order_events').where({ order_id: orderId }).orderBy('id').pluck('id')).map(Number);
    expect([placed?.id, confirmed?.id].map(Number)).toEqual(ids);
    kitchen.close();
  });

  it('sends a comment line as a heartbeat and starts with a reconnection delay', async () => {
    const kitchen = await stream(a, a.kitchen);
    await kitchen.waitForFrame((frame) => frame.comment !== undefined, 2_000);
    expect(kitchen.frames[0]).toEqual({ retry: expect.any(Number) });
    expect(kitchen.events()).toEqual([]);
    kitchen.close();
  });

  it('replays exactly the 20 changes after Last-Event-ID, in order and once each, then goes on live', async () => {
    const first = await stream(a, a.kitchen);
    const orderId = await placeOrder(t.app, a, alice);
    const [placed] = await first.waitForEvents(1);
    first.close();
    await first.ended;

    // 20 changes while the client is away: the first order's 4 moves and 4 more orders with their moves.
    const expected: string[] = [];
    for (const to of FORWARD) {
      await moveOrder(t.app, a, orderId, to);
      expected.push(`${orderId}:${to}`);
    }
    for (let n = 0; n < 4; n += 1) {
      const another = await placeOrder(t.app, a, bob);
      expected.push(`${another}:pending`);
      for (const to of FORWARD.slice(0, 3)) {
        await moveOrder(t.app, a, another, to);
        expected.push(`${another}:${to}`);
      }
    }
    expect(expected).toHaveLength(20);

    const resumed = await stream(a, a.kitchen, { 'Last-Event-ID': placed!.id! });
    const replayed = await resumed.waitForEvents(20);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resumed.events()).toHaveLength(20);
    expect(replayed.map((frame) => `${dataOf(frame).id}:${dataOf(frame).latest_event.status}`)).toEqual(expected);
    const ids = replayed.map((frame) => Number(frame.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(20);

    const live = await placeOrder(t.app, a, alice);
    const after = await resumed.waitForEvents(21);
    expect(dataOf(after[20]!)).toMatchObject({ id: live, latest_event: { status: 'pending' } });
    resumed.close();
  });

  it('takes last_event_id from the query when there is no header, and the header when there are both', async () => {
    const first = await stream(a, a.kitchen);
    const orderId = await placeOrder(t.app, a, alice);
    await moveOrder(t.app, a, orderId, 'confirmed');
    const [placed, confirmed] = await first.waitForEvents(2);
    first.close();

    const byQuery = await stream(a, a.kitchen, {}, `?last_event_id=${placed!.id}`);
    expect((await byQuery.waitForEvents(1)).map((frame) => frame.id)).toEqual([confirmed!.id]);
    const both = await stream(a, a.kitchen, { 'Last-Event-ID': confirmed!.id! }, `?last_event_id=${placed!.id}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(both.events()).toEqual([]);
    byQuery.close();
    both.close();

    const bad = await stream(a, a.kitchen, { 'Last-Event-ID': 'yesterday' });
    expect(bad.status).toBe(400);
    await bad.ended;
    expect(JSON.parse(bad.text()).code).toBe('validation_failed');
  });

  it('replays at most 24 hours: from an older event it starts 24 hours ago', async () => {
    const first = await stream(a, a.kitchen);
    const orderIds = [await placeOrder(t.app, a, alice), await placeOrder(t.app, a, alice), await placeOrder(t.app, a, alice)];
    const frames = await first.waitForEvents(3);
    first.close();
    // The first two happened 30 hours ago.
    const old = new Date(Date.now() - 30 * 3_600_000);
    await t.db
      .knex('order_events')
      .whereIn(
        'id',
        frames.slice(0, 2).map((frame) => Number(frame.id)),
      )
      .update({ created_at: old });

    const resumed = await stream(a, a.kitchen, { 'Last-Event-ID': frames[0]!.id! });
    const replayed = await resumed.waitForEvents(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resumed.events().map((frame) => dataOf(frame).id)).toEqual([orderIds[2]]);
    expect(replayed[0]?.id).toBe(frames[2]?.id);
    resumed.close();
  });

  it('gives a customer only their own orders, and staff every order of their restaurant only', async () => {
    const alices = await stream(a, alice);
    const bobs = await stream(a, bob);
    const kitchenA = await stream(a, a.kitchen);
    const kitchenB = await stream(b, b.kitchen);

    const aliceOrder = await placeOrder(t.app, a, alice);
    const bobOrder = await placeOrder(t.app, a, bob);
    await moveOrder(t.app, a, aliceOrder, 'confirmed');
    await moveOrder(t.app, a, bobOrder, 'confirmed');
    // Bob orders at the other restaurant too.
    const bobOrderAtB = await placeOrder(t.app, b, bob);

    expect((await alices.waitForEvents(2)).map((frame) => dataOf(frame).id)).toEqual([aliceOrder, aliceOrder]);
    expect((await bobs.waitForEvents(2)).map((frame) => dataOf(frame).id)).toEqual([bobOrder, bobOrder]);
    expect((await kitchenA.waitForEvents(4)).map((frame) => dataOf(frame).id).sort()).toEqual([aliceOrder, aliceOrder, bobOrder, bobOrder].sort());
    expect((await kitchenB.waitForEvents(1)).map((frame) => dataOf(frame).id)).toEqual([bobOrderAtB]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alices.events()).toHaveLength(2);
    expect(bobs.events()).toHaveLength(2);
    expect(kitchenA.events()).toHaveLength(4);
    expect(kitchenB.events()).toHaveLength(1);
    for (const frame of alices.events()) expect(dataOf(frame).customer_id).toBe(dataOf(alices.events()[0]!).customer_id);

    // A replay is filtered the same way.
    const aliceAgain = await stream(a, alice, { 'Last-Event-ID': '1' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(new Set(aliceAgain.events().map((frame) => dataOf(frame).customer_id))).toEqual(new Set([dataOf(alices.events()[0]!).customer_id]));
    for (const connection of [alices, bobs, kitchenA, kitchenB, aliceAgain]) connection.close();
  });

  it('refuses a stream without a token or ticket, and with a bad token', async () => {
    const none = await openSse(`${base}/v1/orders/stream`, { 'X-Restaurant-Domain': a.domain });
    await none.ended;
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text()).code).toBe('unauthenticated');
    const bad = await openSse(`${base}/v1/orders/stream`, { 'X-Restaurant-Domain': a.domain, Authorization: 'Bearer not-a-token' });
    await bad.ended;
    expect(bad.status).toBe(401);
  });

  describe('stream tickets', () => {
    const ticketFor = async (r: Restaurant, user: SignedInUser) => {
      const res = await request(t.app).post('/v1/stream-tickets').set('X-Restaurant-Domain', r.domain).set('Authorization', user.auth);
      expect(res.status, res.text).toBe(201);
      expect(res.headers['cache-control']).toContain('no-store');
      return streamTicketSchema.parse(res.body);
    };
    const byTicket = async (ticket: string, headers: Record<string, string> = { 'X-Restaurant-Domain': a.domain }, extra = '') => {
      const connection = await openSse(`${base}/v1/orders/stream?ticket=${encodeURIComponent(ticket)}${extra}`, headers);
      open.push(connection);
      return connection;
    };

    it('need a signed-in caller', async () => {
      const res = await request(t.app).post('/v1/stream-tickets').set('X-Restaurant-Domain', a.domain);
      expect(res.status).toBe(401);
    });

    it('open the stream once, for the user they were issued to, valid for 60 s', async () => {
      const { ticket, expires_at: expiresAt } = await ticketFor(a, alice);
      expect(new Date(expiresAt).getTime() - Date.now()).toBeGreaterThan(55_000);
      expect(new Date(expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(60_000);

      const first = await byTicket(ticket);
      expect(first.status).toBe(200);
      // A customer's ticket gives a customer's stream: bob's order does not show, alice's does.
      await placeOrder(t.app, a, bob);
      const aliceOrder = await placeOrder(t.app, a, alice);
      expect((await first.waitForEvents(1)).map((frame) => dataOf(frame).id)).toEqual([aliceOrder]);

      const again = await byTicket(ticket);
      await again.ended;
      expect(again.status).toBe(401);
      expect(JSON.parse(again.text()).code).toBe('unauthenticated');
      first.close();
    });

    it('give staff the restaurant’s stream and resume with last_event_id', async () => {
      const first = await stream(a, a.kitchen);
      const orderId = await placeOrder(t.app, a, bob);
      await moveOrder(t.app, a, orderId, 'confirmed');
      const [placed] = await first.waitForEvents(2);
      first.close();
      const { ticket } = await ticketFor(a, a.kitchen);
      const resumed = await byTicket(ticket, { 'X-Restaurant-Domain': a.domain }, `&last_event_id=${placed!.id}`);
      expect((await resumed.waitForEvents(1)).map((frame) => dataOf(frame).latest_event.status)).toEqual(['confirmed']);
      resumed.close();
    });

    it('expire after 60 s', async () => {
      const { ticket } = await ticketFor(a, a.kitchen);
      offsetMs = 61_000;
      try {
        const late = await byTicket(ticket);
        await late.ended;
        expect(late.status).toBe(401);
        expect(JSON.parse(late.text()).code).toBe('unauthenticated');
      } finally {
        offsetMs = 0;
      }
    });

    it('work only at their own restaurant, and without a domain (a bare development host) take its restaurant', async () => {
      const { ticket } = await ticketFor(a, a.kitchen);
      const elsewhere = await byTicket(ticket, { 'X-Restaurant-Domain': b.domain });
      await elsewhere.ended;
      expect(elsewhere.status).toBe(401);

      const forged = await byTicket(`${b.restaurant.id}.${'A'.repeat(43)}`, { 'X-Restaurant-Domain': b.domain });
      await forged.ended;
      expect(forged.status).toBe(401);

      const { ticket: fresh } = await ticketFor(a, a.kitchen);
      const bare = await byTicket(fresh, {});
      expect(bare.status).toBe(200);
      const orderId = await placeOrder(t.app, a, alice);
      expect((await bare.waitForEvents(1)).map((frame) => dataOf(frame).id)).toEqual([orderId]);
      bare.close();
    });

    it('never reach the log', async () => {
      const { ticket } = await ticketFor(a, a.kitchen);
      const connection = await byTicket(ticket);
      connection.close();
      await connection.ended;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(log.text()).not.toContain(ticket);
      expect(log.text()).not.toContain(ticket.split('.')[1]);
      expect(log.records().some((record) => String((record.req as { url?: string } | undefined)?.url).includes('ticket=[redacted]'))).toBe(true);
    });
  });
});

describe('the limits of one instance', () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  let r: Restaurant;

  beforeAll(async () => {
    t = await createTestApp({ maxStreams: 2 });
    ({ server, base } = await listen(t));
    r = await openRestaurant(t, 'live-limits.example.com');
  });
  afterAll(async () => {
    await closeServer(server);
    await t.close();
  });

  const stream = () => openSse(`${base}/v1/orders/stream`, { 'X-Restaurant-Domain': r.domain, Authorization: r.kitchen.auth });

  it('refuses a stream past MAX_STREAMS with 503 and Retry-After, and takes one again once a place is free', async () => {
    const one = await stream();
    const two = await stream();
    expect([one.status, two.status]).toEqual([200, 200]);
    const three = await stream();
    await three.ended;
    expect(three.status).toBe(503);
    expect(three.headers['retry-after']).toBeDefined();
    expect(JSON.parse(three.text()).code).toBe('service_unavailable');

    one.close();
    await one.ended;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const four = await stream();
    expect(four.status).toBe(200);
    two.close();
    four.close();
  });

  it('ends every stream at shutdown with a retry: hint, and refuses new ones', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const kitchen = await stream();
    expect(kitchen.status).toBe(200);
    t.live.streams.closeAll();
    await kitchen.ended;
    const last = kitchen.frames.at(-1);
    expect(last?.retry).toBeGreaterThan(0);
    expect(last?.data).toBeUndefined();
    const refused = await stream();
    await refused.ended;
    expect(refused.status).toBe(503);
  });
});

describe.skipIf(!onRealPostgres)('across instances (real PostgreSQL)', () => {
  let first: TestApp;
  let second: TestApp;
  let servers: Server[];
  let baseB: string;
  let r: Restaurant;
  let customer: SignedInUser;

  beforeAll(async () => {
    first = await createTestApp();
    second = await createTestApp({ besideApp: first });
    const [a, b] = await Promise.all([listen(first), listen(second)]);
    servers = [a.server, b.server];
    baseB = b.base;
    r = await openRestaurant(first, 'live-cluster.example.com');
    customer = await signInCustomer(first.cognito);
  });
  afterAll(async () => {
    for (const server of servers) await closeServer(server);
    await second.close();
    await first.close();
  });

  const streamOnB = (user: SignedInUser, headers: Record<string, string> = {}) =>
    openSse(`${baseB}/v1/orders/stream`, { 'X-Restaurant-Domain': r.domain, Authorization: user.auth, ...headers });

  it('delivers an order placed and moved through instance A to streams open on instance B', async () => {
    const kitchenOnB = await streamOnB(r.kitchen);
    const customerOnB = await streamOnB(customer);
    const orderId = await placeOrder(first.app, r, customer);
    await moveOrder(first.app, r, orderId, 'confirmed');
    expect((await kitchenOnB.waitForEvents(2)).map((frame) => [frame.event, dataOf(frame).id, dataOf(frame).latest_event.status])).toEqual([
      ['order.placed', orderId, 'pending'],
      ['order.updated', orderId, 'confirmed'],
    ]);
    expect((await customerOnB.waitForEvents(2)).map((frame) => dataOf(frame).latest_event.status)).toEqual(['pending', 'confirmed']);
    kitchenOnB.close();
    customerOnB.close();
  });

  it('misses nothing while its LISTEN connection is down: the streams re-read once it is back', async () => {
    const kitchenOnB = await streamOnB(r.kitchen);
    const orderId = await placeOrder(first.app, r, customer);
    await kitchenOnB.waitForEvents(1);

    // Cut every listener's connection to this database (both instances'); B's reconnects on its own.
    const database = String((await first.db.knex.raw('SELECT current_database() AS name')).rows[0].name);
    await first.db.knex.raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tablekit-listener' AND datname = ?`, [database]);
    await moveOrder(first.app, r, orderId, 'confirmed');
    await moveOrder(first.app, r, orderId, 'preparing');

    const frames = await kitchenOnB.waitForEvents(3, 10_000);
    expect(frames.map((frame) => dataOf(frame).latest_event.status)).toEqual(['pending', 'confirmed', 'preparing']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(kitchenOnB.events()).toHaveLength(3);

    // And it listens again: the next change arrives as it happens.
    await expect
      .poll(
        async () =>
          Number(
            (await first.db.knex.raw(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'tablekit-listener' AND datname = ?`, [database]))
              .rows[0].n,
          ),
        { timeout: 5_000 },
      )
      .toBe(2);
    await moveOrder(first.app, r, orderId, 'ready');
    expect((await kitchenOnB.waitForEvents(4)).at(-1)?.event).toBe('order.updated');
    kitchenOnB.close();
  });

  it('keeps commit order when transactions commit out of id order, so a resume after the later id misses nothing', async () => {
    const kitchenOnB = await streamOnB(r.kitchen);
    const orderId = await placeOrder(first.app, r, customer);
    await moveOrder(first.app, r, orderId, 'confirmed');
    await kitchenOnB.waitForEvents(2);
    const otherId = await placeOrder(first.app, r, customer);
    await kitchenOnB.waitForEvents(3);

    // Transaction 1 inserts an event (taking the lower id) and stays open; transaction 2 inserts one and commits.
    const knex = first.db.knex;
    const trx1 = await knex.transaction();
    const [early] = (await trx1('order_events')
      .insert({ restaurant_id: r.restaurant.id, order_id: orderId, status: 'preparing', actor: 'staff' })
      .returning('id')) as Array<{ id: number }>;
    const [late] = (await knex('order_events')
      .insert({ restaurant_id: r.restaurant.id, order_id: otherId, status: 'confirmed', actor: 'staff' })
      .returning('id')) as Array<{ id: number }>;
    expect(Number(late?.id)).toBeGreaterThan(Number(early?.id));
    const [seen] = (await kitchenOnB.waitForEvents(4)).slice(3);
    expect(Number(seen?.id)).toBe(Number(late?.id));
    kitchenOnB.close();

    // A client that got the later event and reconnects still receives the earlier one when it commits.
    const resumed = await streamOnB(r.kitchen, { 'Last-Event-ID': String(late?.id) });
    await trx1.commit();
    expect((await resumed.waitForEvents(1)).map((frame) => Number(frame.id))).toEqual([Number(early?.id)]);
    resumed.close();
  });
});
