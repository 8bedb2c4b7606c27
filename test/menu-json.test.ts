import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signInStaff, type SignedInUser } from './support/users.js';
import { recipePageSchema, recipeSchema } from '../src/modules/catalog/recipes-schemas.js';
import type { Allergen } from '../src/lib/allergens.js';

// The menu's recipes are JSON that PostgreSQL writes (src/modules/catalog/menu-repo.ts), not objects the
// service serialises: these tests read the bytes a client gets, as a client parses them.
describe('the menu as the database writes it', () => {
  let t: TestApp;
  let api: CatalogClient;
  let manager: SignedInUser;
  let names = 0;
  const unique = (prefix: string) => `${prefix} ${++names}`;

  beforeAll(async () => {
    t = await createTestApp();
    const restaurant = await createRestaurant(t.db.knex, { domain: 'menu-json.example.com' });
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
  });
  afterAll(async () => {
    await t.close();
  });

  const ingredient = async (body: { stock?: number; allergens?: Allergen[]; vegan?: boolean; vegetarian?: boolean } = {}) => {
    const res = await api.post('/v1/ingredients', { name: unique('Ingredient'), unit: 'g', price_cents: 150, stock: 100, ...body }, manager);
    expect(res.status, res.text).toBe(201);
    return res.body.id as number;
  };
  const createRecipe = async (body: Record<string, unknown>) => {
    const res = await api.post('/v1/recipes', { name: unique('Recipe'), ...body }, manager);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number };
  };
  const adjust = async (id: number, delta: number) => {
    const res = await api.post(`/v1/ingredients/${id}/adjustments`, { delta, reason: delta > 0 ? 'restock' : 'waste' }, manager);
    expect(res.status, res.text).toBe(201);
  };
  const menuPage = async (query = 'limit=100') => {
    const res = await api.get(`/v1/recipes?${query}`);
    expect(res.status, res.text).toBe(200);
    return res;
  };

  it('answers JSON with exactly the documented fields, in every recipe answer, nothing missing and nothing more', async () => {
    const flour = await ingredient({ allergens: ['gluten'], vegan: true });
    const basil = await ingredient({ vegan: true });
    const pesto = await ingredient({ allergens: ['tree_nuts', 'milk'], vegetarian: true });
    const created = await api.post(
      '/v1/recipes',
      {
        name: unique('Focaccia'),
        category: 'Bread',
        ingredients: [
          { ingredient_id: flour, quantity: 2 },
          { ingredient_id: basil, quantity: 1, removable: true, max_quantity: 3 },
        ],
        option_groups: [
          {
            name: 'Dip',
            min_select: 0,
            max_select: 1,
            options: [
              { name: 'Pesto', price_cents: 120, ingredients: [{ ingredient_id: pesto, quantity: 1 }] },
              { name: 'None', default: true },
            ],
          },
        ],
      },
      manager,
    );
    expect(created.status, created.text).toBe(201);
    expect(created.headers['content-type']).toBe('application/json; charset=utf-8');
    // A parse keeps only what the schema knows: equal to the body means no field more, none missing, none of a wrong type.
    expect(recipeSchema.parse(created.body)).toEqual(created.body);
    expect(Object.keys(created.body)).toEqual([
      'id',
      'name',
      'description',
      'category',
      'price_cents',
      'available',
      'max_orderable',
      'image',
      'ingredients',
      'option_groups',
      'allergens',
      'dietary',
    ]);
    expect(created.body).toMatchObject({
      price_cents: 2 * 150 + 150,
      available: true,
      max_orderable: 50,
      image: null,
      allergens: ['gluten'],
      dietary: ['vegan', 'vegetarian'],
      ingredients: [
        { ingredient_id: flour, quantity: 2, removable: false, max_quantity: null, price_cents: 150, allergens: ['gluten'], unit: 'g' },
        { ingredient_id: basil, quantity: 1, removable: true, max_quantity: 3, price_cents: 150, allergens: [] },
      ],
    });
    expect(created.body.option_groups[0].options).toEqual([
      {
        id: expect.any(Number),
        name: 'Pesto',
        price_cents: 120,
        ingredients: [{ ingredient_id: pesto, quantity: 1 }],
        default: false,
        available: true,
        allergens: ['milk', 'tree_nuts'],
      },
      { id: expect.any(Number), name: 'None', price_cents: 0, ingredients: [], default: true, available: true, allergens: [] },
    ]);

    const one = await api.get(`/v1/recipes/${created.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);
    const page = await menuPage();
    expect(recipePageSchema.parse(page.body)).toEqual(page.body);
    expect(page.body.data.find((recipe: { id: number }) => recipe.id === created.body.id)).toEqual(created.body);
    const changed = await api.patch(`/v1/recipes/${created.body.id}`, { description: 'Now with more basil' }, manager);
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ ...created.body, description: 'Now with more basil' });
  });

  it('keeps quotes, backslashes, line breaks and any script in names and descriptions exactly as written', async () => {
    const description = 'Grandma\'s "secret" sauce \\ no MSG\nSecond line: 海鮮 – crème brûlée 🍮 <b>bold</b> & more';
    const name = unique('Quote " and \\ backslash — 麻婆豆腐 🌶️');
    const recipe = await createRecipe({ name, description, ingredients: [{ ingredient_id: await ingredient(), quantity: 1 }] });
    const page = await menuPage();
    expect(page.body.data.find((item: { id: number }) => item.id === recipe.id)).toMatchObject({ name, description });
    expect((await api.get(`/v1/recipes/${recipe.id}`)).body).toMatchObject({ name, description });
  });

  it('counts a default option in max_orderable only while it can be served, and an ingredient both take once with their sum', async () => {
    const rice = await ingredient({ stock: 40 });
    const egg = await ingredient({ stock: 9 });
    const sauce = await ingredient({ stock: 100 });
    const recipe = await createRecipe({
      ingredients: [
        { ingredient_id: rice, quantity: 2 },
        { ingredient_id: egg, quantity: 1 },
      ],
      option_groups: [
        { name: 'Egg', min_select: 0, max_select: 1, options: [{ name: 'Extra egg', default: true, ingredients: [{ ingredient_id: egg, quantity: 2 }] }] },
        { name: 'Sauce', min_select: 0, max_select: 1, options: [{ name: 'Chili', default: true, ingredients: [{ ingredient_id: sauce, quantity: 10 }] }] },
      ],
    });
    const read = async () => (await api.get(`/v1/recipes/${recipe.id}`)).body as { available: boolean; max_orderable: number };
    // Eggs: 1 + 2 a bowl out of 9 → 3; rice 40 / 2 → 20; sauce 100 / 10 → 10.
    expect(await read()).toMatchObject({ available: true, max_orderable: 3 });
    // The sauce switched off: its option cannot be served, so it does not count, and the bowl (min 0) still can.
    expect((await api.patch(`/v1/ingredients/${sauce}`, { available: false }, manager)).status).toBe(200);
    await adjust(egg, 81);
    expect(await read()).toMatchObject({ available: true, max_orderable: 20 });
    // The extra egg cannot be served once the stock is below its 2 plus the bowl's own 1: only the bowl's own egg counts.
    await adjust(egg, -88);
    expect(await read()).toMatchObject({ available: true, max_orderable: 2 });
    await adjust(egg, -2);
    expect(await read()).toMatchObject({ available: false, max_orderable: 0 });
  });

  it('says which ingredients to remove only on a page filtered by allergens', async () => {
    const bread = await ingredient({ allergens: ['gluten'], vegan: true });
    const butter = await ingredient({ allergens: ['milk'], vegetarian: true });
    const recipe = await createRecipe({
      ingredients: [
        { ingredient_id: bread, quantity: 1 },
        { ingredient_id: butter, quantity: 1, removable: true },
      ],
    });
    const find = (body: { data: Array<Record<string, unknown>> }) => body.data.find((item) => item.id === recipe.id);
    expect(find((await menuPage()).body)).not.toHaveProperty('free_of_by_removing');
    const filtered = await menuPage('limit=100&exclude_allergens=milk,eggs');
    expect(recipePageSchema.parse(filtered.body)).toEqual(filtered.body);
    expect(find(filtered.body)).toMatchObject({ free_of_by_removing: [butter] });
    expect(find((await menuPage('limit=100&exclude_allergens=eggs')).body)).toMatchObject({ free_of_by_removing: [] });
    expect(find((await menuPage('limit=100&exclude_allergens=gluten')).body)).toBeUndefined();
  });

  it('pages with a cursor that continues after the last recipe shown, and an empty page is an empty list', async () => {
    const flour = await ingredient();
    const ids = [];
    for (let k = 0; k < 3; k += 1) ids.push((await createRecipe({ category: 'Paged', ingredients: [{ ingredient_id: flour, quantity: 1 }] })).id);
    const first = await menuPage('limit=2&category=Paged');
    expect(first.body.data.map((item: { id: number }) => item.id)).toEqual(ids.slice(0, 2));
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await menuPage(`limit=2&category=Paged&cursor=${first.body.next_cursor}`);
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: ids[2] })], next_cursor: null, applied_preferences: null });
    const exact = await menuPage('limit=3&category=Paged');
    expect(exact.body.next_cursor).toBeNull();
    expect((await menuPage('category=Nothing%20here')).body).toEqual({ data: [], next_cursor: null, applied_preferences: null });
  });
});
