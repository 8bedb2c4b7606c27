import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { orderSchema } from '../src/modules/orders/schemas.js';

// What a customer is told when checkout refuses (API.md "Orders"): which line, which ingredient, how
// much is left, and that nothing was ordered. Written against the HTTP contract only.
describe('checkout refusals a customer can act on', () => {
  let t: TestApp;
  let knex: Knex;
  let api: CatalogClient;
  let restaurantId: number;
  let dana: SignedInUser;

  const addToCart = async (recipeId: number, quantity: number, customizations?: object[]) => {
    const res = await api.post('/v1/cart/items', { recipe_id: recipeId, quantity, ...(customizations === undefined ? {} : { customizations }) }, dana);
    expect(res.status, res.text).toBe(201);
  };
  const checkout = (body: object = { fulfillment: 'pickup', payment_method: 'cash' }) =>
    api.post('/v1/orders', body, dana).set('Idempotency-Key', randomUUID());
  const stockOf = async (id: number) => Number((await knex('ingredients').where({ id }).first()).stock);
  const cartSize = async () => (await api.get('/v1/cart', dana)).body.items.length as number;
  const emptyCart = async () => expect((await api.delete('/v1/cart', dana)).status).toBeLessThan(300);

  beforeAll(async () => {
    t = await createTestApp();
    knex = t.db.knex;
    restaurantId = (await createRestaurant(knex, { domain: 'checkout-edges.example.com', currency: 'EUR' })).id;
    api = catalogClient(t.app, 'checkout-edges.example.com');
    dana = await signInCustomer(t.cognito);
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a delivery with no address in the body or on the customer, saying what is missing', async () => {
    const water = await insertIngredientRow(knex, restaurantId, { name: 'Water', stock: 100 });
    const [jug] = (await insertRecipeRows(knex, restaurantId, [{ name: 'Jug of water', lines: [{ ingredient_id: water, quantity: 1 }] }])) as [number];
    await addToCart(jug, 1);
    const refused = problem(await checkout({ fulfillment: 'delivery', payment_method: 'cash' }), 400, 'validation_failed');
    expect(refused.detail).toMatch(/address/);
    expect(refused.errors).toEqual([{ path: 'delivery_address', message: 'required for delivery' }]);
    expect(await cartSize()).toBe(1);
    await emptyCart();
  });

  it('refuses an empty cart, saying so', async () => {
    expect(problem(await checkout(), 422, 'cart_empty').detail).toMatch(/empty/);
  });

  it('places an order of exactly the largest total one order holds, and refuses one cent more', async () => {
    const caviar = await insertIngredientRow(knex, restaurantId, { name: 'Caviar tin', price_cents: 2_147_483_646, stock: 10 });
    const salt = await insertIngredientRow(knex, restaurantId, { name: 'Salt', price_cents: 1, stock: 10 });
    const [tin, pinch] = (await insertRecipeRows(knex, restaurantId, [
      { name: 'Caviar', lines: [{ ingredient_id: caviar, quantity: 1 }] },
      { name: 'Pinch of salt', lines: [{ ingredient_id: salt, quantity: 1 }] },
    ])) as [number, number];
    await addToCart(tin, 1);
    await addToCart(pinch, 1);
    const placed = await checkout();
    expect(placed.status, placed.text).toBe(201);
    expect(placed.body.total_cents).toBe(2_147_483_647);

    await addToCart(tin, 1);
    await addToCart(pinch, 2);
    expect(problem(await checkout(), 409, 'conflict').detail).toMatch(/larger than one order can hold/);
    expect(await stockOf(caviar)).toBe(9);
    await emptyCart();
  });

  it('refuses a line whose recipe left the menu or whose customisation no longer fits, naming each line', async () => {
    const dough = await insertIngredientRow(knex, restaurantId, { name: 'Dough', stock: 100 });
    const olive = await insertIngredientRow(knex, restaurantId, { name: 'Olive', stock: 100 });
    const [pizza, focaccia] = (await insertRecipeRows(knex, restaurantId, [
      {
        name: 'Pizza',
        lines: [
          { ingredient_id: dough, quantity: 1 },
          { ingredient_id: olive, quantity: 2 },
        ],
      },
      { name: 'Focaccia', lines: [{ ingredient_id: dough, quantity: 1 }] },
    ])) as [number, number];
    await knex('recipe_ingredients').where({ recipe_id: pizza, ingredient_id: olive }).update({ max_quantity: 5 });
    await addToCart(focaccia, 1);
    await addToCart(pizza, 1, [{ ingredient_id: olive, quantity: 5 }]);
    // Since then: focaccia is off the menu, and pizzas take at most 3 olives.
    await knex('recipes').where({ id: focaccia }).update({ archived_at: knex.fn.now() });
    await knex('recipe_ingredients').where({ recipe_id: pizza, ingredient_id: olive }).update({ max_quantity: 3 });

    const refused = problem(await checkout(), 409, 'conflict');
    expect(refused.detail).toMatch(/no longer match the menu/);
    expect(refused.errors).toEqual([
      { path: 'items.0.recipe_id', message: 'Focaccia is no longer on the menu' },
      { path: 'items.1.customizations.0.quantity', message: 'at most 3 piece of Olive' },
    ]);
    expect(await stockOf(dough)).toBe(100);
    expect(await cartSize()).toBe(2);
    await emptyCart();
  });

  it('names only what is short, on the lines that use it, counting what this checkout had already taken as still there', async () => {
    // Flour has the lower id, so checkout takes it first; then saffron is short and nothing is taken.
    const flour = await insertIngredientRow(knex, restaurantId, { name: 'Flour', stock: 6 });
    const saffron = await insertIngredientRow(knex, restaurantId, { name: 'Saffron', stock: 1, unit: 'g' });
    const [bread, paella] = (await insertRecipeRows(knex, restaurantId, [
      { name: 'Bread', lines: [{ ingredient_id: flour, quantity: 1 }] },
      { name: 'Paella', lines: [{ ingredient_id: saffron, quantity: 2 }] },
    ])) as [number, number];
    await addToCart(bread, 6);
    await addToCart(paella, 1);

    const refused = problem(await checkout(), 409, 'insufficient_stock');
    expect(refused.detail).toBe('Not enough stock for this order: Saffron. Nothing was ordered or charged.');
    expect(refused.errors).toEqual([{ path: 'items.1', message: `Paella: not enough Saffron (ingredient ${saffron}) for the 2 g the order needs` }]);
    expect([await stockOf(flour), await stockOf(saffron)]).toEqual([6, 1]);
    await emptyCart();
  });

  it('lists every short ingredient, and counts one taken off the menu or archived as none left', async () => {
    const basil = await insertIngredientRow(knex, restaurantId, { name: 'Basil', stock: 50 });
    const tomato = await insertIngredientRow(knex, restaurantId, { name: 'Tomato', stock: 50, available: false });
    const burrata = await insertIngredientRow(knex, restaurantId, { name: 'Burrata', stock: 50 });
    await knex('ingredients').where({ id: burrata }).update({ archived_at: knex.fn.now() });
    const [caprese] = (await insertRecipeRows(knex, restaurantId, [
      {
        name: 'Caprese',
        lines: [
          { ingredient_id: basil, quantity: 1 },
          { ingredient_id: tomato, quantity: 1 },
          { ingredient_id: burrata, quantity: 1 },
        ],
      },
    ])) as [number];
    await addToCart(caprese, 1);

    const refused = problem(await checkout(), 409, 'insufficient_stock');
    // In the order the database reads them back (unspecified), so either way round.
    expect(refused.detail).toMatch(/^Not enough stock for this order: (Tomato, Burrata|Burrata, Tomato)\. Nothing was ordered or charged\.$/);
    expect(refused.errors?.map((error) => error.message).sort()).toEqual([
      `Caprese: not enough Burrata (ingredient ${burrata}) for the 1 piece the order needs`,
      `Caprese: not enough Tomato (ingredient ${tomato}) for the 1 piece the order needs`,
    ]);
    expect(await stockOf(basil)).toBe(50);
    await emptyCart();
  });
});

