import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { onRealPostgres } from './support/database.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';

const stockOf = async (knex: Knex, id: number) => Number((await knex('ingredients').where({ id }).first()).stock);
const ledgerSum = async (knex: Knex, id: number) =>
  Number((await knex('inventory_movements').where({ ingredient_id: id }).sum({ s: 'delta' }).first())?.s ?? 0);

// These need many real connections and real row locks: PGlite has one connection and runs
// transactions one at a time, so there they would prove nothing.
describe.skipIf(!onRealPostgres)('checkout under concurrency (real PostgreSQL)', () => {
  let t: TestApp;
  let server: Server;
  let api: CatalogClient;
  let restaurantId: number;

  beforeAll(async () => {
    t = await createTestApp();
    server = t.app.listen(0);
    const restaurant = await createRestaurant(t.db.knex, { domain: 'rush.example.com' });
    restaurantId = restaurant.id;
    api = catalogClient(server as unknown as Parameters<typeof catalogClient>[0], 'rush.example.com');
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  const customers = (n: number) => Promise.all(Array.from({ length: n }, () => signInCustomer(t.cognito)));
  const addToCart = async (user: SignedInUser, recipeId: number, quantity = 1) => {
    const res = await api.post('/v1/cart/items', { recipe_id: recipeId, quantity }, user);
    expect(res.status, res.text).toBe(201);
  };
  const checkout = (user: SignedInUser, key: string = randomUUID()) =>
    api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash' }, user).set('Idempotency-Key', key);

  it('when 50 customers race for stock enough for 10 orders, exactly 10 get one and stock ends at 0', async () => {
    const scarce = await insertIngredientRow(t.db.knex, restaurantId, { name: 'Last portions', stock: 20 });
    const plenty = await insertIngredientRow(t.db.knex, restaurantId, { name: 'Rice', stock: 1000 });
    const [dish] = (await insertRecipeRows(t.db.knex, restaurantId, [
      {
        name: 'Rare dish',
        lines: [
          { ingredient_id: plenty, quantity: 1 },
          { ingredient_id: scarce, quantity: 2 },
        ],
      },
    ])) as [number];
    const racers = await customers(50);
    await Promise.all(racers.map((racer) => addToCart(racer, dish)));

    const results = await Promise.all(racers.map((racer) => checkout(racer)));
    const statuses = results.map((res) => res.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(40);
    for (const refused of results.filter((res) => res.status === 409)) expect(JSON.parse(refused.text).code).toBe('insufficient_stock');

    expect(await stockOf(t.db.knex, scarce)).toBe(0);
    expect(await ledgerSum(t.db.knex, scarce)).toBe(-20);
    expect(await stockOf(t.db.knex, plenty)).toBe(1000 - 10);
    expect(await ledgerSum(t.db.knex, plenty)).toBe(-10);
    const orders = await t.db.knex('order_items').where({ recipe_id: dish });
    expect(orders).toHaveLength(10);
  }, 120_000);

  it('two checkouts taking overlapping ingredients in opposite line order, 200 at once: no deadlock reaches a client', async () => {
    const x = await insertIngredientRow(t.db.knex, restaurantId, { name: 'Ingredient X', stock: 100_000 });
    const y = await insertIngredientRow(t.db.knex, restaurantId, { name: 'Ingredient Y', stock: 100_000 });
    const [takesX, takesY] = (await insertRecipeRows(t.db.knex, restaurantId, [
      { name: 'X first', lines: [{ ingredient_id: x, quantity: 1 }] },
      { name: 'Y first', lines: [{ ingredient_id: y, quantity: 1 }] },
    ])) as [number, number];
    const people = await customers(200);
    await Promise.all(
      people.map(async (person, index) => {
        const [first, second] = index % 2 === 0 ? [takesX, takesY] : [takesY, takesX];
        await addToCart(person, first);
        await addToCart(person, second);
      }),
    );
    const results = await Promise.all(people.map((person) => checkout(person)));
    const failures = results.filter((res) => res.status !== 201).map((res) => `${res.status} ${res.text}`);
    expect(failures).toEqual([]);
    expect(await stockOf(t.db.knex, x)).toBe(100_000 - 200);
    expect(await stockOf(t.db.knex, y)).toBe(100_000 - 200);
  }, 180_000);

  it('the same Idempotency-Key sent 20 times at once places one order; the rest replay it or are told it is in use', async () => {
    const bread = await insertIngredientRow(t.db.knex, restaurantId, { name: 'Bread', stock: 100 });
    const [toast] = (await insertRecipeRows(t.db.knex, restaurantId, [{ name: 'Toast', lines: [{ ingredient_id: bread, quantity: 1 }] }])) as [number];
    const [person] = await customers(1);
    await addToCart(person!, toast, 2);
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => checkout(person!, key)));
    const created = results.filter((res) => res.status === 201);
    const inUse = results.filter((res) => res.status === 409);
    expect(created.length + inUse.length).toBe(20);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const res of inUse) expect(JSON.parse(res.text).code).toBe('idempotency_key_in_use');
    expect(new Set(created.map((res) => res.body.id)).size).toBe(1);
    expect(await t.db.knex('order_items').where({ recipe_id: toast })).toHaveLength(1);
    expect(await stockOf(t.db.knex, bread)).toBe(98);
    // Once the first has finished, a retry replays it.
    const later = await checkout(person!, key);
    expect(later.status).toBe(201);
    expect(later.body.id).toBe(created[0]!.body.id);
  }, 60_000);

  it('cancelling twice at once releases the stock once', async () => {
    const egg = await insertIngredientRow(t.db.knex, restaurantId, { name: 'Egg', stock: 50 });
    const [omelette] = (await insertRecipeRows(t.db.knex, restaurantId, [{ name: 'Omelette', lines: [{ ingredient_id: egg, quantity: 3 }] }])) as [number];
    const [person] = await customers(1);
    const staff = await signInStaff(t.cognito, t.db.knex, restaurantId, 'kitchen');
    await addToCart(person!, omelette, 2);
    const placed = await checkout(person!);
    expect(await stockOf(t.db.knex, egg)).toBe(44);
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => api.post(`/v1/orders/${placed.body.id}/cancel`, {}, person!)),
      ...Array.from({ length: 5 }, () => api.post(`/v1/orders/${placed.body.id}/cancel`, {}, staff)),
    ]);
    expect(results.filter((res) => res.status === 200)).toHaveLength(1);
    expect(results.filter((res) => res.status === 409)).toHaveLength(9);
    expect(await stockOf(t.db.knex, egg)).toBe(50);
    expect(await t.db.knex('inventory_movements').where({ order_id: placed.body.id, reason: 'order_released' })).toHaveLength(1);
    expect(await t.db.knex('order_events').where({ order_id: placed.body.id, status: 'cancelled' })).toHaveLength(1);
  }, 60_000);

  it('two staff moving one order at once: one succeeds, the other is told the move is no longer possible', async () => {
    const tea = await insertIngredientRow(t.db.knex, restaurantId, { name: 'Tea', stock: 50 });
    const [cup] = (await insertRecipeRows(t.db.knex, restaurantId, [{ name: 'Cup of tea', lines: [{ ingredient_id: tea, quantity: 1 }] }])) as [number];
    const [person] = await customers(1);
    const [a, b] = await Promise.all([signInStaff(t.cognito, t.db.knex, restaurantId, 'kitchen'), signInStaff(t.cognito, t.db.knex, restaurantId, 'manager')]);
    await addToCart(person!, cup);
    const placed = await checkout(person!);
    const results = await Promise.all([
      api.post(`/v1/orders/${placed.body.id}/transitions`, { to: 'confirmed' }, a!),
      api.post(`/v1/orders/${placed.body.id}/transitions`, { to: 'confirmed' }, b!),
    ]);
    expect(results.map((res) => res.status).sort()).toEqual([200, 409]);
    expect(await t.db.knex('order_events').where({ order_id: placed.body.id }).whereNot({ status: 'pending' })).toHaveLength(1);
  }, 60_000);
});
