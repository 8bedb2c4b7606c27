import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { settableClock } from './support/clock.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { orderPageSchema, orderSchema } from '../src/modules/orders/schemas.js';

// Tuesday to Sunday lunch and dinner; Monday closed. Berlin is UTC+2 in June; 2026-06-01 is a Monday.
const bistroWeek = [
  ...(['tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({ day, opens: '12:00', closes: '14:30' })),
  ...(['tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({ day, opens: '18:00', closes: '22:30' })),
];

describe('orders for a time: ASAP, scheduled, closed, invalid and full slots over HTTP', () => {
  const clock = settableClock('2026-06-02T10:30:00Z');
  let t: TestApp;
  let api: CatalogClient;
  let restaurant: RestaurantRow;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let customers: SignedInUser[];
  let dish: number;

  const addDish = async (user: SignedInUser) => {
    const res = await api.post('/v1/cart/items', { recipe_id: dish, quantity: 1 }, user);
    expect(res.status, res.text).toBe(201);
  };
  const order = async (user: SignedInUser, extra: Record<string, unknown> = {}) => {
    await addDish(user);
    return api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash', ...extra }, user).set('Idempotency-Key', randomUUID());
  };
  const emptyCart = (user: SignedInUser) => api.delete('/v1/cart', user);
  const setHours = async (settings: Record<string, unknown> = {}) => {
    const res = await request(t.app)
      .put('/v1/restaurant/hours')
      .set('X-Restaurant-Domain', restaurant.domain)
      .set('Authorization', manager.auth)
      .send({ weekly: bistroWeek, ...settings });
    expect(res.status, res.text).toBe(200);
  };

  beforeAll(async () => {
    t = await createTestApp({ clock });
    restaurant = await createRestaurant(t.db.knex, { domain: 'slots.example.com', timezone: 'Europe/Berlin' });
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
    customers = await Promise.all(Array.from({ length: 4 }, () => signInCustomer(t.cognito)));
    const flour = await insertIngredientRow(t.db.knex, restaurant.id, { stock: 100_000 });
    [dish] = (await insertRecipeRows(t.db.knex, restaurant.id, [{ name: 'Pizza', lines: [{ ingredient_id: flour, quantity: 1 }] }])) as [number];
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    clock.set('2026-06-02T10:30:00Z'); // Tuesday 12:30 in Berlin: lunch is on
    await t.db.knex('ordering_pauses').delete();
    await t.db.knex('restaurant_closures').delete();
    await Promise.all(customers.map(emptyCart));
    await setHours();
  });

  it('an ASAP order while closed is 409 restaurant_closed with next_open_at, and nothing is ordered', async () => {
    clock.set('2026-06-01T10:00:00Z'); // Monday: closed all day
    const body = problem(await order(customers[0]!), 409, 'restaurant_closed') as { next_open_at?: string };
    expect(body.next_open_at).toBe('2026-06-02T10:00:00.000Z');
    clock.set('2026-06-02T12:20:00Z'); // Tuesday 14:20: ready after lunch closes, dinner opens at 18:00
    const later = problem(
      await api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash' }, customers[0]).set('Idempotency-Key', randomUUID()),
      409,
      'restaurant_closed',
    ) as { next_open_at?: string };
    expect(later.next_open_at).toBe('2026-06-02T16:00:00.000Z');
    // The cart is still there: nothing was ordered.
    const cart = await api.get('/v1/cart', customers[0]);
    expect(cart.body.items).toHaveLength(1);
  });

  it('an ASAP order is promised now + lead time and counts in the slot of that time', async () => {
    const res = await order(customers[0]!);
    expect(res.status, res.text).toBe(201);
    const placed = orderSchema.parse(res.body);
    expect(placed).toMatchObject({ requested_at: null, promised_at: '2026-06-02T10:50:00.000Z', slot_starts_at: '2026-06-02T10:45:00.000Z' });
    expect(orderSchema.parse((await api.get(`/v1/orders/${placed.id}`, customers[0])).body)).toMatchObject({
      requested_at: null,
      promised_at: '2026-06-02T10:50:00.000Z',
    });
  });

  it('pause then resume: ASAP is 409 during the pause (next_open_at its end), then 201; booking ahead stays possible', async () => {
    expect((await api.post('/v1/restaurant/pause', { minutes: 30 }, kitchen)).status).toBe(200);
    const body = problem(await order(customers[1]!), 409, 'restaurant_closed') as { next_open_at?: string };
    expect(body.next_open_at).toBe('2026-06-02T11:00:00.000Z');
    const ahead = await api
      .post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash', requested_at: '2026-06-02T11:15:00Z' }, customers[1])
      .set('Idempotency-Key', randomUUID());
    expect(ahead.status, ahead.text).toBe(201);
    expect((await api.delete('/v1/restaurant/pause', kitchen)).status).toBe(204);
    const res = await order(customers[1]!);
    expect(res.status, res.text).toBe(201);
  });

  it('a scheduled order for 19:30 is promised at that slot', async () => {
    const res = await order(customers[2]!, { requested_at: '2026-06-02T19:30:00+02:00' });
    expect(res.status, res.text).toBe(201);
    expect(orderSchema.parse(res.body)).toMatchObject({
      requested_at: '2026-06-02T17:30:00.000Z',
      slot_starts_at: '2026-06-02T17:30:00.000Z',
      promised_at: '2026-06-02T17:30:00.000Z',
      status: 'pending',
    });
  });

  it.each([
    ['too soon (inside the lead time)', '2026-06-02T10:45:00Z', 'too_soon'],
    ['too far (beyond order_ahead_days)', '2026-06-16T10:00:00Z', 'too_far'],
    ['off a slot boundary', '2026-06-02T17:37:00Z', 'not_a_slot_start'],
    ['outside the hours', '2026-06-02T13:00:00Z', 'outside_hours'],
    ['in a closure', '2026-06-04T10:00:00Z', 'closure'],
  ])('a requested_at %s is 422 invalid_slot, for the order and the quote alike', async (_name, requestedAt, reason) => {
    expect((await api.post('/v1/restaurant/closures', { starts_on: '2026-06-04', ends_on: '2026-06-04' }, manager)).status).toBe(201);
    const body = problem(await order(customers[3]!, { requested_at: requestedAt }), 422, 'invalid_slot');
    expect(body.errors).toEqual([{ path: 'requested_at', message: reason }]);
    problem(await api.post('/v1/cart/quote', { fulfillment: 'pickup', requested_at: requestedAt }, customers[3]), 422, 'invalid_slot');
  });

  it('requested_at that is not an instant is 400; null is ASAP', async () => {
    problem(await order(customers[3]!, { requested_at: 'tomorrow at seven' }), 400, 'validation_failed');
    const res = await api
      .post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash', requested_at: null }, customers[3])
      .set('Idempotency-Key', randomUUID());
    expect(res.status, res.text).toBe(201);
    expect(res.body.requested_at).toBeNull();
  });

  it('a full slot is 409 slot_full with next_available_slot, for the order and the quote; cancelling frees the place', async () => {
    await setHours({ max_orders_per_slot: 2 });
    const slot = '2026-06-03T18:00:00Z'; // Wednesday 20:00
    const first = await order(customers[0]!, { requested_at: slot });
    expect(first.status, first.text).toBe(201);
    expect((await order(customers[1]!, { requested_at: slot })).status).toBe(201);

    const full = problem(await order(customers[2]!, { requested_at: slot }), 409, 'slot_full') as { next_available_slot?: string | null };
    expect(full.next_available_slot).toBe('2026-06-03T18:15:00.000Z');
    const quoted = problem(await api.post('/v1/cart/quote', { fulfillment: 'pickup', requested_at: slot }, customers[2]), 409, 'slot_full') as {
      next_available_slot?: string | null;
    };
    expect(quoted.next_available_slot).toBe('2026-06-03T18:15:00.000Z');
    const slotList = await api.get('/v1/restaurant/slots?date=2026-06-03');
    expect(slotList.body.data.find((s: { starts_at: string }) => s.starts_at === '2026-06-03T18:00:00.000Z')).toMatchObject({ available: false, remaining: 0 });

    const cancelled = await api.post(`/v1/orders/${first.body.id}/cancel`, {}, customers[0]);
    expect(cancelled.status, cancelled.text).toBe(200);
    // Cancelling twice gives nothing back twice.
    problem(await api.post(`/v1/orders/${first.body.id}/cancel`, {}, customers[0]), 409, 'invalid_transition');
    expect((await api.post('/v1/cart/quote', { fulfillment: 'pickup', requested_at: slot }, customers[2])).status).toBe(200);
    const fits = await api
      .post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash', requested_at: slot }, customers[2])
      .set('Idempotency-Key', randomUUID());
    expect(fits.status, fits.text).toBe(201);
    problem(await order(customers[3]!, { requested_at: slot }), 409, 'slot_full');
    await emptyCart(customers[3]!);

    // A rejection by staff frees a place too.
    const rejected = await api.post(`/v1/orders/${fits.body.id}/transitions`, { to: 'rejected', reason: 'No dough' }, kitchen);
    expect(rejected.status, rejected.text).toBe(200);
    expect((await order(customers[3]!, { requested_at: slot })).status).toBe(201);
  });

  it('staff list what is due between two instants (on promised_at); bad ranges are 400', async () => {
    const at1930 = await order(customers[0]!, { requested_at: '2026-06-05T17:30:00Z' });
    const at2000 = await order(customers[1]!, { requested_at: '2026-06-05T18:00:00Z' });
    expect(at1930.status).toBe(201);
    expect(at2000.status).toBe(201);
    const due = await api.get('/v1/orders?due_from=2026-06-05T17:00:00Z&due_to=2026-06-05T18:00:00Z', kitchen);
    expect(due.status, due.text).toBe(200);
    expect(orderPageSchema.parse(due.body).data.map((o) => o.id)).toEqual([at1930.body.id]);
    const fromOnly = await api.get('/v1/orders?due_from=2026-06-05T17:30:00%2B00:00', kitchen);
    expect(fromOnly.body.data.map((o: { id: number }) => o.id)).toEqual([at2000.body.id, at1930.body.id]);
    problem(await api.get('/v1/orders?due_from=2026-06-05T18:00:00Z&due_to=2026-06-05T17:00:00Z', kitchen), 400, 'validation_failed');
    problem(await api.get('/v1/orders?due_from=2026-06-05T18:00:00Z&due_to=2026-06-05T18:00:00Z', kitchen), 400, 'validation_failed');
    problem(await api.get('/v1/orders?due_from=soon', kitchen), 400, 'validation_failed');
  });
});