// The rules a checkout applies besides stock (API.md "Limits on one customer", "Coupons", "Service hours"):
// each is one line of `placeOrder`, and each test says what a customer would notice were that line lost.
describe('checkout rules a customer notices: the unpaid-order cap, coupons and the time asked for', () => {
  let t: TestApp;
  let knex: Knex;
  let api: CatalogClient;
  let manager: SignedInUser;
  let dishId: number;

  const order = async (user: SignedInUser, body: Record<string, unknown>) => {
    const added = await api.post('/v1/cart/items', { recipe_id: dishId, quantity: 1 }, user);
    expect(added.status, added.text).toBe(201);
    return api.post('/v1/orders', { fulfillment: 'pickup', ...body }, user).set('Idempotency-Key', randomUUID());
  };
  const placed = async (user: SignedInUser, body: Record<string, unknown>) => {
    const res = await order(user, body);
    expect(res.status, res.text).toBe(201);
    return orderSchema.parse(res.body);
  };
  const newCoupon = async (body: Record<string, unknown>) => {
    const res = await api.post('/v1/coupons', { code: `C${randomUUID().slice(0, 8)}`, ...body }, manager);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number; code: string };
  };

  beforeAll(async () => {
    // The contract's cap of 3 open unpaid card orders (the test app loosens it by default).
    t = await createTestApp({ customerLimits: { maxOpenUnpaidOrders: 3 } });
    knex = t.db.knex;
    const restaurant = await createRestaurant(knex, { domain: 'checkout-rules-http.example.com', currency: 'EUR' });
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, knex, restaurant.id, 'manager');
    const rice = await insertIngredientRow(knex, restaurant.id, { name: 'Rice', price_cents: 800, stock: 1000 });
    [dishId] = (await insertRecipeRows(knex, restaurant.id, [{ name: 'Risotto', lines: [{ ingredient_id: rice, quantity: 1 }] }])) as [number];
  });
  afterAll(async () => {
    await t.close();
  });

  it('a customer holding 3 unpaid card orders is refused a 4th (429), but may still order with cash or a card order with nothing to pay', async () => {
    const erin = await signInCustomer(t.cognito);
    for (let i = 0; i < 3; i += 1) expect((await placed(erin, { payment_method: 'card' })).payment_status).toBe('unpaid');
    problem(await order(erin, { payment_method: 'card' }), 429, 'too_many_open_orders');
    expect((await api.delete('/v1/cart', erin)).status).toBeLessThan(300);

    expect(await placed(erin, { payment_method: 'cash' })).toMatchObject({ payment_method: 'cash', payment_status: 'unpaid' });
    const free = await newCoupon({ kind: 'percent', percent: '100' });
    // Nothing to pay: paid when placed, so it holds nothing waiting for a payment and is not counted.
    expect(await placed(erin, { payment_method: 'card', coupon_code: free.code })).toMatchObject({ total_cents: 0, payment_status: 'paid' });
  });

  it('an order placed with a coupon uses it up: a coupon for one order cannot be used by a second', async () => {
    const once = await newCoupon({ kind: 'amount', amount_cents: 100, max_redemptions: 1 });
    const [fay, gus] = [await signInCustomer(t.cognito), await signInCustomer(t.cognito)];
    expect(await placed(fay, { payment_method: 'cash', coupon_code: once.code })).toMatchObject({ discount_cents: 100, coupon_code: once.code });
    expect((await api.get(`/v1/coupons/${once.id}`, manager)).body).toMatchObject({ redemptions_count: 1 });
    const refused = problem(await order(gus, { payment_method: 'cash', coupon_code: once.code }), 422, 'coupon_invalid');
    expect(refused.errors).toEqual([{ path: 'coupon_code', message: 'limit_reached' }]);
  });

  it('an order for a time asked for is promised for that slot; requested_at null orders as soon as possible', async () => {
    const hal = await signInCustomer(t.cognito);
    // Always open, 15-minute slots from local midnight in Berlin (a whole-hour offset): a UTC quarter hour
    // an hour ahead is a slot start, past the 20-minute lead time and within the 7 days of order-ahead.
    const quarter = 15 * 60_000;
    const wanted = new Date(Math.ceil(Date.now() / quarter) * quarter + 4 * quarter).toISOString();
    expect(await placed(hal, { payment_method: 'cash', requested_at: wanted })).toMatchObject({
      requested_at: wanted,
      slot_starts_at: wanted,
      promised_at: wanted,
    });
    const before = Date.now();
    const asap = await placed(hal, { payment_method: 'cash', requested_at: null });
    expect(asap.requested_at).toBeNull();
    expect(Date.parse(asap.promised_at)).toBeGreaterThanOrEqual(before + 20 * 60_000);
    expect(Date.parse(asap.promised_at)).toBeLessThan(Date.parse(wanted));
  });
});
