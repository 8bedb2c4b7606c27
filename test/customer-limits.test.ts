import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { settableClock } from './support/clock.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';

const stockOf = async (knex: Knex, id: number) => Number((await knex('ingredients').where({ id }).first()).stock);

describe('limits on one customer (issue 12 items 2, 4, 6) over HTTP', () => {
  const clock = settableClock('2026-06-02T10:30:00Z');
  let t: TestApp;
  let api: CatalogClient;
  let restaurant: RestaurantRow;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let flour: number;
  let dish: number;

  const addDish = async (user: SignedInUser, quantity = 1) => {
    const res = await api.post('/v1/cart/items', { recipe_id: dish, quantity }, user);
    expect(res.status, res.text).toBe(201);
  };
  const checkout = (user: SignedInUser, paymentMethod: 'card' | 'cash') =>
    api.post('/v1/orders', { fulfillment: 'pickup', payment_method: paymentMethod }, user).set('Idempotency-Key', randomUUID());
  const order = async (user: SignedInUser, paymentMethod: 'card' | 'cash') => {
    await addDish(user);
    return checkout(user, paymentMethod);
  };
  const pay = (user: SignedInUser, orderId: number, token: string) =>
    api.post(`/v1/orders/${orderId}/payments`, { payment_token: token }, user).set('Idempotency-Key', randomUUID());

  beforeAll(async () => {
    // The real limits (the test app loosens them by default).
    t = await createTestApp({ clock, customerLimits: { maxOpenUnpaidOrders: 3, checkoutsPerMinute: 10, paymentAttemptsPerMinute: 10 } });
    restaurant = await createRestaurant(t.db.knex, { domain: 'limits.example.com' });
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
    flour = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Flour', stock: 1000 });
    [dish] = (await insertRecipeRows(t.db.knex, restaurant.id, [{ name: 'Pizza', lines: [{ ingredient_id: flour, quantity: 2 }] }])) as [number];
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(() => {
    // A fresh minute for every test: the per-minute windows of the last one are over.
    clock.advance(2);
  });

  it('a customer holds at most 3 unpaid card orders: the 4th is 429 too_many_open_orders; cash does not count; paying or cancelling makes room', async () => {
    const hoarder = await signInCustomer(t.cognito);
    const placed: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await order(hoarder, 'card');
      expect(res.status, res.text).toBe(201);
      placed.push(res.body.id);
    }
    await addDish(hoarder);
    const stockBefore = await stockOf(t.db.knex, flour);
    problem(await checkout(hoarder, 'card'), 429, 'too_many_open_orders');
    expect(await stockOf(t.db.knex, flour)).toBe(stockBefore);
    expect((await api.get('/v1/cart', hoarder)).body.items).toHaveLength(1);
    // Cash orders are not held for a payment: they go to the kitchen, and do not count.
    expect((await checkout(hoarder, 'cash')).status).toBe(201);
    // Another customer is not affected.
    expect((await order(await signInCustomer(t.cognito), 'card')).status).toBe(201);

    expect((await api.post(`/v1/orders/${placed[0]}/cancel`, {}, hoarder)).status).toBe(200);
    expect((await order(hoarder, 'card')).status).toBe(201);
    problem(await order(hoarder, 'card'), 429, 'too_many_open_orders');
    const paid = await pay(hoarder, placed[1]!, 'tok_visa');
    expect(paid.status, paid.text).toBe(201);
    expect((await checkout(hoarder, 'card')).status).toBe(201);
  });

  it('more than 10 checkouts by one customer in a minute is 429 rate_limited with Retry-After; the next minute they may order', async () => {
    const eager = await signInCustomer(t.cognito);
    // Refused attempts count too: an empty cart is 422 each time.
    for (let i = 0; i < 10; i += 1) problem(await checkout(eager, 'cash'), 422, 'cart_empty');
    await addDish(eager);
    const limited = await checkout(eager, 'cash');
    problem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another customer has a count of their own.
    expect((await order(await signInCustomer(t.cognito), 'cash')).status).toBe(201);
    clock.advance(1);
    expect((await checkout(eager, 'cash')).status).toBe(201);
  });

  it('an order takes at most 5 failed card payments: the 6th attempt is 429 rate_limited and charges nothing', async () => {
    const tester = await signInCustomer(t.cognito);
    const placed = await order(tester, 'card');
    expect(placed.status, placed.text).toBe(201);
    for (let i = 0; i < 5; i += 1) problem(await pay(tester, placed.body.id, 'tok_chargeDeclined'), 402, 'payment_declined');
    const sixth = problem(await pay(tester, placed.body.id, 'tok_visa'), 429, 'rate_limited');
    expect(sixth.detail).not.toMatch(/decline/i);
    expect(await t.db.knex('payments').where({ order_id: placed.body.id })).toHaveLength(5);
    expect((await api.get(`/v1/orders/${placed.body.id}`, tester)).body.payment_status).toBe('unpaid');
  });

  it('a customer makes at most 10 card payment attempts a minute, across orders: the 11th is 429 rate_limited with Retry-After', async () => {
    const tester = await signInCustomer(t.cognito);
    const orders: number[] = [];
    for (let i = 0; i < 3; i += 1) orders.push((await order(tester, 'card')).body.id);
    for (let i = 0; i < 10; i += 1) {
      const res = await pay(tester, orders[i % 3]!, i < 9 ? 'tok_chargeDeclined' : 'tok_visa');
      expect([402, 201]).toContain(res.status);
    }
    const limited = await pay(tester, orders[1]!, 'tok_visa');
    problem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    clock.advance(1);
    expect((await pay(tester, orders[2]!, 'tok_visa')).status).toBe(201);
  });

  it('staff see one customer’s orders and a manager rejects all that are open at once, giving their stock back', async () => {
    const hoarder = await signInCustomer(t.cognito);
    const other = await signInCustomer(t.cognito);
    const cash = await order(hoarder, 'cash');
    const card = await order(hoarder, 'card');
    const othersOrder = await order(other, 'cash');
    const customerId = Number(cash.body.customer_id);
    // One that is already being prepared stays.
    const preparing = await order(hoarder, 'cash');
    for (const to of ['confirmed', 'preparing']) {
      const res = await api.post(`/v1/orders/${preparing.body.id}/transitions`, { to }, kitchen);
      expect(res.status, res.text).toBe(200);
    }

    const listed = await api.get(`/v1/orders?customer_id=${customerId}`, kitchen);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((o: { id: number }) => o.id)).toEqual([preparing.body.id, card.body.id, cash.body.id]);
    // A customer naming someone else sees nothing of theirs.
    expect((await api.get(`/v1/orders?customer_id=${customerId}`, other)).body.data).toEqual([]);

    problem(await api.post(`/v1/customers/${customerId}/orders/reject`, { reason: 'Hoarding' }, kitchen), 403, 'forbidden');
    problem(await api.post(`/v1/customers/${customerId}/orders/reject`, {}, hoarder), 403, 'forbidden');
    problem(await api.post('/v1/customers/999999999/orders/reject', {}, manager), 404, 'not_found');

    const stockBefore = await stockOf(t.db.knex, flour);
    const res = await api.post(`/v1/customers/${customerId}/orders/reject`, { reason: 'Hoarding' }, manager);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ rejected: [cash.body.id, card.body.id] });
    expect(await stockOf(t.db.knex, flour)).toBe(stockBefore + 4);
    for (const id of [cash.body.id, card.body.id]) expect((await api.get(`/v1/orders/${id}`, kitchen)).body.status).toBe('rejected');
    expect((await api.get(`/v1/orders/${preparing.body.id}`, kitchen)).body.status).toBe('preparing');
    expect((await api.get(`/v1/orders/${othersOrder.body.id}`, kitchen)).body.status).toBe('pending');
    const events = await api.get(`/v1/orders/${card.body.id}/events`, hoarder);
    expect(events.body.at(-1)).toMatchObject({ status: 'rejected', actor: 'staff', reason: 'Hoarding' });

    // Again: nothing is open any more, nothing is given back twice.
    const again = await api.post(`/v1/customers/${customerId}/orders/reject`, {}, manager);
    expect(again.body).toEqual({ rejected: [] });
    expect(await stockOf(t.db.knex, flour)).toBe(stockBefore + 4);
  });

  it('insufficient_stock names what is short, never how much is left', async () => {
    const buyer = await signInCustomer(t.cognito);
    const scarce = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Saffron', stock: 7 });
    const [risotto] = (await insertRecipeRows(t.db.knex, restaurant.id, [{ name: 'Risotto', lines: [{ ingredient_id: scarce, quantity: 3 }] }])) as [number];
    expect((await api.post('/v1/cart/items', { recipe_id: risotto, quantity: 3 }, buyer)).status).toBe(201);
    const body = problem(await checkout(buyer, 'cash'), 409, 'insufficient_stock');
    expect(body.detail).toContain('Saffron');
    expect(body.errors?.[0]?.message).toContain('Risotto: not enough Saffron');
    for (const text of [body.detail, ...(body.errors ?? []).map((e) => e.message)]) {
      expect(text).not.toMatch(/\b7\b|left/);
    }
  });
});
