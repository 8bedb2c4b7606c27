import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { twoRestaurants } from './support/two-restaurants.js';
import { recipePageSchema } from '../src/modules/catalog/recipes-schemas.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInStaff, type SignedInUser } from './support/users.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { getRecipesForPricing, priceRecipeLine } from '../src/modules/catalog/index.js';
import { AppError } from '../src/http/errors.js';
import { DEMO_DOMAIN, DEMO_MENU, seedDemoRestaurant } from '../seeds/demo-restaurant.js';

interface RecipeBody {
  id: number;
  name: string;
  price_cents: number;
  available: boolean;
  max_orderable: number;
  ingredients: Array<{ ingredient_id: number; quantity: number; price_cents: number }>;
}

describe('recipes', () => {
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
    ({ restaurant, a, b, manager, kitchen, customer, otherManager } = await twoRestaurants(t, 'recipes'));
  });
  afterAll(async () => {
    await t.close();
  });

  let names = 0;
  const uniqueName = (prefix: string) => `${prefix} ${++names}`;
  const ingredient = async (body: Record<string, unknown> = {}, client: CatalogClient = a, user: SignedInUser = manager): Promise<number> => {
    const res = await client.post('/v1/ingredients', { name: uniqueName('Ingredient'), unit: 'piece', price_cents: 100, ...body }, user);
    expect(res.status, res.text).toBe(201);
    return res.body.id as number;
  };
  const recipe = async (body: Record<string, unknown>, client: CatalogClient = a, user: SignedInUser = manager): Promise<RecipeBody> => {
    const res = await client.post('/v1/recipes', { name: uniqueName('Recipe'), ...body }, user);
    expect(res.status, res.text).toBe(201);
    return res.body as RecipeBody;
  };
  const adjust = async (ingredientId: number, delta: number) => {
    const res = await a.post(`/v1/ingredients/${ingredientId}/adjustments`, { delta, reason: 'correction' }, kitchen);
    expect(res.status, res.text).toBe(201);
  };
  const read = async (id: number): Promise<RecipeBody> => {
    const res = await a.get(`/v1/recipes/${id}`);
    expect(res.status, res.text).toBe(200);
    return res.body as RecipeBody;
  };

  describe('create and read', () => {
    it('creates a recipe and answers its computed price, availability and lines', async () => {
      const bun = await ingredient({ name: 'Brioche bun', unit: 'piece', price_cents: 100, stock: 30 });
      const patty = await ingredient({ name: 'Beef patty', unit: 'piece', price_cents: 650, stock: 9 });
      const tomato = await ingredient({ name: 'Tomato slice', unit: 'slice', price_cents: 25, stock: 100 });
      const res = await a.post(
        '/v1/recipes',
        {
          name: 'Double burger',
          description: 'Two patties',
          category: 'Burgers',
          ingredients: [
            { ingredient_id: tomato, quantity: 2, removable: true, max_quantity: 4 },
            { ingredient_id: patty, quantity: 2 },
            { ingredient_id: bun, quantity: 1 },
          ],
        },
        manager,
      );
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        name: 'Double burger',
        description: 'Two patties',
        category: 'Burgers',
        price_cents: 100 + 2 * 650 + 2 * 25,
        available: true,
        max_orderable: 4, // floor(9 / 2)
        image: null,
        ingredients: [
          { ingredient_id: bun, name: 'Brioche bun', unit: 'piece', quantity: 1, removable: false, max_quantity: null, price_cents: 100, allergens: [] },
          { ingredient_id: patty, name: 'Beef patty', unit: 'piece', quantity: 2, removable: false, max_quantity: null, price_cents: 650, allergens: [] },
          { ingredient_id: tomato, name: 'Tomato slice', unit: 'slice', quantity: 2, removable: true, max_quantity: 4, price_cents: 25, allergens: [] },
        ],
        option_groups: [],
        allergens: [],
        dietary: [],
      });
      expect(await read(res.body.id)).toEqual(res.body);
      const list = await a.get('/v1/recipes?limit=100', customer);
      expect(list.body.applied_preferences).toBeNull();
      expect(list.body.data.find((item: RecipeBody) => item.id === res.body.id)).toEqual(res.body);
      expect(list.text).not.toMatch(/"stock"/);
    });

    it('lets the kitchen and customers read but not write (403), and anonymous callers not write (401)', async () => {
      const created = await recipe({ ingredients: [{ ingredient_id: await ingredient({ stock: 1 }), quantity: 1 }] });
      for (const [user, status, code] of [
        [kitchen, 403, 'forbidden'],
        [customer, 403, 'forbidden'],
        [undefined, 401, 'unauthenticated'],
      ] as const) {
        expect((await a.get(`/v1/recipes/${created.id}`, user)).status).toBe(200);
        problem(
          await a.post('/v1/recipes', { name: 'Nope', ingredients: [{ ingredient_id: created.ingredients[0]?.ingredient_id, quantity: 1 }] }, user),
          status,
          code,
        );
        problem(await a.patch(`/v1/recipes/${created.id}`, { name: 'Renamed' }, user), status, code);
        problem(await a.delete(`/v1/recipes/${created.id}`, user), status, code);
      }
      expect((await read(created.id)).name).toBe(created.name);
    });
  });

  describe('live price and availability', () => {
    it('follow a stock adjustment immediately', async () => {
      const dough = await ingredient({ price_cents: 450, stock: 3 });
      const cheese = await ingredient({ price_cents: 300, stock: 5 });
      const pizza = await recipe({
        ingredients: [
          { ingredient_id: dough, quantity: 1 },
          { ingredient_id: cheese, quantity: 2 },
        ],
      });
      expect(pizza).toMatchObject({ price_cents: 450 + 600, available: true, max_orderable: 2 });

      await adjust(cheese, -2); // cheese 3: floor(3 / 2) = 1
      expect(await read(pizza.id)).toMatchObject({ available: true, max_orderable: 1 });

      await adjust(cheese, -2); // cheese 1 < 2: sold out
      expect(await read(pizza.id)).toMatchObject({ available: false, max_orderable: 0, price_cents: 1050 });
      const soldOut = await a.get('/v1/recipes?available=false&limit=100');
      expect(soldOut.body.data.map((item: RecipeBody) => item.id)).toContain(pizza.id);
      const orderable = await a.get('/v1/recipes?available=true&limit=100');
      expect(orderable.body.data.map((item: RecipeBody) => item.id)).not.toContain(pizza.id);

      await adjust(cheese, 20); // cheese 21, dough 3: dough limits
      expect(await read(pizza.id)).toMatchObject({ available: true, max_orderable: 3 });
      const back = await a.get('/v1/recipes?available=true&limit=100');
      expect(back.body.data.map((item: RecipeBody) => item.id)).toContain(pizza.id);
    });

    it('follow an ingredient price change immediately', async () => {
      const rice = await ingredient({ price_cents: 250, stock: 10 });
      const bowl = await recipe({ ingredients: [{ ingredient_id: rice, quantity: 2 }] });
      expect(bowl.price_cents).toBe(500);
      await a.patch(`/v1/ingredients/${rice}`, { price_cents: 275 }, manager);
      expect(await read(bowl.id)).toMatchObject({ price_cents: 550, ingredients: [expect.objectContaining({ price_cents: 275 })] });
    });

    it('show a recipe as unavailable while the manager has switched an ingredient off, whatever its stock', async () => {
      const truffle = await ingredient({ stock: 100 });
      const dish = await recipe({ ingredients: [{ ingredient_id: truffle, quantity: 1 }] });
      await a.patch(`/v1/ingredients/${truffle}`, { available: false }, manager);
      expect(await read(dish.id)).toMatchObject({ available: false, max_orderable: 0 });
      await a.patch(`/v1/ingredients/${truffle}`, { available: true }, manager);
      expect(await read(dish.id)).toMatchObject({ available: true, max_orderable: 100 });
    });

    it('keeps pages of available=true full: the filter is applied before the limit', async () => {
      const shop = await createRestaurant(t.db.knex);
      const inStock = await insertIngredientRow(t.db.knex, shop.id, { stock: 5 });
      const outOfStock = await insertIngredientRow(t.db.knex, shop.id, { stock: 0 });
      const ids = await insertRecipeRows(
        t.db.knex,
        shop.id,
        Array.from({ length: 12 }, (_, i) => ({ name: `Dish ${i}`, lines: [{ ingredient_id: i % 2 === 0 ? inStock : outOfStock, quantity: 1 }] })),
      );
      const client = catalogClient(t.app, shop.domain);
      const pages: number[][] = [];
      let cursor: string | null = null;
      do {
        const res = await client.get(`/v1/recipes?available=true&limit=4${cursor === null ? '' : `&cursor=${cursor}`}`);
        pages.push(res.body.data.map((item: RecipeBody) => item.id));
        cursor = res.body.next_cursor;
      } while (cursor !== null);
      expect(pages.map((page) => page.length)).toEqual([4, 2]);
      expect(pages.flat()).toEqual(ids.filter((_, i) => i % 2 === 0));
    });
  });

  describe('validation', () => {
    it.each([
      [
        'a duplicate ingredient',
        (x: number, y: number) => [
          { ingredient_id: x, quantity: 1 },
          { ingredient_id: y, quantity: 1 },
          { ingredient_id: x, quantity: 2 },
        ],
        'ingredients.2.ingredient_id',
      ],
      ['a quantity below 1', (x: number) => [{ ingredient_id: x, quantity: 0 }], 'ingredients.0.quantity'],
      ['a fractional quantity', (x: number) => [{ ingredient_id: x, quantity: 1.5 }], 'ingredients.0.quantity'],
      [
        'a max_quantity below the quantity',
        (x: number, y: number) => [
          { ingredient_id: x, quantity: 1 },
          { ingredient_id: y, quantity: 3, max_quantity: 2 },
        ],
        'ingredients.1.max_quantity',
      ],
      ['no ingredients', () => [], 'ingredients'],
      ['an ingredient id that is not a number', () => [{ ingredient_id: '1', quantity: 1 }], 'ingredients.0.ingredient_id'],
      ['an unknown field in a line', (x: number) => [{ ingredient_id: x, quantity: 1, qty: 2 }], 'ingredients.0'],
    ])('refuses %s with 400 naming the field', async (_what, lines, field) => {
      const x = await ingredient();
      const y = await ingredient();
      const body = problem(await a.post('/v1/recipes', { name: uniqueName('Invalid'), ingredients: lines(x, y) }, manager), 400, 'validation_failed');
      expect(body.errors?.map((error) => error.path)).toContain(field);
    });

    it('refuses unknown, archived and other restaurants’ ingredients, naming each line', async () => {
      const good = await ingredient();
      const archived = await ingredient();
      expect((await a.delete(`/v1/ingredients/${archived}`, manager)).status).toBe(204);
      const theirs = await ingredient({}, b, otherManager);
      const body = problem(
        await a.post(
          '/v1/recipes',
          {
            name: 'Bad lines',
            ingredients: [
              { ingredient_id: good, quantity: 1 },
              { ingredient_id: 987654321, quantity: 1 },
              { ingredient_id: archived, quantity: 1 },
              { ingredient_id: theirs, quantity: 1 },
            ],
          },
          manager,
        ),
        400,
        'validation_failed',
      );
      expect(body.errors?.map((error) => error.path)).toEqual(['ingredients.1.ingredient_id', 'ingredients.2.ingredient_id', 'ingredients.3.ingredient_id']);
      expect(await t.db.knex('recipes').where({ name: 'Bad lines' })).toEqual([]);
    });

    it.each([
      ['a name over 50 characters', { name: 'x'.repeat(51) }, 'name'],
      ['a missing name', { name: undefined }, 'name'],
      ['a description over 100 characters', { description: 'x'.repeat(101) }, 'description'],
      ['a category over 30 characters', { category: 'x'.repeat(31) }, 'category'],
      ['a price sent by the client', { price_cents: 1 }, ''],
    ])('refuses %s with 400', async (_what, override, field) => {
      const x = await ingredient();
      const res = await a.post('/v1/recipes', { name: uniqueName('Limits'), ingredients: [{ ingredient_id: x, quantity: 1 }], ...override }, manager);
      const body = problem(res, 400, 'validation_failed');
      expect(body.errors?.map((error) => error.path)).toContain(field);
    });

    it('answers 409 conflict naming the field for a second active recipe of the same name', async () => {
      const x = await ingredient();
      await recipe({ name: 'Margherita', ingredients: [{ ingredient_id: x, quantity: 1 }] });
      const body = problem(await a.post('/v1/recipes', { name: 'margherita', ingredients: [{ ingredient_id: x, quantity: 1 }] }, manager), 409, 'conflict');
      expect(body.errors).toEqual([{ path: 'name', message: expect.any(String) }]);
    });

    it.each(['abc', '0', '1e3', '99999999999999999999'])('answers 400, never 500, for the recipe id %s', async (id) => {
      problem(await a.get(`/v1/recipes/${id}`), 400, 'validation_failed');
      problem(await a.patch(`/v1/recipes/${id}`, { name: 'x' }, manager), 400, 'validation_failed');
      problem(await a.delete(`/v1/recipes/${id}`, manager), 400, 'validation_failed');
    });

    it('refuses bad list parameters with 400', async () => {
      problem(await a.get('/v1/recipes?available=yes'), 400, 'validation_failed');
      problem(await a.get(`/v1/recipes?search=${'x'.repeat(101)}`), 400, 'validation_failed');
      problem(await a.get('/v1/recipes?cursor=bm90LWEtY3Vyc29y'), 400, 'validation_failed');
    });
  });

  describe('update and archive', () => {
    it('replaces the ingredient set as a whole when ingredients are given', async () => {
      const x = await ingredient({ price_cents: 100, stock: 10 });
      const y = await ingredient({ price_cents: 200, stock: 10 });
      const z = await ingredient({ price_cents: 300, stock: 10 });
      const dish = await recipe({
        ingredients: [
          { ingredient_id: x, quantity: 1 },
          { ingredient_id: y, quantity: 1 },
        ],
      });
      const res = await a.patch(
        `/v1/recipes/${dish.id}`,
        {
          ingredients: [
            { ingredient_id: z, quantity: 2, removable: true },
            { ingredient_id: y, quantity: 5 },
          ],
        },
        manager,
      );
      expect(res.status).toBe(200);
      expect(res.body.ingredients.map((line: { ingredient_id: number; quantity: number }) => [line.ingredient_id, line.quantity])).toEqual([
        [y, 5],
        [z, 2],
      ]);
      expect(res.body).toMatchObject({ price_cents: 5 * 200 + 2 * 300, max_orderable: 2, name: dish.name });
      // Other fields alone leave the ingredients as they are.
      const renamed = await a.patch(`/v1/recipes/${dish.id}`, { name: 'Renamed dish', category: 'Mains' }, manager);
      expect(renamed.body).toMatchObject({ name: 'Renamed dish', category: 'Mains', price_cents: 1600 });
      // A bad set changes nothing.
      problem(
        await a.patch(`/v1/recipes/${dish.id}`, { name: 'Half applied', ingredients: [{ ingredient_id: 123456789, quantity: 1 }] }, manager),
        400,
        'validation_failed',
      );
      expect(await read(dish.id)).toMatchObject({ name: 'Renamed dish', price_cents: 1600 });
      problem(await a.patch(`/v1/recipes/${dish.id}`, { ingredients: [] }, manager), 400, 'validation_failed');
    });

    it('archives a recipe: 204, then 404, no longer listed, name free again, its ingredient archivable', async () => {
      const x = await ingredient();
      const dish = await recipe({ name: 'Seasonal special', ingredients: [{ ingredient_id: x, quantity: 1 }] });
      expect((await a.delete(`/v1/recipes/${dish.id}`, manager)).status).toBe(204);
      problem(await a.get(`/v1/recipes/${dish.id}`), 404, 'not_found');
      problem(await a.patch(`/v1/recipes/${dish.id}`, { name: 'x' }, manager), 404, 'not_found');
      problem(await a.delete(`/v1/recipes/${dish.id}`, manager), 404, 'not_found');
      const list = await a.get('/v1/recipes?limit=100');
      expect(list.body.data.map((item: RecipeBody) => item.id)).not.toContain(dish.id);
      await recipe({ name: 'Seasonal special', ingredients: [{ ingredient_id: x, quantity: 1 }] });
      expect(await getRecipesForPricing(t.db.knex, restaurant.id, [dish.id])).toEqual([]);
    });
  });

  describe('search and filters', () => {
    let shop: RestaurantRow;
    let client: CatalogClient;
    let ids: number[];
    beforeAll(async () => {
      shop = await createRestaurant(t.db.knex);
      client = catalogClient(t.app, shop.domain);
      const x = await insertIngredientRow(t.db.knex, shop.id, { stock: 10 });
      ids = await insertRecipeRows(t.db.knex, shop.id, [
        { name: 'Pizza Margherita', description: 'Tomato and MOZZARELLA', category: 'Pizza', lines: [{ ingredient_id: x, quantity: 1 }] },
        { name: 'Pizza Funghi', description: 'Mushrooms', category: 'Pizza', lines: [{ ingredient_id: x, quantity: 1 }] },
        { name: 'Caprese salad', description: 'Tomato, mozzarella, basil', category: 'Salads', lines: [{ ingredient_id: x, quantity: 1 }] },
        { name: '100% beef burger', description: 'Not 100_ anything', category: 'Burgers', lines: [{ ingredient_id: x, quantity: 1 }] },
        { name: 'Ćevapi', description: 'Grilled', category: 'Grill', lines: [{ ingredient_id: x, quantity: 1 }] },
      ]);
    });
    const search = async (query: string) => (await client.get(`/v1/recipes?${query}`)).body.data.map((item: RecipeBody) => item.id);

    it('matches name and description, case-insensitively', async () => {
      expect(await search('search=MOZZarella')).toEqual([ids[0], ids[2]]);
      expect(await search('search=pizza')).toEqual([ids[0], ids[1]]);
      expect(await search('search=mushroom')).toEqual([ids[1]]);
      expect(await search(`search=${encodeURIComponent('ćEVAPI')}`)).toEqual([ids[4]]);
      expect(await search('search=nothing-like-this')).toEqual([]);
      expect(await search('search=')).toEqual(ids);
    });

    it('takes % and _ in a search term literally', async () => {
      expect(await search(`search=${encodeURIComponent('100%')}`)).toEqual([ids[3]]);
      expect(await search(`search=${encodeURIComponent('%')}`)).toEqual([ids[3]]);
      expect(await search(`search=${encodeURIComponent('0_')}`)).toEqual([ids[3]]);
      expect(await search(`search=${encodeURIComponent('_')}`)).toEqual([ids[3]]);
      expect(await search(`search=${encodeURIComponent('\\')}`)).toEqual([]);
    });

    it('filters by exact category, combined with search and paging', async () => {
      expect(await search('category=Pizza')).toEqual([ids[0], ids[1]]);
      expect(await search('category=Pizza&search=tomato')).toEqual([ids[0]]);
      expect(await search('category=Nope')).toEqual([]);
      const first = await client.get('/v1/recipes?category=Pizza&limit=1');
      expect(first.body.data.map((item: RecipeBody) => item.id)).toEqual([ids[0]]);
      const second = await client.get(`/v1/recipes?category=Pizza&limit=1&cursor=${first.body.next_cursor}`);
      expect(second.body).toMatchObject({ data: [expect.objectContaining({ id: ids[1] })], next_cursor: null });
    });

    it('uses a search expression the trigram index can serve', async () => {
      const plan = await t.db.knex.transaction(async (trx) => {
        await trx.raw('SET LOCAL enable_seqscan = off');
        const result = await trx.raw(`EXPLAIN SELECT id FROM recipes WHERE lower(name || ' ' || description) LIKE '%mozzarella%'`);
        return result.rows.map((row: Record<string, string>) => Object.values(row)[0]).join('\n');
      });
      expect(plan).toMatch(/recipes_search_trgm/);
    });
  });

  describe('pagination', () => {
    it('returns each of 250 recipes exactly once through limit=7 pages while new recipes are inserted between pages', async () => {
      const shop = await createRestaurant(t.db.knex);
      const x = await insertIngredientRow(t.db.knex, shop.id, { stock: 1000 });
      const original = await insertRecipeRows(
        t.db.knex,
        shop.id,
        Array.from({ length: 250 }, (_, i) => ({ name: `Original ${i}`, lines: [{ ingredient_id: x, quantity: 1 }] })),
      );
      const client = catalogClient(t.app, shop.domain);
      const seen: number[] = [];
      let cursor: string | null = null;
      let page = 0;
      do {
        const res = await client.get(`/v1/recipes?limit=7${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(7);
        seen.push(...res.body.data.map((item: RecipeBody) => item.id));
        cursor = res.body.next_cursor;
        page += 1;
        await insertRecipeRows(t.db.knex, shop.id, [{ name: `Inserted ${page}`, lines: [{ ingredient_id: x, quantity: 1 }] }]);
      } while (cursor !== null && page < 200);
      const originals = seen.filter((id) => original.includes(id));
      expect(originals).toEqual(original);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('costs a constant number of queries for a list of 20 recipes, whatever the page size', async () => {
      const shop = await createRestaurant(t.db.knex);
      const ingredients = await Promise.all(Array.from({ length: 5 }, () => insertIngredientRow(t.db.knex, shop.id, { stock: 50 })));
      await insertRecipeRows(
        t.db.knex,
        shop.id,
        Array.from({ length: 20 }, (_, i) => ({
          name: `Dish ${i}`,
          lines: ingredients.slice(0, 1 + (i % 5)).map((id) => ({ ingredient_id: id, quantity: 1 })),
        })),
      );
      const shopManager = await signInStaff(t.cognito, t.db.knex, shop.id, 'manager');
      const client = catalogClient(t.app, shop.domain);
      const count = async (url: string, user?: SignedInUser) => {
        let queries = 0;
        const listener = () => {
          queries += 1;
        };
        t.db.knex.on('query', listener);
        try {
          const res = await client.get(url, user);
          expect(res.status).toBe(200);
          return { queries, size: res.body.data.length as number };
        } finally {
          t.db.knex.off('query', listener);
        }
      };
      // One request at a time: the listener counts every query on the pool. The first request also looks
      // the restaurant up; the app then remembers it for a few seconds (src/http/tenant.ts).
      expect((await count('/v1/recipes?limit=1')).queries).toBeLessThanOrEqual(2);
      const anonymous = [];
      for (const limit of [5, 20, 100]) anonymous.push(await count(`/v1/recipes?limit=${limit}`));
      expect(anonymous.map((result) => result.size)).toEqual([5, 20, 20]);
      expect(new Set(anonymous.map((result) => result.queries)).size).toBe(1);
      expect(anonymous[0]?.queries).toBe(1); // the page
      const filtered = await count('/v1/recipes?limit=100&available=true&search=dish&category=');
      expect(filtered.queries).toBe(1);
      const staff = [];
      for (const limit of [5, 20, 100]) staff.push(await count(`/v1/recipes?limit=${limit}`, shopManager));
      expect(new Set(staff.map((result) => result.queries)).size).toBe(1);
    });
  });

  describe('tenant isolation', () => {
    it('never shows B’s recipes through A’s domain, and answers 404 for B’s ids there', async () => {
      const theirs = await recipe({ name: 'B special', ingredients: [{ ingredient_id: await ingredient({}, b, otherManager), quantity: 1 }] }, b, otherManager);
      const list = await a.get('/v1/recipes?limit=100');
      expect(list.body.data.map((item: RecipeBody) => item.id)).not.toContain(theirs.id);
      expect(list.text).not.toContain('B special');
      expect((await a.get('/v1/recipes?search=B%20special')).body.data).toEqual([]);
      problem(await a.get(`/v1/recipes/${theirs.id}`), 404, 'not_found');
      problem(await a.patch(`/v1/recipes/${theirs.id}`, { name: 'Hijacked' }, manager), 404, 'not_found');
      problem(await a.delete(`/v1/recipes/${theirs.id}`, manager), 404, 'not_found');
      expect(await getRecipesForPricing(t.db.knex, restaurant.id, [theirs.id])).toEqual([]);
      expect((await b.get(`/v1/recipes/${theirs.id}`)).body.name).toBe('B special');
    });
  });

  describe('pricing for the cart and checkout', () => {
    it('gives the menu’s recipes with live lines, and prices customised portions', async () => {
      const bun = await ingredient({ price_cents: 100, stock: 10 });
      const cheese = await ingredient({ price_cents: 120, stock: 4 });
      const onion = await ingredient({ price_cents: 25, stock: 0 });
      const burger = await recipe({
        ingredients: [
          { ingredient_id: bun, quantity: 1 },
          { ingredient_id: cheese, quantity: 1, removable: true, max_quantity: 3 },
          { ingredient_id: onion, quantity: 1, removable: true },
        ],
      });
      const [priced, ...rest] = await getRecipesForPricing(t.db.knex, restaurant.id, [burger.id, burger.id, 987654321]);
      expect(rest).toEqual([]);
      expect(priced).toMatchObject({ id: burger.id, price_cents: 245, available: false });
      expect(priced?.ingredients.find((line) => line.ingredient_id === onion)).toMatchObject({ stock: 0, available: true, archived: false });
      if (priced === undefined) throw new Error('no recipe');

      expect(priceRecipeLine(priced, { customizations: [] })).toEqual({
        unit_price_cents: 245,
        ingredients: [
          { ingredient_id: bun, quantity: 1 },
          { ingredient_id: cheese, quantity: 1 },
          { ingredient_id: onion, quantity: 1 },
        ],
        options: [],
        allergens: [],
      });
      expect(
        priceRecipeLine(priced, {
          customizations: [
            { ingredient_id: cheese, quantity: 3 },
            { ingredient_id: onion, quantity: 0 },
          ],
        }),
      ).toEqual({
        unit_price_cents: 245 + 2 * 120 - 25,
        ingredients: [
          { ingredient_id: bun, quantity: 1 },
          { ingredient_id: cheese, quantity: 3 },
        ],
        options: [],
        allergens: [],
      });
      const failure = (customizations: Array<{ ingredient_id: number; quantity: number }>) => {
        try {
          priceRecipeLine(priced, { customizations }, 'items.0.');
        } catch (error) {
          if (error instanceof AppError) return { code: error.code, paths: error.errors?.map((e) => e.path) };
        }
        return undefined;
      };
      expect(failure([{ ingredient_id: bun, quantity: 0 }])).toEqual({ code: 'validation_failed', paths: ['items.0.customizations.0.quantity'] });
      expect(failure([{ ingredient_id: bun, quantity: 2 }])).toEqual({ code: 'validation_failed', paths: ['items.0.customizations.0.quantity'] });
      expect(failure([{ ingredient_id: cheese, quantity: 4 }])).toEqual({ code: 'validation_failed', paths: ['items.0.customizations.0.quantity'] });
      expect(failure([{ ingredient_id: 987654321, quantity: 1 }])).toEqual({ code: 'validation_failed', paths: ['items.0.customizations.0.ingredient_id'] });
      expect(
        failure([
          { ingredient_id: cheese, quantity: 2 },
          { ingredient_id: cheese, quantity: 2 },
        ]),
      ).toEqual({
        code: 'validation_failed',
        paths: ['items.0.customizations.1.ingredient_id'],
      });
    });
  });

  describe('the demo menu', () => {
    it('shows customers live prices and the sold-out Truffle Burger', async () => {
      await seedDemoRestaurant(t.db.knex);
      const demo = catalogClient(t.app, DEMO_DOMAIN);
      const res = await demo.get('/v1/recipes?limit=100');
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(DEMO_MENU.recipes.length);
      const byName = new Map((res.body.data as RecipeBody[]).map((item) => [item.name, item]));
      // Sesame bun 100 + beef 650 + cheddar 120 + lettuce 30 + 2 × tomato 25 + onion 25 + sauce 40.
      expect(byName.get('Classic Cheeseburger')).toMatchObject({ price_cents: 1015, available: true, max_orderable: 90 });
      expect(byName.get('Truffle Burger')).toMatchObject({ available: false, max_orderable: 0 });
      const orderable = await demo.get('/v1/recipes?available=true&limit=100');
      expect(orderable.body.data.map((item: RecipeBody) => item.name)).not.toContain('Truffle Burger');
      expect((await demo.get('/v1/recipes?category=Pizza')).body.data).toHaveLength(3);
      expect((await demo.get('/v1/ingredients?limit=100')).body.data).toHaveLength(DEMO_MENU.ingredients.length);
    });

    it('shows allergens and vegan badges, and which dishes can be made without milk', async () => {
      const demo = catalogClient(t.app, DEMO_DOMAIN);
      const all = recipePageSchema.parse((await demo.get('/v1/recipes?limit=100')).body).data;
      const byName = new Map(all.map((item) => [item.name, item]));
      expect(byName.get('Garden Burger')).toMatchObject({ dietary: ['vegan', 'vegetarian'], allergens: ['gluten', 'sesame'] });
      expect(byName.get('Classic Cheeseburger')?.option_groups.map((group) => group.name)).toEqual(['Size', 'Add a side']);
      expect(byName.get('Fries')?.option_groups[0]).toMatchObject({ name: 'Choose a sauce', min_select: 1, max_select: 1 });

      const milkFree = recipePageSchema.parse((await demo.get('/v1/recipes?exclude_allergens=milk&limit=100')).body).data;
      const cheeseburger = milkFree.find((item) => item.name === 'Classic Cheeseburger');
      const cheddar = cheeseburger?.ingredients.find((line) => line.name === 'Cheddar')?.ingredient_id;
      expect(cheeseburger?.free_of_by_removing).toEqual([cheddar]);
      expect(milkFree.map((item) => item.name)).toEqual(expect.arrayContaining(['Garden Burger', 'Salmon Poke Bowl', 'Homemade Lemonade']));
      expect(milkFree.map((item) => item.name)).not.toContain('Cappuccino');
    });
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await a.get('/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/recipes', '/v1/recipes/{id}']));
    expect(doc.paths['/v1/recipes'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['search', 'category', 'available', 'limit', 'cursor']),
    );
    expect(doc.components.schemas.Recipe.required).toEqual(
      expect.arrayContaining(['id', 'name', 'description', 'category', 'price_cents', 'available', 'max_orderable', 'ingredients']),
    );
  });
});
