import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, problem, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';

describe('the cart', () => {
  let t: TestApp;
  let api: CatalogClient;
  let customer: SignedInUser;
  let other: SignedInUser;
  let burgerId: number;
  let friesId: number;
  const ing = { bun: 0, patty: 0, cheese: 0, onion: 0, potato: 0 };

  beforeAll(async () => {
    t = await createTestApp();
    const restaurant = await createRestaurant(t.db.knex, { domain: 'cart.example.com' });
    api = catalogClient(t.app, 'cart.example.com');
    const manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    ing.bun = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Bun', price_cents: 50, stock: 100 });
    ing.patty = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Patty', price_cents: 300, stock: 100 });
    ing.cheese = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Cheese', price_cents: 80, stock: 100 });
    ing.onion = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Onion', price_cents: 20, stock: 100 });
    ing.potato = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Potato', price_cents: 100, stock: 3 });
    const burger = await api.post(
      '/v1/recipes',
      {
        name: 'Cheeseburger',
        ingredients: [
          { ingredient_id: ing.bun, quantity: 1 },
          { ingredient_id: ing.patty, quantity: 1 },
          { ingredient_id: ing.cheese, quantity: 1, removable: true, max_quantity: 3 },
          { ingredient_id: ing.onion, quantity: 1, removable: true },
        ],
      },
      manager,
    );
    expect(burger.status).toBe(201);
    burgerId = burger.body.id;
    expect(burger.body.price_cents).toBe(450);
    const fries = await api.post('/v1/recipes', { name: 'Fries', ingredients: [{ ingredient_id: ing.potato, quantity: 2 }] }, manager);
    friesId = fries.body.id;
    customer = await signInCustomer(t.cognito);
    other = await signInCustomer(t.cognito);
  });
  afterAll(async () => {
    await t.close();
  });

  it('needs a signed-in user', async () => {
    problem(await api.get('/v1/cart'), 401, 'unauthenticated');
  });

  it('starts empty', async () => {
    const res = await api.get('/v1/cart', customer);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], total_cents: 0 });
    expect(res.headers['cache-control']).toBe('private, no-store');
  });

  it('prices a customised line: extra cheese costs its price per unit, removed onion saves its price', async () => {
    const res = await api.post(
      '/v1/cart/items',
      {
        recipe_id: burgerId,
        quantity: 2,
        customizations: [
          { ingredient_id: ing.cheese, quantity: 3 },
          { ingredient_id: ing.onion, quantity: 0 },
        ],
      },
      customer,
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      recipe_id: burgerId,
      name: 'Cheeseburger',
      quantity: 2,
      unit_price_cents: 450 + 2 * 80 - 20,
      line_total_cents: 2 * 590,
      available: true,
      unavailable_reason: null,
    });
    expect(res.body.customizations).toEqual([
      { ingredient_id: ing.cheese, quantity: 3 },
      { ingredient_id: ing.onion, quantity: 0 },
    ]);
  });

  it('adds portions to an identical line instead of a second line, however the customisations were spelled', async () => {
    const res = await api.post(
      '/v1/cart/items',
      {
        recipe_id: burgerId,
        quantity: 1,
        customizations: [
          { ingredient_id: ing.onion, quantity: 0 },
          { ingredient_id: ing.cheese, quantity: 3 },
          { ingredient_id: ing.bun, quantity: 1 },
        ],
      },
      customer,
    );
    expect(res.status).toBe(201);
    expect(res.body.quantity).toBe(3);
    const cart = await api.get('/v1/cart', customer);
    expect(cart.body.items).toHaveLength(1);
    expect(cart.body.total_cents).toBe(3 * 590);
  });

  it.each([
    ['an unknown recipe', () => ({ recipe_id: 999_999, quantity: 1 }), 'recipe_id'],
    [
      'an ingredient not in the recipe',
      () => ({ recipe_id: burgerId, quantity: 1, customizations: [{ ingredient_id: ing.potato, quantity: 1 }] }),
      'customizations.0.ingredient_id',
    ],
    [
      'removing a non-removable ingredient',
      () => ({ recipe_id: burgerId, quantity: 1, customizations: [{ ingredient_id: ing.patty, quantity: 0 }] }),
      'customizations.0.quantity',
    ],
    [
      'more than max_quantity',
      () => ({ recipe_id: burgerId, quantity: 1, customizations: [{ ingredient_id: ing.cheese, quantity: 4 }] }),
      'customizations.0.quantity',
    ],
    [
      'more of an ingredient without max_quantity',
      () => ({ recipe_id: burgerId, quantity: 1, customizations: [{ ingredient_id: ing.onion, quantity: 2 }] }),
      'customizations.0.quantity',
    ],
    [
      'the same ingredient twice',
      () => ({
        recipe_id: burgerId,
        quantity: 1,
        customizations: [
          { ingredient_id: ing.cheese, quantity: 2 },
          { ingredient_id: ing.cheese, quantity: 0 },
        ],
      }),
      'customizations.1.ingredient_id',
    ],
    ['quantity 0', () => ({ recipe_id: burgerId, quantity: 0 }), 'quantity'],
    ['quantity 51', () => ({ recipe_id: burgerId, quantity: 51 }), 'quantity'],
    ['a fractional quantity', () => ({ recipe_id: burgerId, quantity: 1.5 }), 'quantity'],
    ['a string recipe id', () => ({ recipe_id: '1', quantity: 1 }), 'recipe_id'],
    ['an unknown field', () => ({ recipe_id: burgerId, quantity: 1, price_cents: 1 }), ''],
  ])('refuses %s with 400 naming the field', async (_name, body, path) => {
    const res = problem(await api.post('/v1/cart/items', body(), customer), 400, 'validation_failed');
    expect(res.errors?.map((e) => e.path)).toContain(path);
  });

  it('refuses an archived recipe', async () => {
    const manager = await signInStaff(t.cognito, t.db.knex, (await t.db.knex('restaurants').where({ domain: 'cart.example.com' }).first()).id, 'manager');
    const temp = await api.post('/v1/recipes', { name: 'Temporary', ingredients: [{ ingredient_id: ing.bun, quantity: 1 }] }, manager);
    expect((await api.delete(`/v1/recipes/${temp.body.id}`, manager)).status).toBe(204);
    const res = problem(await api.post('/v1/cart/items', { recipe_id: temp.body.id, quantity: 1 }, customer), 400, 'validation_failed');
    expect(res.errors?.[0]?.path).toBe('recipe_id');
  });

  it('flags a line the stock cannot cover, and shows today’s price', async () => {
    const line = await api.post('/v1/cart/items', { recipe_id: friesId, quantity: 2 }, customer);
    expect(line.status).toBe(201);
    expect(line.body.available).toBe(false); // 2 portions need 4 potatoes, 3 in stock
    await t.db.knex('ingredients').where({ id: ing.potato }).update({ price_cents: 150 });
    const cart = await api.get('/v1/cart', customer);
    const fries = cart.body.items.find((item: { recipe_id: number }) => item.recipe_id === friesId);
    expect(fries).toMatchObject({ unit_price_cents: 300, line_total_cents: 600, available: false, unavailable_reason: 'Not enough Potato for 2 portions' });
    expect(cart.body.total_cents).toBe(3 * 590 + 600);
  });

  it('adds a sold-out or switched-off dish, saying at once and in the cart why it cannot be ordered', async () => {
    const restaurantId = (await t.db.knex('restaurants').where({ domain: 'cart.example.com' }).first()).id;
    const manager = await signInStaff(t.cognito, t.db.knex, restaurantId, 'manager');
    const basil = await insertIngredientRow(t.db.knex, restaurantId, { name: 'Basil', price_cents: 40, stock: 0 });
    const pesto = await api.post(
      '/v1/recipes',
      {
        name: 'Pesto',
        ingredients: [
          { ingredient_id: basil, quantity: 2 },
          { ingredient_id: ing.bun, quantity: 1 },
        ],
      },
      manager,
    );
    const shopper = await signInCustomer(t.cognito);

    const added = await api.post('/v1/cart/items', { recipe_id: pesto.body.id, quantity: 1 }, shopper);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ available: false, unavailable_reason: 'Basil has run out' });
    const shown = (await api.get('/v1/cart', shopper)).body.items[0];
    expect(shown).toMatchObject({ id: added.body.id, available: false, unavailable_reason: 'Basil has run out' });

    // One portion's worth, but not two: named, with no stock figure.
    await t.db.knex('ingredients').where({ id: basil }).update({ stock: 3 });
    const two = await api.patch(`/v1/cart/items/${added.body.id}`, { quantity: 2 }, shopper);
    expect(two.body).toMatchObject({ available: false, unavailable_reason: 'Not enough Basil for 2 portions' });
    expect(two.body.unavailable_reason).not.toMatch(/\d+ left|3/);

    await t.db.knex('ingredients').where({ id: basil }).update({ stock: 100 });
    expect((await api.patch(`/v1/ingredients/${ing.bun}`, { available: false }, manager)).status).toBe(200);
    expect((await api.get('/v1/cart', shopper)).body.items[0]).toMatchObject({ available: false, unavailable_reason: 'Bun is unavailable right now' });

    expect((await api.patch(`/v1/ingredients/${ing.bun}`, { available: true }, manager)).status).toBe(200);
    expect((await api.get('/v1/cart', shopper)).body.items[0]).toMatchObject({ available: true, unavailable_reason: null });

    expect((await api.delete(`/v1/recipes/${pesto.body.id}`, manager)).status).toBe(204);
    expect((await api.get('/v1/cart', shopper)).body.items[0]).toMatchObject({ available: false, unavailable_reason: 'Pesto is no longer on the menu' });
  });

  it('changes a line’s portions and customisations, validated the same way', async () => {
    const cart = await api.get('/v1/cart', customer);
    const burger = cart.body.items.find((item: { recipe_id: number }) => item.recipe_id === burgerId);
    const res = await api.patch(`/v1/cart/items/${burger.id}`, { quantity: 1, customizations: [] }, customer);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ quantity: 1, customizations: [], unit_price_cents: 450 });
    problem(
      await api.patch(`/v1/cart/items/${burger.id}`, { customizations: [{ ingredient_id: ing.cheese, quantity: 9 }] }, customer),
      400,
      'validation_failed',
    );
    problem(await api.patch(`/v1/cart/items/${burger.id}`, {}, customer), 400, 'validation_failed');
  });

  it('keeps one customer’s cart out of another’s reach', async () => {
    const cart = await api.get('/v1/cart', customer);
    const lineId = cart.body.items[0].id;
    expect((await api.get('/v1/cart', other)).body.items).toEqual([]);
    problem(await api.patch(`/v1/cart/items/${lineId}`, { quantity: 2 }, other), 404, 'not_found');
    problem(await api.delete(`/v1/cart/items/${lineId}`, other), 404, 'not_found');
    expect((await api.get('/v1/cart', customer)).body.items).toHaveLength(cart.body.items.length);
  });

  it('keeps a cart per restaurant', async () => {
    await createRestaurant(t.db.knex, { domain: 'elsewhere.example.com' });
    const elsewhere = catalogClient(t.app, 'elsewhere.example.com');
    expect((await elsewhere.get('/v1/cart', customer)).body.items).toEqual([]);
    problem(await elsewhere.post('/v1/cart/items', { recipe_id: burgerId, quantity: 1 }, customer), 400, 'validation_failed');
  });

  it('removes a line, then empties the cart', async () => {
    const cart = await api.get('/v1/cart', customer);
    const removed = await api.delete(`/v1/cart/items/${cart.body.items[0].id}`, customer);
    expect(removed.status, removed.text + JSON.stringify(cart.body)).toBe(204);
    expect((await api.get('/v1/cart', customer)).body.items).toHaveLength(cart.body.items.length - 1);
    expect((await api.delete('/v1/cart', customer)).status).toBe(204);
    expect((await api.get('/v1/cart', customer)).body).toEqual({ items: [], total_cents: 0 });
  });
});
