import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { onRealPostgres } from './support/database.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { recipeSchema } from '../src/modules/catalog/recipes-schemas.js';
import { restoreTimedUnavailability } from '../src/modules/catalog/index.js';

const stockOf = async (knex: Knex, id: number) => Number((await knex('ingredients').where({ id }).first()).stock);
const ledgerSum = async (knex: Knex, id: number) =>
  Number((await knex('inventory_movements').where({ ingredient_id: id }).sum({ s: 'delta' }).first())?.s ?? 0);

// Many real connections and real row locks: PGlite has one connection and runs transactions one at a
// time, so there this would prove nothing.
describe.skipIf(!onRealPostgres)('options at checkout under concurrency (real PostgreSQL)', () => {
  let t: TestApp;
  let server: Server;
  let api: CatalogClient;
  let restaurantId: number;
  let manager: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    server = t.app.listen(0);
    const restaurant = await createRestaurant(t.db.knex, { domain: 'options-rush.example.com' });
    restaurantId = restaurant.id;
    api = catalogClient(server as unknown as Parameters<typeof catalogClient>[0], restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurantId, 'manager');
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  /** A burger whose "Double" option takes one more patty than the burger's own. */
  const burgerWithDouble = async (pattyStock: number) => {
    const patty = await insertIngredientRow(t.db.knex, restaurantId, { name: `Patty ${randomUUID().slice(0, 8)}`, stock: pattyStock });
    const bun = await insertIngredientRow(t.db.knex, restaurantId, { name: `Bun ${randomUUID().slice(0, 8)}`, stock: 1000 });
    const res = await api.post(
      '/v1/recipes',
      {
        name: `Burger ${randomUUID().slice(0, 8)}`,
        ingredients: [
          { ingredient_id: bun, quantity: 1 },
          { ingredient_id: patty, quantity: 1 },
        ],
        option_groups: [
          {
            name: 'Size',
            min_select: 1,
            max_select: 1,
            options: [
              { name: 'Single', default: true },
              { name: 'Double', price_cents: 500, ingredients: [{ ingredient_id: patty, quantity: 1 }] },
            ],
          },
        ],
      },
      manager,
    );
    expect(res.status, res.text).toBe(201);
    const recipe = recipeSchema.parse(res.body);
    const double = recipe.option_groups[0]?.options.find((option) => option.name === 'Double');
    if (double === undefined) throw new Error('no Double option');
    return { patty, recipeId: recipe.id, doubleId: double.id };
  };

  it('brings an 86 back on one instance per tick: while another holds the job lock, a tick does nothing', async () => {
    const avocado = await insertIngredientRow(t.db.knex, restaurantId, { name: `Avocado ${randomUUID().slice(0, 8)}`, available: false });
    await t.db
      .knex('ingredients')
      .where({ id: avocado })
      .update({ unavailable_until: new Date('2026-01-01T00:00:00Z') });
    const due = new Date('2026-01-01T00:00:05Z');
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    // Another instance mid-tick: it holds the lock until told to finish.
    const other = t.db.knex.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?, ?)', [0x7461626c, 17]);
      locked();
      await released;
    });
    await holding;
    expect(await restoreTimedUnavailability(t.db.knex, due)).toBe(0);
    expect((await t.db.knex('ingredients').where({ id: avocado }).first()).available).toBe(false);
    release();
    await other;
    expect(await restoreTimedUnavailability(t.db.knex, due)).toBeGreaterThanOrEqual(1);
    expect(await t.db.knex('ingredients').where({ id: avocado }).first()).toMatchObject({ available: true, unavailable_until: null });
  });

  const checkout = (user: SignedInUser) => api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash' }, user).set('Idempotency-Key', randomUUID());

  it('when 30 customers race for doubles with patties for 10, exactly 10 get one and the patties end at 0', async () => {
    const { patty, recipeId, doubleId } = await burgerWithDouble(20);
    const racers = await Promise.all(Array.from({ length: 30 }, () => signInCustomer(t.cognito)));
    for (const racer of racers) {
      const added = await api.post('/v1/cart/items', { recipe_id: recipeId, quantity: 1, options: [doubleId] }, racer);
      expect(added.status, added.text).toBe(201);
    }
    const results = await Promise.all(racers.map((racer) => checkout(racer)));
    expect(results.filter((res) => res.status === 201)).toHaveLength(10);
    const refused = results.filter((res) => res.status !== 201);
    expect(refused).toHaveLength(20);
    for (const res of refused) expect([res.status, JSON.parse(res.text).code]).toEqual([409, 'insufficient_stock']);
    expect(await stockOf(t.db.knex, patty)).toBe(0);
    // The opening stock went straight into the row, so the ledger holds exactly what the orders took.
    expect(await ledgerSum(t.db.knex, patty)).toBe(-20);
  }, 120_000);

  it('singles and doubles racing together never take more patties than there are', async () => {
    const { patty, recipeId, doubleId } = await burgerWithDouble(25);
    const racers = await Promise.all(Array.from({ length: 24 }, () => signInCustomer(t.cognito)));
    const needs = new Map<SignedInUser, number>();
    for (const [index, racer] of racers.entries()) {
      // Each cart holds a single and, for every other racer, a double too: 1 or 3 patties per order.
      await api.post('/v1/cart/items', { recipe_id: recipeId, quantity: 1 }, racer);
      if (index % 2 === 0) await api.post('/v1/cart/items', { recipe_id: recipeId, quantity: 1, options: [doubleId] }, racer);
      needs.set(racer, index % 2 === 0 ? 3 : 1);
    }
    const results = await Promise.all(racers.map(async (racer) => ({ racer, res: await checkout(racer) })));
    const taken = results.filter(({ res }) => res.status === 201).reduce((sum, { racer }) => sum + (needs.get(racer) ?? 0), 0);
    for (const { res } of results.filter(({ res }) => res.status !== 201)) expect(JSON.parse(res.text).code).toBe('insufficient_stock');
    expect(taken).toBeLessThanOrEqual(25);
    expect(await stockOf(t.db.knex, patty)).toBe(25 - taken);
    expect(await ledgerSum(t.db.knex, patty)).toBe(-taken);
    // Stock only falls here, so an order refused for want of patties could not be made at the end either.
    const refusedNeeds = results.filter(({ res }) => res.status !== 201).map(({ racer }) => needs.get(racer) ?? 0);
    if (refusedNeeds.length > 0) expect(25 - taken).toBeLessThan(Math.min(...refusedNeeds));
  }, 120_000);
});
