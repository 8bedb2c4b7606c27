import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { onRealPostgres } from './support/database.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInStaff, type SignedInUser } from './support/users.js';
import { catalogClient, type CatalogClient } from './support/catalog.js';

// PGlite has a single connection, so nothing there runs concurrently: these need the real server.
describe.skipIf(!onRealPostgres)('stock under concurrency (real Postgres)', () => {
  let t: TestApp;
  let restaurant: RestaurantRow;
  let a: CatalogClient;
  let manager: SignedInUser;
  let kitchen: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    restaurant = await createRestaurant(t.db.knex, { domain: 'concurrency-a.test' });
    a = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
  });
  afterAll(async () => {
    await t.close();
  });

  it('when 20 staff take the last 10 units at once, exactly 10 succeed and the ledger matches the stock', async () => {
    const created = await a.post('/v1/ingredients', { name: 'Last portions', unit: 'piece', price_cents: 100, stock: 10 }, manager);
    const id = created.body.id as number;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.post(`/v1/ingredients/${id}/adjustments`, { delta: -1, reason: 'waste' }, i % 2 === 0 ? kitchen : manager)),
    );
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 409)).toHaveLength(10);
    for (const res of answers.filter((answer) => answer.status === 409)) expect(res.body.code ?? JSON.parse(res.text).code).toBe('insufficient_stock');
    // Every success saw a distinct stock: 9, 8, ..., 0.
    expect(
      answers
        .filter((res) => res.status === 201)
        .map((res) => res.body.stock_after as number)
        .sort((x, y) => x - y),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const row = await t.db.knex('ingredients').first('stock').where({ id });
    expect(Number(row.stock)).toBe(0);
    const ledger = await t.db.knex('inventory_movements').select('delta').where({ ingredient_id: id });
    expect(ledger).toHaveLength(11); // the opening restock and the ten successes
    expect(ledger.reduce((sum: number, movement: { delta: number }) => sum + Number(movement.delta), 0)).toBe(0);
  });

  it('never lets a recipe be created on an ingredient archived at the same moment', async () => {
    for (let round = 0; round < 10; round += 1) {
      const created = await a.post('/v1/ingredients', { name: `Contested ${round}`, unit: 'piece', price_cents: 1 }, manager);
      const id = created.body.id as number;
      const [archive, recipe] = await Promise.all([
        a.delete(`/v1/ingredients/${id}`, manager),
        a.post('/v1/recipes', { name: `Contested dish ${round}`, ingredients: [{ ingredient_id: id, quantity: 1 }] }, manager),
      ]);
      // Exactly one of them wins; never an active recipe on an archived ingredient.
      expect([archive.status, recipe.status].sort()).toSatisfy(
        (pair: number[]) => (pair[0] === 201 && pair[1] === 409) || (pair[0] === 204 && pair[1] === 400),
      );
      const orphans = await t.db
        .knex('recipes as r')
        .join('recipe_ingredients as ri', 'ri.recipe_id', 'r.id')
        .join('ingredients as i', 'i.id', 'ri.ingredient_id')
        .whereNull('r.archived_at')
        .whereNotNull('i.archived_at')
        .count({ n: '*' })
        .first();
      expect(Number(orphans?.n)).toBe(0);
    }
  });
});
