import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { twoRestaurants } from './support/two-restaurants.js';
import type { RestaurantRow } from './support/factories.js';
import type { SignedInUser } from './support/users.js';
import { catalogClient, insertOrderReservation, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';

describe('ingredients', () => {
  let t: TestApp;
  let restaurant: RestaurantRow;
  let a: CatalogClient;
  let b: CatalogClient;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let customer: SignedInUser;
  let otherManager: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    ({ restaurant, a, b, manager, kitchen, customer, otherManager } = await twoRestaurants(t, 'ingredients'));
  });
  afterAll(async () => {
    await t.close();
  });

  const create = async (body: Record<string, unknown>, client: CatalogClient = a, user: SignedInUser = manager) => {
    const res = await client.post('/v1/ingredients', { unit: 'piece', price_cents: 100, ...body }, user);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number; stock: number; name: string };
  };
  const stockOf = async (id: number) => Number((await t.db.knex('ingredients').first('stock').where({ id })).stock);
  const ledgerOf = async (id: number) => t.db.knex('inventory_movements').select('delta', 'reason', 'stock_after').where({ ingredient_id: id }).orderBy('id');

  describe('create, read, update', () => {
    it('lets a manager create an ingredient and answers the staff view', async () => {
      const res = await a.post(
        '/v1/ingredients',
        { name: '  Cheddar  ', description: 'Mature farmhouse cheddar.', unit: 'slice', price_cents: 120, low_stock_threshold: 10 },
        manager,
      );
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        name: 'Cheddar',
        description: 'Mature farmhouse cheddar.',
        unit: 'slice',
        price_cents: 120,
        available: true,
        stock: 0,
        low_stock_threshold: 10,
        allergens: [],
        vegan: false,
        vegetarian: false,
        unavailable_until: null,
      });
    });

    it('records opening stock in the ledger so the ledger sums to the stock', async () => {
      const created = await create({ name: 'Opening stock', stock: 25 });
      expect(created.stock).toBe(25);
      expect(await ledgerOf(created.id)).toEqual([{ delta: 25, reason: 'restock', stock_after: 25 }]);
    });

    it('shows stock figures to staff and never to customers or anonymous callers', async () => {
      const created = await create({ name: 'Secret stock', stock: 7, low_stock_threshold: 3 });
      for (const user of [undefined, customer]) {
        const one = await a.get(`/v1/ingredients/${created.id}`, user);
        expect(one.status).toBe(200);
        expect(one.body).toEqual({
          id: created.id,
          name: 'Secret stock',
          description: '',
          unit: 'piece',
          price_cents: 100,
          available: true,
          allergens: [],
          vegan: false,
          vegetarian: false,
          unavailable_until: null,
        });
        const list = await a.get('/v1/ingredients?limit=100', user);
        expect(list.status).toBe(200);
        for (const item of list.body.data) {
          expect(item).not.toHaveProperty('stock');
          expect(item).not.toHaveProperty('low_stock_threshold');
        }
        expect(list.text).not.toMatch(/"stock"|low_stock_threshold/);
      }
      for (const user of [manager, kitchen]) {
        const one = await a.get(`/v1/ingredients/${created.id}`, user);
        expect(one.body).toMatchObject({ stock: 7, low_stock_threshold: 3 });
        const list = await a.get('/v1/ingredients?limit=100', user);
        expect(list.body.data.find((item: { id: number }) => item.id === created.id)).toMatchObject({ stock: 7 });
      }
    });

    it('lets a manager change fields, and reads the change back', async () => {
      const created = await create({ name: 'Tomato' });
      const res = await a.patch(`/v1/ingredients/${created.id}`, { price_cents: 35, available: false, description: 'Vine', unit: 'slice' }, manager);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: created.id, name: 'Tomato', price_cents: 35, available: false, description: 'Vine', unit: 'slice' });
      expect((await a.get(`/v1/ingredients/${created.id}`)).body).toMatchObject({ price_cents: 35, available: false });
    });

    it('refuses stock in a PATCH: stock changes go through adjustments and the ledger', async () => {
      const created = await create({ name: 'No direct stock' });
      const body = problem(await a.patch(`/v1/ingredients/${created.id}`, { stock: 1000 }, manager), 400, 'validation_failed');
      expect(JSON.stringify(body.errors)).toContain('stock');
      expect(await stockOf(created.id)).toBe(0);
    });

    it('answers 409 conflict naming the field for a second active ingredient of the same name, any case', async () => {
      await create({ name: 'Basil' });
      const body = problem(await a.post('/v1/ingredients', { name: 'BASIL', unit: 'piece', price_cents: 1 }, manager), 409, 'conflict');
      expect(body.errors).toEqual([{ path: 'name', message: expect.any(String) }]);
      const mint = await create({ name: 'Mint' });
      problem(await a.patch(`/v1/ingredients/${mint.id}`, { name: 'basil' }, manager), 409, 'conflict');
    });

    it('lets the other restaurant use the same name', async () => {
      await create({ name: 'Shared name' });
      await create({ name: 'Shared name' }, b, otherManager);
    });

    it('pages the list by id with an opaque cursor', async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await a.get(`/v1/ingredients?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((item: { id: number }) => item.id));
        cursor = res.body.next_cursor;
      } while (cursor !== null);
      expect(seen).toEqual([...seen].sort((x, y) => x - y));
      expect(new Set(seen).size).toBe(seen.length);
      const all = await t.db.knex('ingredients').count({ n: '*' }).where({ restaurant_id: restaurant.id }).whereNull('archived_at').first();
      expect(seen.length).toBe(Number(all?.n));
      problem(await a.get('/v1/ingredients?cursor=not-a-cursor'), 400, 'validation_failed');
      problem(await a.get('/v1/ingredients?limit=101'), 400, 'validation_failed');
      problem(await a.get('/v1/ingredients?limit=0'), 400, 'validation_failed');
    });
  });

  describe('validation', () => {
    it.each([
      ['a name over 50 characters', { name: 'x'.repeat(51) }, 'name'],
      ['an empty name', { name: '   ' }, 'name'],
      ['a missing name', { name: undefined }, 'name'],
      ['a description over 200 characters', { description: 'x'.repeat(201) }, 'description'],
      ['an empty unit', { unit: '' }, 'unit'],
      ['a unit over 20 characters', { unit: 'x'.repeat(21) }, 'unit'],
      ['a negative price', { price_cents: -1 }, 'price_cents'],
      ['a fractional price', { price_cents: 1.5 }, 'price_cents'],
      ['a price as a string', { price_cents: '100' }, 'price_cents'],
      ['an absurd price', { price_cents: 10_000_001 }, 'price_cents'],
      ['a negative threshold', { low_stock_threshold: -1 }, 'low_stock_threshold'],
      ['a negative opening stock', { stock: -5 }, 'stock'],
      ['available as a string', { available: 'yes' }, 'available'],
    ])('refuses %s with 400 naming the field', async (_what, override, field) => {
      const body = problem(
        await a.post('/v1/ingredients', { name: 'Valid name', unit: 'piece', price_cents: 100, ...override }, manager),
        400,
        'validation_failed',
      );
      expect(body.errors?.map((error) => error.path)).toContain(field);
    });

    it('refuses unknown fields, naming them', async () => {
      const body = problem(await a.post('/v1/ingredients', { nme: 'Typo', name: 'Typo', unit: 'piece', price_cents: 1 }, manager), 400, 'validation_failed');
      expect(JSON.stringify(body.errors)).toContain('nme');
    });

    it.each(['abc', '0', '-1', '1e3', '1.5', '99999999999999999999', '9007199254740993'])('answers 400, never 500, for the id %s', async (id) => {
      problem(await a.get(`/v1/ingredients/${id}`), 400, 'validation_failed');
      problem(await a.patch(`/v1/ingredients/${id}`, { price_cents: 1 }, manager), 400, 'validation_failed');
      problem(await a.post(`/v1/ingredients/${id}/adjustments`, { delta: 1, reason: 'restock' }, kitchen), 400, 'validation_failed');
    });

    it('answers 404 for a well-formed id nobody has', async () => {
      problem(await a.get('/v1/ingredients/9007199254740991'), 404, 'not_found');
      problem(await a.patch('/v1/ingredients/123456789', { price_cents: 1 }, manager), 404, 'not_found');
      problem(await a.delete('/v1/ingredients/123456789', manager), 404, 'not_found');
    });
  });

  describe('who may do what', () => {
    it('refuses the kitchen role creating, changing or archiving ingredients (403)', async () => {
      const created = await create({ name: 'Kitchen cannot' });
      problem(await a.post('/v1/ingredients', { name: 'K', unit: 'piece', price_cents: 1 }, kitchen), 403, 'forbidden');
      problem(await a.patch(`/v1/ingredients/${created.id}`, { price_cents: 1 }, kitchen), 403, 'forbidden');
      problem(await a.delete(`/v1/ingredients/${created.id}`, kitchen), 403, 'forbidden');
      expect((await a.get(`/v1/ingredients/${created.id}`)).body.price_cents).toBe(100);
    });

    it('refuses customers (403) and anonymous callers (401) on every staff route', async () => {
      const created = await create({ name: 'Staff only', stock: 5 });
      for (const [user, status, code] of [
        [customer, 403, 'forbidden'],
        [undefined, 401, 'unauthenticated'],
      ] as const) {
        problem(await a.post('/v1/ingredients', { name: 'C', unit: 'piece', price_cents: 1 }, user), status, code);
        problem(await a.patch(`/v1/ingredients/${created.id}`, { price_cents: 1 }, user), status, code);
        problem(await a.delete(`/v1/ingredients/${created.id}`, user), status, code);
        problem(await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: -1, reason: 'waste' }, user), status, code);
        problem(await a.get(`/v1/ingredients/${created.id}/adjustments`, user), status, code);
      }
      expect(await stockOf(created.id)).toBe(5);
    });

    it('refuses a manager of another restaurant (403)', async () => {
      const created = await create({ name: 'Not yours' });
      problem(await a.patch(`/v1/ingredients/${created.id}`, { price_cents: 1 }, otherManager), 403, 'forbidden');
      problem(await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: 1, reason: 'restock' }, otherManager), 403, 'forbidden');
    });

    it('answers 401 when a token is sent to a public read but is not valid', async () => {
      const res = await a.get('/v1/ingredients').set('Authorization', 'Bearer not.a.token');
      problem(res, 401, 'unauthenticated');
    });
  });

  describe('stock adjustments and the ledger', () => {
    it('lets kitchen staff restock, and answers the ledger row', async () => {
      const created = await create({ name: 'Flour' });
      const res = await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: 10, reason: 'restock', note: 'delivery #42' }, kitchen);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        ingredient_id: created.id,
        delta: 10,
        reason: 'restock',
        stock_after: 10,
        order_id: null,
        user_sub: kitchen.sub,
        note: 'delivery #42',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      });
      expect(await stockOf(created.id)).toBe(10);
      const waste = await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: -3, reason: 'waste' }, manager);
      expect(waste.body).toMatchObject({ delta: -3, stock_after: 7, user_sub: manager.sub, note: null });
      expect(await stockOf(created.id)).toBe(7);
    });

    it('changes nothing when an adjustment would take stock below zero (409 insufficient_stock)', async () => {
      const created = await create({ name: 'Saffron', stock: 4 });
      const before = await ledgerOf(created.id);
      const body = problem(await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: -5, reason: 'waste' }, kitchen), 409, 'insufficient_stock');
      expect(body.detail).toMatch(/4/);
      expect(await stockOf(created.id)).toBe(4);
      expect(await ledgerOf(created.id)).toEqual(before);
      // Exactly to zero is fine.
      const ok = await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: -4, reason: 'count' }, kitchen);
      expect(ok.body.stock_after).toBe(0);
    });

    it('refuses a stock past the integer maximum with 409, never a 500', async () => {
      const created = await create({ name: 'Near the limit' });
      await t.db.knex('ingredients').where({ id: created.id }).update({ stock: 2_147_483_000 });
      const body = problem(await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: 1_000_000, reason: 'restock' }, kitchen), 409, 'conflict');
      expect(body.errors?.[0]?.path).toBe('delta');
      expect(await stockOf(created.id)).toBe(2_147_483_000);
    });

    it.each([
      ['a zero delta', { delta: 0, reason: 'restock' }, 'delta'],
      ['a fractional delta', { delta: 1.5, reason: 'restock' }, 'delta'],
      ['an enormous delta', { delta: 1_000_001, reason: 'restock' }, 'delta'],
      ['an enormous negative delta', { delta: -1e12, reason: 'waste' }, 'delta'],
      ['a missing delta', { reason: 'restock' }, 'delta'],
      ['a reason reserved for orders', { delta: -1, reason: 'order_reserved' }, 'reason'],
      ['an unknown reason', { delta: 1, reason: 'gift' }, 'reason'],
      ['a note over 200 characters', { delta: 1, reason: 'restock', note: 'x'.repeat(201) }, 'note'],
    ])('refuses %s with 400 naming the field', async (_what, body, field) => {
      const created = await create({ name: `Validated ${field} ${Math.random()}`.slice(0, 50), stock: 3 });
      const answer = problem(await a.post(`/v1/ingredients/${created.id}/adjustments`, body, kitchen), 400, 'validation_failed');
      expect(answer.errors?.map((error) => error.path)).toContain(field);
      expect(await stockOf(created.id)).toBe(3);
    });

    it('lists the ledger newest first, order reservations included, in keyset pages', async () => {
      const created = await create({ name: 'Eggs', stock: 12 });
      await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: -2, reason: 'waste' }, kitchen);
      const orderId = await insertOrderReservation(t.db.knex, restaurant.id, created.id, 3);
      await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: 6, reason: 'restock' }, manager);

      const first = await a.get(`/v1/ingredients/${created.id}/adjustments?limit=3`, kitchen);
      expect(first.status).toBe(200);
      expect(first.headers['cache-control']).toBe('private, no-store');
      expect(first.body.data.map((row: { reason: string; delta: number; stock_after: number }) => [row.reason, row.delta, row.stock_after])).toEqual([
        ['restock', 6, 13],
        ['order_reserved', -3, 7],
        ['waste', -2, 10],
      ]);
      expect(first.body.data[1]).toMatchObject({ order_id: orderId, user_sub: null });
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await a.get(`/v1/ingredients/${created.id}/adjustments?limit=3&cursor=${first.body.next_cursor}`, kitchen);
      expect(second.body).toEqual({ data: [expect.objectContaining({ reason: 'restock', delta: 12, stock_after: 12 })], next_cursor: null });
      // The ledger sums to the stock.
      const all = [...first.body.data, ...second.body.data].reduce((sum: number, row: { delta: number }) => sum + row.delta, 0);
      expect(all).toBe(await stockOf(created.id));
    });

    it('keeps the ledger append-only in the database itself', async () => {
      const created = await create({ name: 'Append only', stock: 1 });
      await expect(t.db.knex('inventory_movements').where({ ingredient_id: created.id }).update({ delta: 100 })).rejects.toThrow(/append-only/);
      await expect(t.db.knex('inventory_movements').where({ ingredient_id: created.id }).delete()).rejects.toThrow(/append-only/);
    });
  });

  describe('low stock', () => {
    it('lists, for staff, the ingredients at or below their threshold', async () => {
      const low = await create({ name: 'Low one', stock: 2, low_stock_threshold: 5 });
      const atThreshold = await create({ name: 'At threshold', stock: 5, low_stock_threshold: 5 });
      const plenty = await create({ name: 'Plenty', stock: 50, low_stock_threshold: 5 });
      const res = await a.get('/v1/ingredients?low_stock=true&limit=100', kitchen);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('private, no-store');
      const ids = res.body.data.map((item: { id: number }) => item.id);
      expect(ids).toEqual(expect.arrayContaining([low.id, atThreshold.id]));
      expect(ids).not.toContain(plenty.id);
      for (const item of res.body.data) expect(item.stock).toBeLessThanOrEqual(item.low_stock_threshold);
      const notLow = await a.get('/v1/ingredients?low_stock=false&limit=100', manager);
      expect(notLow.body.data.map((item: { id: number }) => item.id)).toContain(plenty.id);
      expect(notLow.body.data.map((item: { id: number }) => item.id)).not.toContain(low.id);
      // An adjustment moves an ingredient out of the list at once.
      await a.post(`/v1/ingredients/${low.id}/adjustments`, { delta: 10, reason: 'restock' }, kitchen);
      const after = await a.get('/v1/ingredients?low_stock=true&limit=100', kitchen);
      expect(after.body.data.map((item: { id: number }) => item.id)).not.toContain(low.id);
    });

    it('refuses low_stock to customers (403) and anonymous callers (401) rather than ignoring it', async () => {
      problem(await a.get('/v1/ingredients?low_stock=true', customer), 403, 'forbidden');
      problem(await a.get('/v1/ingredients?low_stock=true'), 401, 'unauthenticated');
      problem(await a.get('/v1/ingredients?low_stock=yes', manager), 400, 'validation_failed');
    });
  });

  describe('archiving', () => {
    it('archives an unused ingredient: 204, then 404 and no longer listed, and its name is free again', async () => {
      const created = await create({ name: 'Retired' });
      expect((await a.delete(`/v1/ingredients/${created.id}`, manager)).status).toBe(204);
      problem(await a.get(`/v1/ingredients/${created.id}`), 404, 'not_found');
      problem(await a.get(`/v1/ingredients/${created.id}`, manager), 404, 'not_found');
      const list = await a.get('/v1/ingredients?limit=100', manager);
      expect(list.body.data.map((item: { id: number }) => item.id)).not.toContain(created.id);
      problem(await a.delete(`/v1/ingredients/${created.id}`, manager), 404, 'not_found');
      problem(await a.patch(`/v1/ingredients/${created.id}`, { price_cents: 1 }, manager), 404, 'not_found');
      problem(await a.post(`/v1/ingredients/${created.id}/adjustments`, { delta: 1, reason: 'restock' }, kitchen), 404, 'not_found');
      problem(await a.get(`/v1/ingredients/${created.id}/adjustments`, kitchen), 404, 'not_found');
      await create({ name: 'Retired' });
    });

    it('refuses to archive an ingredient active recipes use: 409 conflict naming the recipes', async () => {
      const used = await create({ name: 'Bun', stock: 10 });
      const [burger, sliders, retired] = (await insertRecipeRows(t.db.knex, restaurant.id, [
        { name: 'Burger', lines: [{ ingredient_id: used.id, quantity: 1 }] },
        { name: 'Sliders', lines: [{ ingredient_id: used.id, quantity: 3 }] },
        { name: 'Old burger', lines: [{ ingredient_id: used.id, quantity: 1 }] },
      ])) as [number, number, number];
      await t.db.knex('recipes').where({ id: retired }).update({ archived_at: t.db.knex.fn.now() });
      const body = problem(await a.delete(`/v1/ingredients/${used.id}`, manager), 409, 'conflict');
      expect(body.errors).toEqual([
        { path: `recipes.${burger}`, message: 'Burger' },
        { path: `recipes.${sliders}`, message: 'Sliders' },
      ]);
      expect((await a.get(`/v1/ingredients/${used.id}`)).status).toBe(200);
      // Once the recipes are archived, the ingredient can go.
      await t.db.knex('recipes').whereIn('id', [burger, sliders]).update({ archived_at: t.db.knex.fn.now() });
      expect((await a.delete(`/v1/ingredients/${used.id}`, manager)).status).toBe(204);
    });
  });

  describe('tenant isolation', () => {
    it('never shows B’s ingredients through A’s domain, and answers 404 for B’s ids there', async () => {
      const theirs = await create({ name: 'B only', stock: 9 }, b, otherManager);
      const list = await a.get('/v1/ingredients?limit=100', manager);
      expect(list.body.data.map((item: { id: number }) => item.id)).not.toContain(theirs.id);
      expect(list.text).not.toContain('B only');
      problem(await a.get(`/v1/ingredients/${theirs.id}`), 404, 'not_found');
      problem(await a.get(`/v1/ingredients/${theirs.id}`, manager), 404, 'not_found');
      problem(await a.patch(`/v1/ingredients/${theirs.id}`, { price_cents: 1 }, manager), 404, 'not_found');
      problem(await a.delete(`/v1/ingredients/${theirs.id}`, manager), 404, 'not_found');
      problem(await a.post(`/v1/ingredients/${theirs.id}/adjustments`, { delta: -1, reason: 'waste' }, kitchen), 404, 'not_found');
      problem(await a.get(`/v1/ingredients/${theirs.id}/adjustments`, kitchen), 404, 'not_found');
      const low = await a.get('/v1/ingredients?low_stock=false&limit=100', manager);
      expect(low.body.data.map((item: { id: number }) => item.id)).not.toContain(theirs.id);
      expect(await stockOf(theirs.id)).toBe(9);
      expect((await b.get(`/v1/ingredients/${theirs.id}`, otherManager)).body).toMatchObject({ name: 'B only', price_cents: 100, stock: 9 });
    });
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await catalogClient(t.app, restaurant.domain).get('/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/ingredients', '/v1/ingredients/{id}', '/v1/ingredients/{id}/adjustments']));
    expect(doc.paths['/v1/ingredients'].post.security).toBeDefined();
    expect(doc.components.schemas.Ingredient.properties.available.description).toMatch(/switch/);
  });
});
