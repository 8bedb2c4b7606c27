import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';

describe('catalog caching for the CDN', () => {
  let t: TestApp;
  let restaurant: RestaurantRow;
  let a: CatalogClient;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let customer: SignedInUser;
  let ingredientId: number;
  let recipeId: number;

  beforeAll(async () => {
    t = await createTestApp();
    restaurant = await createRestaurant(t.db.knex, { domain: 'cache-a.test' });
    a = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
    customer = await signInCustomer(t.cognito);
    ingredientId = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Espresso', stock: 10, price_cents: 180 });
    [recipeId] = (await insertRecipeRows(t.db.knex, restaurant.id, [{ name: 'Doppio', lines: [{ ingredient_id: ingredientId, quantity: 2 }] }])) as [number];
  });
  afterAll(async () => {
    await t.close();
  });

  const readUrls = () => ['/v1/recipes', `/v1/recipes/${recipeId}`, '/v1/ingredients', `/v1/ingredients/${ingredientId}`];
  const varyOf = (res: { headers: Record<string, string | undefined> }) =>
    String(res.headers.vary ?? '')
      .split(',')
      .map((part) => part.trim().toLowerCase());

  it('sends anonymous reads as public, max-age=5 with a strong ETag, varying on the token and the restaurant', async () => {
    for (const url of readUrls()) {
      const res = await a.get(url);
      expect(res.status, url).toBe(200);
      expect(res.headers['cache-control'], url).toBe('public, max-age=5');
      expect(res.headers.etag, url).toMatch(/^"[^"]+"$/); // strong: no W/ prefix
      expect(varyOf(res), url).toEqual(expect.arrayContaining(['authorization', 'x-restaurant-domain', 'host']));
    }
  });

  it('answers If-None-Match with 304 and no body while nothing changed, and 200 with a new ETag once stock moves', async () => {
    for (const url of readUrls()) {
      const first = await a.get(url);
      const etag = String(first.headers.etag);
      const again = await a.get(url).set('If-None-Match', etag);
      expect(again.status, url).toBe(304);
      expect(again.text ?? '', url).toBe('');
      expect(again.headers.etag).toBe(etag);
      expect(again.headers['cache-control']).toBe('public, max-age=5');
      const stale = await a.get(url).set('If-None-Match', '"something-else"');
      expect(stale.status, url).toBe(200);
    }
    const before = await a.get(`/v1/recipes/${recipeId}`);
    expect(before.body).toMatchObject({ available: true, max_orderable: 5 });
    await a.post(`/v1/ingredients/${ingredientId}/adjustments`, { delta: -9, reason: 'waste' }, kitchen);
    const after = await a.get(`/v1/recipes/${recipeId}`).set('If-None-Match', String(before.headers.etag));
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ available: false, max_orderable: 0 });
    expect(after.headers.etag).not.toBe(before.headers.etag);
    await a.post(`/v1/ingredients/${ingredientId}/adjustments`, { delta: 9, reason: 'restock' }, kitchen);
  });

  it('marks staff reads private, no-store (they carry stock figures)', async () => {
    for (const user of [manager, kitchen]) {
      for (const url of readUrls()) {
        const res = await a.get(url, user);
        expect(res.status, url).toBe(200);
        expect(res.headers['cache-control'], url).toBe('private, no-store');
        expect(varyOf(res)).toContain('authorization');
      }
      expect((await a.get(`/v1/ingredients/${ingredientId}`, user)).body.stock).toBe(10);
    }
  });

  it('marks a signed-in customer’s reads private: the request carried credentials', async () => {
    for (const url of readUrls()) {
      const res = await a.get(url, customer);
      expect(res.status, url).toBe(200);
      expect(res.headers['cache-control'], url).toBe('private, max-age=5');
    }
    expect((await a.get(`/v1/ingredients/${ingredientId}`, customer)).body).not.toHaveProperty('stock');
  });

  it('gives the staff and public views different ETags, so a revalidation cannot cross them', async () => {
    const anonymous = await a.get(`/v1/ingredients/${ingredientId}`);
    const staff = await a.get(`/v1/ingredients/${ingredientId}`, manager).set('If-None-Match', String(anonymous.headers.etag));
    expect(staff.status).toBe(200);
    expect(staff.body.stock).toBe(10);
  });

  it('serves the same path on two restaurant domains as two different resources', async () => {
    const other = await createRestaurant(t.db.knex, { domain: 'cache-b.test' });
    const theirIngredient = await insertIngredientRow(t.db.knex, other.id, { name: 'Matcha', stock: 3 });
    await insertRecipeRows(t.db.knex, other.id, [{ name: 'Matcha latte', lines: [{ ingredient_id: theirIngredient, quantity: 1 }] }]);
    const ours = await a.get('/v1/recipes');
    const theirs = await catalogClient(t.app, other.domain).get('/v1/recipes').set('If-None-Match', String(ours.headers.etag));
    expect(theirs.status).toBe(200);
    expect(theirs.body.data.map((recipe: { name: string }) => recipe.name)).toEqual(['Matcha latte']);
    // Through Host instead of the header: the URL itself differs, and so does the answer.
    const viaHost = await request(t.app).get('/v1/recipes').set('Host', 'www.cache-b.test');
    expect(viaHost.body.data.map((recipe: { name: string }) => recipe.name)).toEqual(['Matcha latte']);
    expect(viaHost.headers['cache-control']).toBe('public, max-age=5');
  });

  it('never marks an error public', async () => {
    const missing = problem(await a.get('/v1/recipes/987654321'), 404, 'not_found');
    expect(missing).toBeDefined();
    const res = await a.get('/v1/recipes/987654321');
    expect(res.headers['cache-control']).toBeUndefined();
    const badToken = await a.get('/v1/recipes').set('Authorization', 'Bearer expired.or.forged');
    problem(badToken, 401, 'unauthenticated');
    expect(badToken.headers['cache-control']).toBeUndefined();
  });

  it('never caches writes or the ledger', async () => {
    const ledger = await a.get(`/v1/ingredients/${ingredientId}/adjustments`, kitchen);
    expect(ledger.headers['cache-control']).toBe('private, no-store');
    const write = await a.patch(`/v1/ingredients/${ingredientId}`, { price_cents: 190 }, manager);
    expect(write.status).toBe(200);
    expect(String(write.headers['cache-control'] ?? '')).not.toMatch(/public/);
  });
});
