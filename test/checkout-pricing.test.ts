import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Knex } from 'knex';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { onRealPostgres } from './support/database.js';
import { createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';

const stockOf = async (knex: Knex, id: number) => Number((await knex('ingredients').where({ id }).first()).stock);
const ledgerRows = async (knex: Knex, id: number) => (await knex('inventory_movements').where({ ingredient_id: id })).length;

/** One restaurant of the test: its API, its manager, and dishes whose prices are one ingredient each. */
interface Till {
  api: CatalogClient;
  domain: string;
  restaurantId: number;
  manager: SignedInUser;
  /** name → { recipe, ingredient } */
  dishes: Record<string, { recipeId: number; ingredientId: number }>;
}

describe('the quote and the order share one price (issues 15 and 16)', () => {
  let t: TestApp;
  let server: Server;
  let sequence = 0;

  beforeAll(async () => {
    t = await createTestApp();
    // A listening server: the races below open many connections at once.
    server = t.app.listen(0);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  async function openTill(dishes: Record<string, number>, currency = 'USD'): Promise<Till> {
    sequence += 1;
    const domain = `till-${sequence}.example.com`;
    const restaurant = await createRestaurant(t.db.knex, { domain, currency });
    const manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    const made: Till['dishes'] = {};
    for (const [name, priceCents] of Object.entries(dishes)) {
      const ingredientId = await insertIngredientRow(t.db.knex, restaurant.id, { name: `${name} base`, price_cents: priceCents, stock: 1000 });
      const [recipeId] = (await insertRecipeRows(t.db.knex, restaurant.id, [{ name, lines: [{ ingredient_id: ingredientId, quantity: 1 }] }])) as [number];
      made[name] = { recipeId, ingredientId };
    }
    return { api: catalogClient(server as unknown as Parameters<typeof catalogClient>[0], domain), domain, restaurantId: restaurant.id, manager, dishes: made };
  }

  const setPricing = async (till: Till, body: object) => {
    const res = await request(server).put('/v1/restaurant/pricing').set('X-Restaurant-Domain', till.domain).set('Authorization', till.manager.auth).send(body);
    expect(res.status, res.text).toBe(200);
  };
  const fill = async (till: Till, user: SignedInUser, lines: Record<string, number>) => {
    for (const [name, quantity] of Object.entries(lines)) {
      const dish = till.dishes[name];
      if (dish === undefined) throw new Error(`no dish ${name}`);
      const res = await till.api.post('/v1/cart/items', { recipe_id: dish.recipeId, quantity }, user);
      expect(res.status, res.text).toBe(201);
    }
  };
  const quote = (till: Till, user: SignedInUser, body: object) => till.api.post('/v1/cart/quote', body, user);
  const order = (till: Till, user: SignedInUser, body: object) =>
    till.api.post('/v1/orders', { payment_method: 'card', ...body }, user).set('Idempotency-Key', randomUUID());
  const newCoupon = async (till: Till, body: object) => {
    const res = await till.api.post('/v1/coupons', body, till.manager);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number; code: string };
  };
  const pay = (till: Till, user: SignedInUser, orderId: number) =>
    till.api.post(`/v1/orders/${orderId}/payments`, { payment_token: 'tok_visa' }, user).set('Idempotency-Key', randomUUID());
  const ordersOf = async (till: Till, user: SignedInUser) => (await till.api.get('/v1/orders', user)).body.data as Array<{ id: number }>;

  const newYork = {
    tax_rates: [{ name: 'Sales tax', rate: '8.875', inclusive: false, fulfillment: ['pickup', 'delivery'], applies_to_delivery_fee: false }],
    service_charges: [{ name: 'Service', percent: '10', fulfillment: ['pickup', 'delivery'], taxable: true }],
    tips: { enabled: true, suggested_percentages: ['15', '18', '20'] },
  };

  it('done when: 8.875 % sales tax, a 10 % service charge and tips; quote → order with expected_total_cents → pay; the payment is the quote to the cent', async () => {
    const till = await openTill({ Steak: 1500, Salad: 800 });
    await setPricing(till, newYork);
    const customer = await signInCustomer(t.cognito);
    await fill(till, customer, { Steak: 1, Salad: 1 });

    const shown = await quote(till, customer, { fulfillment: 'pickup', tip_percent: '18' });
    expect(shown.status, shown.text).toBe(200);
    // Service 230 spread 150 + 80; tax per line on line + its share: 1650 → 146.4375 → 146, 880 → 78.1 → 78;
    // tip 18 % of 2300 = 414; total 2300 + 230 + 224 + 414.
    expect(shown.body).toMatchObject({
      currency: 'USD',
      subtotal_cents: 2300,
      discount_cents: 0,
      coupon_code: null,
      service_charges: [{ name: 'Service', amount_cents: 230 }],
      delivery_fee_cents: 0,
      taxes: [{ name: 'Sales tax', rate: '8.875', inclusive: false, taxable_cents: 2530, tax_cents: 224 }],
      tax_cents: 224,
      tip_cents: 414,
      total_cents: 3168,
    });
    expect(
      shown.body.lines.map((line: { name: string; line_total_cents: number; tax_cents: number; total_cents: number }) => [
        line.name,
        line.line_total_cents,
        line.tax_cents,
        line.total_cents,
      ]),
    ).toEqual([
      ['Steak', 1500, 146, 1796],
      ['Salad', 800, 78, 958],
    ]);
    // The quote changed nothing.
    expect((await till.api.get('/v1/cart', customer)).body.items).toHaveLength(2);
    expect(await stockOf(t.db.knex, till.dishes.Steak!.ingredientId)).toBe(1000);

    const placed = await order(till, customer, { fulfillment: 'pickup', tip_percent: '18', expected_total_cents: shown.body.total_cents });
    expect(placed.status, placed.text).toBe(201);
    const breakdown = ({ lines: _lines, currency: _currency, ...rest }: Record<string, unknown>) => rest;
    expect(placed.body).toMatchObject({ ...breakdown(shown.body), payment_status: 'unpaid', delivery_location: null });
    const read = await till.api.get(`/v1/orders/${placed.body.id}`, customer);
    expect(read.body).toEqual(placed.body);
    expect((await till.api.get('/v1/orders', till.manager)).body.data[0]).toMatchObject(breakdown(shown.body));

    const paid = await pay(till, customer, placed.body.id);
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body).toMatchObject({ status: 'succeeded', amount_cents: 3168 });
    expect((await till.api.get(`/v1/orders/${placed.body.id}`, customer)).body.payment_status).toBe('paid');

    // A full refund gives back everything, tip and taxes included.
    const refund = await till.api.post(`/v1/payments/${paid.body.id}/refunds`, { amount_cents: 3168 }, till.manager).set('Idempotency-Key', randomUUID());
    expect(refund.status, refund.text).toBe(201);
    expect(refund.body.amount_cents).toBe(3168);
  });

  it('a price changed between the quote and the order: 409 price_changed with the fresh quote, and nothing is ordered', async () => {
    const till = await openTill({ Steak: 1500 });
    await setPricing(till, newYork);
    const customer = await signInCustomer(t.cognito);
    await fill(till, customer, { Steak: 2 });
    const shown = await quote(till, customer, { fulfillment: 'pickup' });
    expect(shown.status, shown.text).toBe(200);
    const steak = till.dishes.Steak!.ingredientId;
    const raise = await till.api.patch(`/v1/ingredients/${steak}`, { price_cents: 1600 }, till.manager);
    expect(raise.status, raise.text).toBe(200);
    const ledgerBefore = await ledgerRows(t.db.knex, steak);

    const refused = await order(till, customer, { fulfillment: 'pickup', expected_total_cents: shown.body.total_cents });
    problem(refused, 409, 'price_changed');
    const fresh = JSON.parse(refused.text).quote;
    expect(fresh).toMatchObject({ subtotal_cents: 3200, service_charges: [{ name: 'Service', amount_cents: 320 }] });
    expect(fresh.total_cents).not.toBe(shown.body.total_cents);
    expect(fresh).toEqual((await quote(till, customer, { fulfillment: 'pickup' })).body);

    expect(await stockOf(t.db.knex, steak)).toBe(1000);
    expect(await ledgerRows(t.db.knex, steak)).toBe(ledgerBefore);
    expect(await ordersOf(till, customer)).toEqual([]);
    expect((await till.api.get('/v1/cart', customer)).body.items).toHaveLength(1);

    // With the fresh total it goes through.
    const placed = await order(till, customer, { fulfillment: 'pickup', expected_total_cents: fresh.total_cents });
    expect(placed.status, placed.text).toBe(201);
    expect(placed.body.total_cents).toBe(fresh.total_cents);
  });

  it('refuses tips while tips are off, negative tips and both kinds at once (400), on the quote and the order', async () => {
    const off = await openTill({ Soup: 700 });
    const customer = await signInCustomer(t.cognito);
    await fill(off, customer, { Soup: 1 });
    expect(problem(await quote(off, customer, { fulfillment: 'pickup', tip_cents: 100 }), 400, 'validation_failed').errors).toEqual([
      { path: 'tip_cents', message: expect.stringContaining('does not take tips') },
    ]);
    problem(await quote(off, customer, { fulfillment: 'pickup', tip_percent: '10' }), 400, 'validation_failed');
    problem(await order(off, customer, { fulfillment: 'pickup', tip_cents: 100 }), 400, 'validation_failed');
    // A zero tip is no tip.
    expect((await quote(off, customer, { fulfillment: 'pickup', tip_cents: 0 })).body.total_cents).toBe(700);

    const on = await openTill({ Soup: 700 });
    await setPricing(on, { tips: { enabled: true, suggested_percentages: ['10'] } });
    await fill(on, customer, { Soup: 1 });
    problem(await quote(on, customer, { fulfillment: 'pickup', tip_cents: -1 }), 400, 'validation_failed');
    problem(await quote(on, customer, { fulfillment: 'pickup', tip_percent: '-5' }), 400, 'validation_failed');
    problem(await quote(on, customer, { fulfillment: 'pickup', tip_cents: 100, tip_percent: '10' }), 400, 'validation_failed');
    problem(await order(on, customer, { fulfillment: 'pickup', tip_cents: 100, tip_percent: '10' }), 400, 'validation_failed');
    expect(await ordersOf(on, customer)).toEqual([]);
    expect((await quote(on, customer, { fulfillment: 'pickup', tip_cents: 150 })).body).toMatchObject({ tip_cents: 150, total_cents: 850 });
  });

  describe('delivery zones and the minimum', () => {
    let till: Till;
    const centre = { lat: 40.7128, lng: -74.006 };
    const inside = { lat: 40.7138, lng: -74.006 };
    const outside = { lat: 41.5, lng: -74.006 };

    beforeAll(async () => {
      till = await openTill({ Short: 1999, Exact: 2000, Feast: 5000 });
      await setPricing(till, { delivery: { fee_cents: 999, min_subtotal_cents: 0, free_over_cents: null } });
      const zone = await till.api.post(
        '/v1/delivery-zones',
        { name: 'Downtown', shape: { type: 'radius', center: centre, meters: 2000 }, fee_cents: 300, min_subtotal_cents: 2000, free_over_cents: 5000 },
        till.manager,
      );
      expect(zone.status, zone.text).toBe(201);
    });

    const delivery = (location?: object) => ({ fulfillment: 'delivery', ...(location === undefined ? {} : { delivery_location: location }) });
    const deliveryOrder = (location?: object) => ({ ...delivery(location), delivery_address: '1 Main St' });

    it('inside a zone: its fee and its minimum, exactly met passes, one cent short is 422 below_minimum with shortfall_cents 1', async () => {
      const short = await signInCustomer(t.cognito);
      await fill(till, short, { Short: 1 });
      const refused = await quote(till, short, delivery(inside));
      problem(refused, 422, 'below_minimum');
      expect(JSON.parse(refused.text).shortfall_cents).toBe(1);
      const refusedOrder = await order(till, short, deliveryOrder(inside));
      problem(refusedOrder, 422, 'below_minimum');
      expect(JSON.parse(refusedOrder.text).shortfall_cents).toBe(1);
      // The cart keeps accepting items below the minimum, and pickup has none.
      expect((await quote(till, short, { fulfillment: 'pickup' })).body.total_cents).toBe(1999);

      const exact = await signInCustomer(t.cognito);
      await fill(till, exact, { Exact: 1 });
      const shown = await quote(till, exact, delivery(inside));
      expect(shown.status, shown.text).toBe(200);
      expect(shown.body).toMatchObject({ subtotal_cents: 2000, delivery_fee_cents: 300, total_cents: 2300 });
      const placed = await order(till, exact, { ...deliveryOrder(inside), payment_method: 'cash', expected_total_cents: 2300 });
      expect(placed.status, placed.text).toBe(201);
      expect(placed.body).toMatchObject({ delivery_fee_cents: 300, total_cents: 2300, delivery_location: inside, delivery_address: '1 Main St' });
      expect((await till.api.get(`/v1/orders/${placed.body.id}`, exact)).body.delivery_location).toEqual(inside);
    });

    it('free over free_over_cents; outside every zone 422; no location while zones exist 400; pickup never pays the fee', async () => {
      const customer = await signInCustomer(t.cognito);
      await fill(till, customer, { Feast: 1 });
      expect((await quote(till, customer, delivery(inside))).body).toMatchObject({ delivery_fee_cents: 0, total_cents: 5000 });
      problem(await quote(till, customer, delivery(outside)), 422, 'outside_delivery_area');
      problem(await order(till, customer, deliveryOrder(outside)), 422, 'outside_delivery_area');
      expect(problem(await quote(till, customer, delivery()), 400, 'validation_failed').errors).toEqual([
        { path: 'delivery_location', message: expect.any(String) },
      ]);
      problem(await order(till, customer, deliveryOrder()), 400, 'validation_failed');
      const pickup = await quote(till, customer, { fulfillment: 'pickup', delivery_location: outside });
      expect(pickup.body).toMatchObject({ delivery_fee_cents: 0, total_cents: 5000 });
      const placed = await order(till, customer, { fulfillment: 'pickup', payment_method: 'cash', delivery_location: inside });
      expect(placed.body).toMatchObject({ delivery_fee_cents: 0, total_cents: 5000, delivery_location: null });
    });
  });

  describe('coupons', () => {
    it('applied through the order: the discount is spread over the lines, the parts add up, and a cancel gives the redemption back once', async () => {
      const till = await openTill({ Steak: 1500, Salad: 800 });
      await setPricing(till, newYork);
      const coupon = await newCoupon(till, { code: 'Save10', kind: 'percent', percent: '10' });
      const customer = await signInCustomer(t.cognito);
      await fill(till, customer, { Steak: 1, Salad: 1 });

      const shown = await quote(till, customer, { fulfillment: 'pickup', coupon_code: 'save10' });
      expect(shown.status, shown.text).toBe(200);
      // Discount 230 spread 150 + 80; service 10 % of 2070 = 207 spread 135 + 72; tax 1485 → 131.79 → 132, 792 → 70.29 → 70.
      expect(shown.body).toMatchObject({
        subtotal_cents: 2300,
        discount_cents: 230,
        coupon_code: 'Save10',
        service_charges: [{ amount_cents: 207 }],
        tax_cents: 202,
        total_cents: 2479,
      });
      expect(shown.body.lines.map((line: { discount_cents: number }) => line.discount_cents)).toEqual([150, 80]);
      const lineTotals = shown.body.lines.reduce((sum: number, line: { total_cents: number }) => sum + line.total_cents, 0);
      expect(lineTotals).toBe(shown.body.total_cents);
      expect(shown.body.subtotal_cents - shown.body.discount_cents + 207 + shown.body.tax_cents).toBe(shown.body.total_cents);
      expect((await till.api.get(`/v1/coupons/${coupon.id}`, till.manager)).body.redemptions_count).toBe(0);

      const placed = await order(till, customer, { fulfillment: 'pickup', coupon_code: 'SAVE10', expected_total_cents: 2479 });
      expect(placed.status, placed.text).toBe(201);
      expect(placed.body).toMatchObject({ discount_cents: 230, coupon_code: 'Save10', total_cents: 2479 });
      expect((await till.api.get(`/v1/coupons/${coupon.id}`, till.manager)).body.redemptions_count).toBe(1);
      const redemptions = (await till.api.get(`/v1/coupons/${coupon.id}/redemptions`, till.manager)).body.data;
      expect(redemptions).toEqual([expect.objectContaining({ order_id: placed.body.id, discount_cents: 230, released_at: null })]);

      const cancelled = await till.api.post(`/v1/orders/${placed.body.id}/cancel`, {}, customer);
      expect(cancelled.status, cancelled.text).toBe(200);
      expect((await till.api.get(`/v1/coupons/${coupon.id}`, till.manager)).body.redemptions_count).toBe(0);
      problem(await till.api.post(`/v1/orders/${placed.body.id}/cancel`, {}, customer), 409, 'invalid_transition');
      problem(await till.api.post(`/v1/orders/${placed.body.id}/transitions`, { to: 'rejected' }, till.manager), 409, 'invalid_transition');
      expect((await till.api.get(`/v1/coupons/${coupon.id}`, till.manager)).body.redemptions_count).toBe(0);
      const released = (await till.api.get(`/v1/coupons/${coupon.id}/redemptions`, till.manager)).body.data;
      expect(released).toEqual([expect.objectContaining({ order_id: placed.body.id, released_at: expect.any(String) })]);
    });

    it('every rejection reason, through the quote (422 coupon_invalid with reason)', async () => {
      const till = await openTill({ Soup: 700 });
      const customer = await signInCustomer(t.cognito);
      const other = await signInCustomer(t.cognito);
      await newCoupon(till, { code: 'LATER', kind: 'amount', amount_cents: 100, starts_at: '2999-01-01T00:00:00Z' });
      await newCoupon(till, { code: 'OVER', kind: 'amount', amount_cents: 100, starts_at: '2020-01-01T00:00:00Z', ends_at: '2021-01-01T00:00:00Z' });
      await newCoupon(till, { code: 'ONCE', kind: 'amount', amount_cents: 100, max_redemptions: 1 });
      await newCoupon(till, { code: 'MINE', kind: 'amount', amount_cents: 100, max_per_customer: 1 });
      await newCoupon(till, { code: 'BIG', kind: 'amount', amount_cents: 100, min_subtotal_cents: 701 });
      await newCoupon(till, { code: 'DELIVERS', kind: 'amount', amount_cents: 100, fulfillment: ['delivery'] });
      const archived = await newCoupon(till, { code: 'GONE', kind: 'amount', amount_cents: 100 });
      expect((await till.api.delete(`/v1/coupons/${archived.id}`, till.manager)).status).toBe(204);

      // The other customer uses up ONCE; the customer uses up their MINE.
      await fill(till, other, { Soup: 1 });
      expect((await order(till, other, { fulfillment: 'pickup', payment_method: 'cash', coupon_code: 'once' })).status).toBe(201);
      await fill(till, customer, { Soup: 1 });
      expect((await order(till, customer, { fulfillment: 'pickup', payment_method: 'cash', coupon_code: 'mine' })).status).toBe(201);
      await fill(till, customer, { Soup: 1 });

      const reasonOf = async (code: string, fulfillment = 'pickup') => {
        const res = await quote(till, customer, { fulfillment, coupon_code: code });
        problem(res, 422, 'coupon_invalid');
        return JSON.parse(res.text).reason;
      };
      expect(await reasonOf('NOPE')).toBe('unknown');
      expect(await reasonOf('GONE')).toBe('unknown');
      expect(await reasonOf('LATER')).toBe('not_started');
      expect(await reasonOf('OVER')).toBe('expired');
      expect(await reasonOf('ONCE')).toBe('limit_reached');
      expect(await reasonOf('MINE')).toBe('customer_limit_reached');
      expect(await reasonOf('BIG')).toBe('min_not_met');
      expect(await reasonOf('DELIVERS')).toBe('not_applicable');
      // And the order refuses the same way, ordering nothing.
      const before = (await ordersOf(till, customer)).length;
      const refused = await order(till, customer, { fulfillment: 'pickup', coupon_code: 'ONCE' });
      problem(refused, 422, 'coupon_invalid');
      expect(JSON.parse(refused.text).reason).toBe('limit_reached');
      expect(await ordersOf(till, customer)).toHaveLength(before);
    });

    it('a card order whose total is 0 (a 100 % coupon) is paid at placement and goes to the kitchen like a paid order', async () => {
      const till = await openTill({ Soup: 700 });
      await newCoupon(till, { code: 'FREE', kind: 'percent', percent: '100' });
      const customer = await signInCustomer(t.cognito);
      await fill(till, customer, { Soup: 2 });
      const shown = await quote(till, customer, { fulfillment: 'pickup', coupon_code: 'FREE' });
      expect(shown.body).toMatchObject({ subtotal_cents: 1400, discount_cents: 1400, total_cents: 0 });
      const placed = await order(till, customer, { fulfillment: 'pickup', payment_method: 'card', coupon_code: 'FREE', expected_total_cents: 0 });
      expect(placed.status, placed.text).toBe(201);
      expect(placed.body).toMatchObject({ status: 'pending', payment_status: 'paid', total_cents: 0 });
      const outbox = await t.db.knex('outbox').where({ restaurant_id: till.restaurantId });
      expect(outbox.map((row) => [row.type, Number(row.payload.order_id)])).toEqual([['order.confirmation_requested', placed.body.id]]);
      problem(await pay(till, customer, placed.body.id), 409, 'conflict');
    });
  });

  describe.skipIf(!onRealPostgres)('coupon limits under a checkout race (real PostgreSQL)', () => {
    it('50 customers race to order with a coupon of max_redemptions 5: exactly 5 orders use it, the rest are refused and order nothing', async () => {
      const till = await openTill({ Soup: 700 });
      const coupon = await newCoupon(till, { code: 'FIRST5', kind: 'amount', amount_cents: 200, max_redemptions: 5 });
      const racers = await Promise.all(Array.from({ length: 50 }, () => signInCustomer(t.cognito)));
      await Promise.all(racers.map((racer) => fill(till, racer, { Soup: 1 })));

      const results = await Promise.all(racers.map((racer) => order(till, racer, { fulfillment: 'pickup', payment_method: 'cash', coupon_code: 'first5' })));
      const placed = results.filter((res) => res.status === 201);
      expect(placed).toHaveLength(5);
      for (const refused of results.filter((res) => res.status !== 201)) {
        problem(refused, 422, 'coupon_invalid');
        expect(JSON.parse(refused.text).reason).toBe('limit_reached');
      }
      for (const res of placed) expect(res.body).toMatchObject({ discount_cents: 200, total_cents: 500, coupon_code: 'FIRST5' });
      expect((await till.api.get(`/v1/coupons/${coupon.id}`, till.manager)).body.redemptions_count).toBe(5);
      expect(await t.db.knex('orders').where({ restaurant_id: till.restaurantId })).toHaveLength(5);
      const soup = till.dishes.Soup!.ingredientId;
      expect(await stockOf(t.db.knex, soup)).toBe(1000 - 5);
      expect(await ledgerRows(t.db.knex, soup)).toBe(5);
    }, 120_000);

    it('one customer racing themselves with max_per_customer 1: exactly one order uses it', async () => {
      const till = await openTill({ Soup: 700 });
      const coupon = await newCoupon(till, { code: 'JUSTONE', kind: 'amount', amount_cents: 200, max_per_customer: 1 });
      const customer = await signInCustomer(t.cognito);
      await fill(till, customer, { Soup: 1 });
      const results = await Promise.all(
        Array.from({ length: 10 }, () => order(till, customer, { fulfillment: 'pickup', payment_method: 'cash', coupon_code: 'JUSTONE' })),
      );
      expect(results.filter((res) => res.status === 201)).toHaveLength(1);
      // The others found the cart taken (or the coupon used): none ordered anything.
      for (const refused of results.filter((res) => res.status !== 201)) expect(['cart_empty', 'coupon_invalid']).toContain(JSON.parse(refused.text).code);
      await fill(till, customer, { Soup: 1 });
      const again = await Promise.all(
        Array.from({ length: 5 }, () => order(till, customer, { fulfillment: 'pickup', payment_method: 'cash', coupon_code: 'JUSTONE' })),
      );
      for (const refused of again.filter((res) => JSON.parse(res.text).code === 'coupon_invalid'))
        expect(JSON.parse(refused.text).reason).toBe('customer_limit_reached');
      expect(again.filter((res) => res.status === 201)).toHaveLength(0);
      expect((await till.api.get(`/v1/coupons/${coupon.id}`, till.manager)).body.redemptions_count).toBe(1);
      expect(await t.db.knex('orders').where({ restaurant_id: till.restaurantId })).toHaveLength(1);
    }, 60_000);
  });
});
