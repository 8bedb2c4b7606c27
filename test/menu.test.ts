import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, problem, type CatalogClient } from './support/catalog.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { recipePageSchema, recipeSchema } from '../src/modules/catalog/recipes-schemas.js';
import { ingredientSchema } from '../src/modules/catalog/ingredients-schemas.js';
import { cartItemSchema, cartSchema, reorderSchema } from '../src/modules/cart/schemas.js';
import { orderSchema } from '../src/modules/orders/schemas.js';
import { customerSchema } from '../src/modules/customers/schemas.js';
import { restoreTimedUnavailability } from '../src/modules/catalog/index.js';
import type { Allergen } from '../src/lib/allergens.js';

type Recipe = z.infer<typeof recipeSchema>;

// The app's "now": tests move it to stand where a rule needs them.
let now = new Date('2026-03-29T10:00:00Z');
const clock = () => new Date(now);

describe('the menu a guest reads', () => {
  let t: TestApp;
  let restaurant: RestaurantRow;
  let api: CatalogClient;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let guest: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp({ clock });
    restaurant = await createRestaurant(t.db.knex, { domain: 'menu.example.com', timezone: 'Europe/Berlin' });
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
    guest = await signInCustomer(t.cognito);
  });
  afterAll(async () => {
    await t.close();
  });

  let names = 0;
  const unique = (prefix: string) => `${prefix} ${++names}`;
  const ingredient = async (
    body: { name?: string; price_cents?: number; stock?: number; allergens?: Allergen[]; vegan?: boolean; vegetarian?: boolean } = {},
    client = api,
  ) => {
    const res = await client.post('/v1/ingredients', { name: unique('Ingredient'), unit: 'piece', price_cents: 100, stock: 100, ...body }, manager);
    expect(res.status, res.text).toBe(201);
    return ingredientSchema.parse(res.body).id;
  };
  const createRecipe = async (body: Record<string, unknown>, client = api): Promise<Recipe> => {
    const res = await client.post('/v1/recipes', { name: unique('Recipe'), ...body }, manager);
    expect(res.status, res.text).toBe(201);
    return recipeSchema.parse(res.body);
  };
  const readRecipe = async (id: number): Promise<Recipe> => {
    const res = await api.get(`/v1/recipes/${id}`);
    expect(res.status, res.text).toBe(200);
    return recipeSchema.parse(res.body);
  };
  const groupNamed = (recipe: Recipe, name: string) => {
    const group = recipe.option_groups.find((candidate) => candidate.name === name);
    if (group === undefined) throw new Error(`no group ${name}`);
    return group;
  };
  const optionNamed = (recipe: Recipe, name: string) => {
    const option = recipe.option_groups.flatMap((group) => group.options).find((candidate) => candidate.name === name);
    if (option === undefined) throw new Error(`no option ${name}`);
    return option;
  };
  const place = (user: SignedInUser) => api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash' }, user).set('Idempotency-Key', randomUUID());
  const stockOf = async (id: number) => Number((await t.db.knex('ingredients').where({ id }).first()).stock);

  /** A burger with a required size (Regular by default, or Large: one more patty) and an optional side. */
  const burger = async () => {
    const ing = {
      bun: await ingredient({ name: unique('Bun'), price_cents: 100, allergens: ['gluten', 'sesame'], vegan: true }),
      patty: await ingredient({ name: unique('Patty'), price_cents: 600 }),
      cheese: await ingredient({ name: unique('Cheese'), price_cents: 120, allergens: ['milk'], vegetarian: true }),
      mayo: await ingredient({ name: unique('Mayo'), price_cents: 30, allergens: ['eggs', 'mustard'], vegetarian: true }),
      fries: await ingredient({ name: unique('Fries'), price_cents: 300, vegan: true }),
    };
    const recipe = await createRecipe({
      ingredients: [
        { ingredient_id: ing.bun, quantity: 1 },
        { ingredient_id: ing.patty, quantity: 1 },
        { ingredient_id: ing.cheese, quantity: 1, removable: true, max_quantity: 2 },
      ],
      option_groups: [
        {
          name: 'Size',
          min_select: 1,
          max_select: 1,
          options: [
            { name: 'Regular', default: true },
            { name: 'Large', price_cents: 550, ingredients: [{ ingredient_id: ing.patty, quantity: 1 }] },
          ],
        },
        {
          name: 'Add a side',
          min_select: 0,
          max_select: 2,
          options: [
            { name: 'Fries', price_cents: 350, ingredients: [{ ingredient_id: ing.fries, quantity: 1 }] },
            { name: 'Mayo dip', price_cents: 50, ingredients: [{ ingredient_id: ing.mayo, quantity: 1 }] },
            { name: 'Napkin', price_cents: 0 },
          ],
        },
      ],
    });
    return { ing, recipe, size: groupNamed(recipe, 'Size'), side: groupNamed(recipe, 'Add a side') };
  };

  describe('option groups on recipes', () => {
    it('are written with the recipe and answered with ids, defaults, availability and what each adds', async () => {
      const { ing, recipe, size, side } = await burger();
      expect(recipe.price_cents).toBe(100 + 600 + 120);
      expect(size).toMatchObject({ min_select: 1, max_select: 1 });
      expect(size.options.map((option) => [option.name, option.default, option.available, option.price_cents])).toEqual([
        ['Regular', true, true, 0],
        ['Large', false, true, 550],
      ]);
      expect(optionNamed(recipe, 'Large').ingredients).toEqual([{ ingredient_id: ing.patty, quantity: 1 }]);
      expect(side.options.map((option) => option.name)).toEqual(['Fries', 'Mayo dip', 'Napkin']);
      expect(optionNamed(recipe, 'Mayo dip').allergens).toEqual(['eggs', 'mustard']);
      expect(await readRecipe(recipe.id)).toEqual(recipe);
    });

    it('keep their ids on a PATCH that names them again, and archive what is left out', async () => {
      const { recipe, size } = await burger();
      const large = optionNamed(recipe, 'Large');
      const held = await api.post('/v1/cart/items', { recipe_id: recipe.id, quantity: 1, options: [optionNamed(recipe, 'Fries').id] }, guest);
      expect(held.status, held.text).toBe(201);
      const res = await api.patch(
        `/v1/recipes/${recipe.id}`,
        {
          option_groups: [
            {
              name: 'Size',
              min_select: 1,
              max_select: 1,
              options: [
                { name: 'Regular', default: true },
                { name: 'Large', price_cents: 600, ingredients: large.ingredients },
              ],
            },
          ],
        },
        manager,
      );
      expect(res.status, res.text).toBe(200);
      const patched = recipeSchema.parse(res.body);
      expect(patched.option_groups.map((group) => group.id)).toEqual([size.id]);
      expect(optionNamed(patched, 'Large')).toMatchObject({ id: large.id, price_cents: 600 });
      // The line holding the side taken off still shows it, and can no longer be ordered.
      const [line] = cartSchema.parse((await api.get('/v1/cart', guest)).body).items;
      expect(line).toMatchObject({ available: false, options: [{ name: 'Regular' }, { name: 'Fries' }] });
      const stale = problem(await place(guest), 409, 'conflict');
      expect(stale.errors?.map((e) => e.path)).toEqual(['items.0.options']);
      await api.delete('/v1/cart', guest);
      const gone = problem(
        await api.patch(
          `/v1/recipes/${recipe.id}`,
          { option_groups: [{ id: 987654, name: 'X', min_select: 0, max_select: 1, options: [{ name: 'Y' }] }] },
          manager,
        ),
        400,
        'validation_failed',
      );
      expect(gone.errors?.map((e) => e.path)).toEqual(['option_groups.0.id']);
    });

    it('keep an ingredient only an option uses from being archived (409 naming the recipe)', async () => {
      const { ing, recipe } = await burger();
      const refused = problem(await api.delete(`/v1/ingredients/${ing.fries}`, manager), 409, 'conflict');
      expect(refused.errors).toEqual([{ path: `recipes.${recipe.id}`, message: recipe.name }]);
    });

    it('refuse groups that cannot be satisfied or whose defaults break the rules', async () => {
      const bun = await ingredient();
      const body = (group: Record<string, unknown>) => ({ name: unique('Bad'), ingredients: [{ ingredient_id: bun, quantity: 1 }], option_groups: [group] });
      const paths = async (group: Record<string, unknown>) =>
        problem(await api.post('/v1/recipes', body(group), manager), 400, 'validation_failed').errors?.map((e) => e.path);
      expect(await paths({ name: 'G', min_select: 2, max_select: 1, options: [{ name: 'a' }, { name: 'b' }] })).toEqual(['option_groups.0.max_select']);
      expect(await paths({ name: 'G', min_select: 2, max_select: 2, options: [{ name: 'a' }] })).toEqual(['option_groups.0.min_select']);
      expect(
        await paths({
          name: 'G',
          min_select: 0,
          max_select: 1,
          options: [
            { name: 'a', default: true },
            { name: 'b', default: true },
          ],
        }),
      ).toEqual(['option_groups.0.options']);
      expect(await paths({ name: 'G', min_select: 0, max_select: 1, options: [{ name: 'a', ingredients: [{ ingredient_id: 987654, quantity: 1 }] }] })).toEqual(
        ['option_groups.0.options.0.ingredients.0.ingredient_id'],
      );
    });
  });

  describe('cart lines with options', () => {
    it('take the defaults of a group the line names nothing of, and add the chosen options to the price', async () => {
      const { recipe } = await burger();
      const plain = await api.post('/v1/cart/items', { recipe_id: recipe.id, quantity: 1 }, guest);
      expect(plain.status, plain.text).toBe(201);
      const line = cartItemSchema.parse(plain.body);
      expect(line.options).toEqual([{ id: optionNamed(recipe, 'Regular').id, name: 'Regular', price_cents: 0 }]);
      expect(line.unit_price_cents).toBe(recipe.price_cents);

      const large = optionNamed(recipe, 'Large');
      const fries = optionNamed(recipe, 'Fries');
      const chosen = cartItemSchema.parse((await api.post('/v1/cart/items', { recipe_id: recipe.id, quantity: 2, options: [fries.id, large.id] }, guest)).body);
      expect(chosen.options.map((option) => option.name)).toEqual(['Large', 'Fries']);
      expect(chosen.unit_price_cents).toBe(recipe.price_cents + 550 + 350);
      expect(chosen.line_total_cents).toBe(2 * chosen.unit_price_cents);

      // Changing only the options of a line replaces them; the group left out takes its default again.
      const patched = await api.patch(`/v1/cart/items/${chosen.id}`, { options: [fries.id] }, guest);
      expect(patched.status, patched.text).toBe(200);
      expect(cartItemSchema.parse(patched.body).options.map((option) => option.name)).toEqual(['Regular', 'Fries']);
      await api.delete('/v1/cart', guest);
    });

    it('refuse fewer than min_select, more than max_select, an unknown option and another recipe’s option: 400 with the group’s path', async () => {
      const { recipe, size, side } = await burger();
      const other = await burger();
      const add = (options: number[]) => api.post('/v1/cart/items', { recipe_id: recipe.id, quantity: 1, options }, guest);
      const pathsOf = async (options: number[]) => problem(await add(options), 400, 'validation_failed').errors?.map((e) => e.path);

      // Two sizes where one is allowed; three sides where two are.
      expect(await pathsOf([optionNamed(recipe, 'Regular').id, optionNamed(recipe, 'Large').id])).toEqual([`options.${size.id}`]);
      expect(await pathsOf(side.options.map((option) => option.id))).toEqual([`options.${side.id}`]);
      // The other burger's Large belongs to the other burger's Size group.
      const foreign = problem(await add([optionNamed(other.recipe, 'Large').id]), 400, 'validation_failed');
      expect(foreign.errors).toEqual([{ path: `options.${other.size.id}`, message: expect.stringContaining(other.recipe.name) }]);
      expect(await pathsOf([987654321])).toEqual(['options']);

      // Fewer than min_select: a required group with no default, the line naming none of it.
      const drink = await ingredient();
      const cola = await createRecipe({
        ingredients: [{ ingredient_id: drink, quantity: 1 }],
        option_groups: [{ name: 'Ice', min_select: 1, max_select: 1, options: [{ name: 'With ice' }, { name: 'No ice' }] }],
      });
      const few = problem(await api.post('/v1/cart/items', { recipe_id: cola.id, quantity: 1 }, guest), 400, 'validation_failed');
      expect(few.errors?.map((e) => e.path)).toEqual([`options.${groupNamed(cola, 'Ice').id}`]);
      expect((await api.get('/v1/cart', guest)).body.items).toEqual([]);
    });

    it('show the allergens of what the line really holds: a removed ingredient drops its, a chosen option adds its', async () => {
      const { ing, recipe } = await burger();
      expect(recipe.allergens).toEqual(['gluten', 'milk', 'sesame']);
      const noCheese = cartItemSchema.parse(
        (await api.post('/v1/cart/items', { recipe_id: recipe.id, quantity: 1, customizations: [{ ingredient_id: ing.cheese, quantity: 0 }] }, guest)).body,
      );
      expect(noCheese.allergens).toEqual(['gluten', 'sesame']);
      expect(noCheese.unit_price_cents).toBe(recipe.price_cents - 120);
      const withMayo = cartItemSchema.parse(
        (await api.post('/v1/cart/items', { recipe_id: recipe.id, quantity: 1, options: [optionNamed(recipe, 'Mayo dip').id] }, guest)).body,
      );
      expect(withMayo.allergens).toEqual(['eggs', 'gluten', 'milk', 'mustard', 'sesame']);

      // The order keeps a snapshot: the options and allergens as they were when it was placed.
      const placed = await place(guest);
      expect(placed.status, placed.text).toBe(201);
      const order = orderSchema.parse(placed.body);
      expect(order.items.map((item) => [item.allergens, item.options.map((option) => option.name)])).toEqual([
        [['gluten', 'sesame'], ['Regular']],
        [
          ['eggs', 'gluten', 'milk', 'mustard', 'sesame'],
          ['Regular', 'Mayo dip'],
        ],
      ]);
      await api.patch(`/v1/ingredients/${ing.mayo}`, { allergens: ['eggs'] }, manager);
      const again = orderSchema.parse((await api.get(`/v1/orders/${order.id}`, guest)).body);
      expect(again.items).toEqual(order.items);
    });

    it('reserve an option’s ingredients with the recipe’s own in one guarded step, and name the line when short', async () => {
      const { ing, recipe } = await burger();
      await api.post(`/v1/ingredients/${ing.patty}/adjustments`, { delta: -97, reason: 'waste' }, kitchen);
      expect(await stockOf(ing.patty)).toBe(3);
      // A Large burger needs two patties: the base's one and the option's one, summed before the stock is taken.
      await api.post('/v1/cart/items', { recipe_id: recipe.id, quantity: 1, options: [optionNamed(recipe, 'Large').id] }, guest);
      await api.post('/v1/cart/items', { recipe_id: recipe.id, quantity: 1 }, guest);
      const placed = await place(guest);
      expect(placed.status, placed.text).toBe(201);
      expect(await stockOf(ing.patty)).toBe(0);
      const ledger = await t.db.knex('inventory_movements').where({ ingredient_id: ing.patty, order_id: placed.body.id });
      expect(ledger.map((row) => [row.reason, row.delta])).toEqual([['order_reserved', -3]]);

      await api.post(`/v1/ingredients/${ing.patty}/adjustments`, { delta: 1, reason: 'restock' }, kitchen);
      await api.post('/v1/cart/items', { recipe_id: recipe.id, quantity: 1, options: [optionNamed(recipe, 'Large').id] }, guest);
      const short = problem(await place(guest), 409, 'insufficient_stock');
      expect(short.errors).toEqual([{ path: 'items.0', message: expect.stringMatching(/for the 2 piece the order needs$/) }]);
      expect(await stockOf(ing.patty)).toBe(1);
      await api.delete('/v1/cart', guest);
    });
  });

  describe('availability with options', () => {
    it('an option’s ingredient short makes the option unavailable, and a required group without enough options makes the recipe unavailable', async () => {
      const { ing, recipe } = await burger();
      // 1 patty left: the base takes it, so Large (one more) cannot be made; Regular still can.
      await api.post(`/v1/ingredients/${ing.patty}/adjustments`, { delta: -99, reason: 'waste' }, kitchen);
      let live = await readRecipe(recipe.id);
      expect(optionNamed(live, 'Large').available).toBe(false);
      expect(optionNamed(live, 'Regular').available).toBe(true);
      expect(live).toMatchObject({ available: true, max_orderable: 1 });

      // Fries out: an optional group's option goes, the recipe stays.
      await api.patch(`/v1/ingredients/${ing.fries}`, { available: false }, kitchen);
      live = await readRecipe(recipe.id);
      expect(optionNamed(live, 'Fries').available).toBe(false);
      expect(live.available).toBe(true);

      // A required group whose every option is short: the recipe is sold out, and filtered as such.
      const syrup = await ingredient({ stock: 5 });
      const drink = await ingredient();
      const soda = await createRecipe({
        ingredients: [{ ingredient_id: drink, quantity: 1 }],
        option_groups: [{ name: 'Flavour', min_select: 1, max_select: 1, options: [{ name: 'Syrup', ingredients: [{ ingredient_id: syrup, quantity: 2 }] }] }],
      });
      expect(soda.available).toBe(true);
      await api.post(`/v1/ingredients/${syrup}/adjustments`, { delta: -4, reason: 'waste' }, kitchen);
      const soldOut = await readRecipe(soda.id);
      expect(soldOut).toMatchObject({ available: false, max_orderable: 0 });
      expect(optionNamed(soldOut, 'Syrup').available).toBe(false);
      const orderable = recipePageSchema.parse((await api.get('/v1/recipes?available=true&limit=100')).body);
      expect(orderable.data.map((item) => item.id)).not.toContain(soda.id);
      expect(orderable.data.map((item) => item.id)).toContain(recipe.id);
    });

    it('counts the default options in max_orderable', async () => {
      const rice = await ingredient({ stock: 30 });
      const egg = await ingredient({ stock: 10 });
      const bowl = await createRecipe({
        ingredients: [
          { ingredient_id: rice, quantity: 1 },
          { ingredient_id: egg, quantity: 1 },
        ],
        option_groups: [
          {
            name: 'Topping',
            min_select: 0,
            max_select: 1,
            options: [{ name: 'Fried egg', default: true, ingredients: [{ ingredient_id: egg, quantity: 1 }] }],
          },
        ],
      });
      // Each default bowl takes two eggs (its own and the default topping's).
      expect(bowl.max_orderable).toBe(5);
    });
  });

  describe('the 86: timed unavailability', () => {
    it('switches an ingredient off until the end of the local day, and the job brings it back at that instant, ledger untouched', async () => {
      const avocado = await ingredient({ name: unique('Avocado') });
      const ledgerBefore = await t.db.knex('inventory_movements').where({ ingredient_id: avocado }).count({ n: '*' });
      // Sunday 29 March 2026, 12:00 in Berlin (CEST since 02:00): the day ends at midnight CEST, 22:00 UTC.
      now = new Date('2026-03-29T10:00:00Z');
      const res = await api.patch(`/v1/ingredients/${avocado}`, { available: false, unavailable_until: 'end_of_day' }, kitchen);
      expect(res.status, res.text).toBe(200);
      expect(ingredientSchema.parse(res.body)).toMatchObject({ available: false, unavailable_until: '2026-03-29T22:00:00.000Z' });
      expect((await api.get(`/v1/ingredients/${avocado}`)).body).toMatchObject({ available: false, unavailable_until: '2026-03-29T22:00:00.000Z' });

      expect(await restoreTimedUnavailability(t.db.knex, new Date('2026-03-29T21:59:59Z'))).toBe(0);
      expect((await api.get(`/v1/ingredients/${avocado}`)).body.available).toBe(false);
      expect(await restoreTimedUnavailability(t.db.knex, new Date('2026-03-29T22:00:00Z'))).toBe(1);
      expect((await api.get(`/v1/ingredients/${avocado}`)).body).toMatchObject({ available: true, unavailable_until: null });
      expect(await t.db.knex('inventory_movements').where({ ingredient_id: avocado }).count({ n: '*' })).toEqual(ledgerBefore);
    });

    it("with opening hours, ends the 86 with the day's last opening range: a Saturday night service until 03:00", async () => {
      const lime = await ingredient({ name: unique('Lime') });
      const hours = await api.put('/v1/restaurant/hours', { weekly: [{ day: 'sat', opens: '18:00', closes: '03:00' }] }, manager);
      expect(hours.status, hours.text).toBe(200);
      try {
        // Saturday 24 October 2026, 23:00 in Berlin (CEST): service runs until 03:00 on Sunday, after the clocks went back at 03:00 CEST.
        now = new Date('2026-10-24T21:00:00Z');
        const res = await api.patch(`/v1/ingredients/${lime}`, { available: false, unavailable_until: 'end_of_day' }, kitchen);
        expect(res.status, res.text).toBe(200);
        // 03:00 CET on Sunday 25 October is 02:00 UTC.
        expect(res.body).toMatchObject({ available: false, unavailable_until: '2026-10-25T02:00:00.000Z' });
      } finally {
        expect((await api.put('/v1/restaurant/hours', { weekly: [] }, manager)).status).toBe(200);
      }
    });

    it('takes an instant, refuses one already past (400), and clears the time when switched back on', async () => {
      const basil = await ingredient();
      now = new Date('2026-06-01T12:00:00Z');
      problem(await api.patch(`/v1/ingredients/${basil}`, { available: false, unavailable_until: '2026-06-01T11:59:59Z' }, kitchen), 400, 'validation_failed');
      problem(await api.patch(`/v1/ingredients/${basil}`, { unavailable_until: '2026-06-01T13:00:00Z' }, kitchen), 400, 'validation_failed');
      problem(await api.patch(`/v1/ingredients/${basil}`, { available: false, unavailable_until: 'tomorrow' }, kitchen), 400, 'validation_failed');
      const off = await api.patch(`/v1/ingredients/${basil}`, { available: false, unavailable_until: '2026-06-01T15:30:00+02:00' }, kitchen);
      expect(off.body).toMatchObject({ available: false, unavailable_until: '2026-06-01T13:30:00.000Z' });
      const on = await api.patch(`/v1/ingredients/${basil}`, { available: true }, kitchen);
      expect(on.body).toMatchObject({ available: true, unavailable_until: null });
      expect(await restoreTimedUnavailability(t.db.knex, new Date('2026-06-02T00:00:00Z'))).toBe(0);
    });

    it('lets the kitchen switch ingredients off and on, and nothing else (403)', async () => {
      const salt = await ingredient();
      const refused = problem(await api.patch(`/v1/ingredients/${salt}`, { available: false, price_cents: 1 }, kitchen), 403, 'forbidden');
      expect(refused.detail).toMatch(/price_cents/);
      problem(await api.patch(`/v1/ingredients/${salt}`, { available: false }, guest), 403, 'forbidden');
      expect((await api.get(`/v1/ingredients/${salt}`)).body.available).toBe(true);
    });
  });

  describe('allergens and diets on ingredients', () => {
    it('are validated, kept once each, and vegan means vegetarian', async () => {
      const res = await api.post(
        '/v1/ingredients',
        { name: unique('Tofu'), unit: 'g', price_cents: 1, allergens: ['soya', 'gluten', 'soya'], vegan: true },
        manager,
      );
      expect(ingredientSchema.parse(res.body)).toMatchObject({ allergens: ['gluten', 'soya'], vegan: true, vegetarian: true });
      const bad = problem(
        await api.post('/v1/ingredients', { name: unique('X'), unit: 'g', price_cents: 1, allergens: ['nuts'] }, manager),
        400,
        'validation_failed',
      );
      expect(bad.errors?.map((e) => e.path)).toEqual(['allergens.0']);
      problem(
        await api.post('/v1/ingredients', { name: unique('X'), unit: 'g', price_cents: 1, vegan: true, vegetarian: false }, manager),
        400,
        'validation_failed',
      );
      const notVegetarian = await api.patch(`/v1/ingredients/${res.body.id}`, { vegetarian: false }, manager);
      expect(notVegetarian.body).toMatchObject({ vegan: false, vegetarian: false });
    });
  });
});

describe('filtering the menu by allergens, diets and saved preferences', () => {
  let t: TestApp;
  let api: CatalogClient;
  let manager: SignedInUser;
  let guest: SignedInUser;
  const ids: Record<'bun' | 'cheese' | 'butter' | 'lettuce' | 'tofu' | 'ham', number> = { bun: 0, cheese: 0, butter: 0, lettuce: 0, tofu: 0, ham: 0 };
  const menu: Record<'cheeseToast' | 'butterToast' | 'salad' | 'tofuBowl' | 'hamSalad', number> = {
    cheeseToast: 0,
    butterToast: 0,
    salad: 0,
    tofuBowl: 0,
    hamSalad: 0,
  };

  beforeAll(async () => {
    t = await createTestApp();
    const restaurant = await createRestaurant(t.db.knex, { domain: 'filter.example.com' });
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    guest = await signInCustomer(t.cognito);
    const ingredient = async (name: string, body: Record<string, unknown>) => {
      const res = await api.post('/v1/ingredients', { name, unit: 'piece', price_cents: 100, stock: 50, ...body }, manager);
      expect(res.status, res.text).toBe(201);
      return res.body.id as number;
    };
    ids.bun = await ingredient('Bread', { allergens: ['gluten'], vegan: true });
    ids.cheese = await ingredient('Cheese', { allergens: ['milk'], vegetarian: true });
    ids.butter = await ingredient('Butter', { allergens: ['milk'], vegetarian: true });
    ids.lettuce = await ingredient('Lettuce', { vegan: true });
    ids.tofu = await ingredient('Tofu', { allergens: ['soya'], vegan: true });
    ids.ham = await ingredient('Ham', {});
    const recipe = async (name: string, ingredients: object[]) => {
      const res = await api.post('/v1/recipes', { name, ingredients }, manager);
      expect(res.status, res.text).toBe(201);
      return res.body.id as number;
    };
    // Cheese can come off; the butter is baked in.
    menu.cheeseToast = await recipe('Cheese toast', [
      { ingredient_id: ids.bun, quantity: 1 },
      { ingredient_id: ids.cheese, quantity: 1, removable: true },
    ]);
    menu.butterToast = await recipe('Butter toast', [
      { ingredient_id: ids.bun, quantity: 1 },
      { ingredient_id: ids.butter, quantity: 1 },
    ]);
    menu.salad = await recipe('Green salad', [{ ingredient_id: ids.lettuce, quantity: 2 }]);
    menu.tofuBowl = await recipe('Tofu bowl', [
      { ingredient_id: ids.tofu, quantity: 1 },
      { ingredient_id: ids.lettuce, quantity: 1 },
    ]);
    menu.hamSalad = await recipe('Ham salad', [
      { ingredient_id: ids.lettuce, quantity: 1 },
      { ingredient_id: ids.ham, quantity: 1, removable: true },
    ]);
  });
  afterAll(async () => {
    await t.close();
  });

  const page = async (query: string, user?: SignedInUser) => {
    const res = await api.get(`/v1/recipes${query}`, user);
    expect(res.status, res.text).toBe(200);
    return { res, body: recipePageSchema.parse(res.body) };
  };
  const namesOf = (body: z.infer<typeof recipePageSchema>) => body.data.map((recipe) => recipe.name);

  it('shows each recipe’s allergens and diets as served', async () => {
    const { body } = await page('');
    const byName = new Map(body.data.map((recipe) => [recipe.name, recipe]));
    expect(byName.get('Cheese toast')).toMatchObject({ allergens: ['gluten', 'milk'], dietary: ['vegetarian'] });
    expect(byName.get('Green salad')).toMatchObject({ allergens: [], dietary: ['vegan', 'vegetarian'] });
    expect(byName.get('Ham salad')).toMatchObject({ allergens: [], dietary: [] });
    expect(body.data.every((recipe) => recipe.free_of_by_removing === undefined)).toBe(true);
  });

  it('excludes allergens: free as served, or free once removable ingredients come off (naming them)', async () => {
    const { body } = await page('?exclude_allergens=milk');
    expect(namesOf(body)).toEqual(['Cheese toast', 'Green salad', 'Tofu bowl', 'Ham salad']);
    const byName = new Map(body.data.map((recipe) => [recipe.name, recipe]));
    expect(byName.get('Cheese toast')?.free_of_by_removing).toEqual([ids.cheese]);
    expect(byName.get('Green salad')?.free_of_by_removing).toEqual([]);
    expect(namesOf((await page('?exclude_allergens=milk,gluten')).body)).toEqual(['Green salad', 'Tofu bowl', 'Ham salad']);
    expect(namesOf((await page('?exclude_allergens=soya&limit=1')).body)).toEqual(['Cheese toast']);
    const unknown = problem(await api.get('/v1/recipes?exclude_allergens=milk,nuts'), 400, 'validation_failed');
    expect(unknown.errors?.[0]?.path).toBe('query.exclude_allergens');
  });

  it('filters by diet as served (removing the ham does not make the ham salad vegan)', async () => {
    expect(namesOf((await page('?dietary=vegan')).body)).toEqual(['Green salad', 'Tofu bowl']);
    expect(namesOf((await page('?dietary=vegetarian')).body)).toEqual(['Cheese toast', 'Butter toast', 'Green salad', 'Tofu bowl']);
    expect(namesOf((await page('?dietary=vegan&exclude_allergens=soya')).body)).toEqual(['Green salad']);
    problem(await api.get('/v1/recipes?dietary=pescatarian'), 400, 'validation_failed');
  });

  it('applies saved preferences to a signed-in menu, says so, and keeps such a page out of shared caches', async () => {
    const saved = await api.put('/v1/customers/me', { preferences: { exclude_allergens: ['milk'], dietary: ['vegetarian'] } }, guest);
    expect(saved.status, saved.text).toBe(200);
    expect(customerSchema.parse(saved.body).preferences).toEqual({ exclude_allergens: ['milk'], dietary: ['vegetarian'] });
    expect(customerSchema.parse((await api.get('/v1/customers/me', guest)).body).preferences).toEqual({ exclude_allergens: ['milk'], dietary: ['vegetarian'] });

    const mine = await page('', guest);
    expect(namesOf(mine.body)).toEqual(['Cheese toast', 'Green salad', 'Tofu bowl']);
    expect(mine.body.applied_preferences).toEqual({ exclude_allergens: ['milk'], dietary: ['vegetarian'] });
    expect(mine.res.headers['cache-control']).toBe('private, no-cache');
    expect(String(mine.res.headers.vary)).toMatch(/Authorization/i);

    const anonymous = await page('');
    expect(anonymous.body.applied_preferences).toBeNull();
    expect(anonymous.body.data).toHaveLength(5);
    expect(anonymous.res.headers['cache-control']).toBe('public, max-age=5');
  });

  it('lets an explicit query parameter win over a saved preference, and preferences=off ignore them', async () => {
    await api.put('/v1/customers/me', { preferences: { exclude_allergens: ['milk'], dietary: ['vegetarian'] } }, guest);
    const soya = await page('?exclude_allergens=soya', guest);
    expect(namesOf(soya.body)).toEqual(['Cheese toast', 'Butter toast', 'Green salad']);
    expect(soya.body.applied_preferences).toEqual({ exclude_allergens: [], dietary: ['vegetarian'] });
    const none = await page('?exclude_allergens=&dietary=', guest);
    expect(none.body.data).toHaveLength(5);
    expect(none.body.applied_preferences).toBeNull();
    expect(none.res.headers['cache-control']).toBe('private, max-age=5');
    const off = await page('?preferences=off', guest);
    expect(off.body.data).toHaveLength(5);
    expect(off.body.applied_preferences).toBeNull();

    const cleared = await api.put('/v1/customers/me', { preferences: null }, guest);
    expect(cleared.body.preferences).toEqual({ exclude_allergens: [], dietary: [] });
    expect((await page('', guest)).body.applied_preferences).toBeNull();
    problem(await api.put('/v1/customers/me', { preferences: { exclude_allergens: ['nuts'] } }, guest), 400, 'validation_failed');
  });
});

describe('reordering a past order', () => {
  let t: TestApp;
  let api: CatalogClient;
  let manager: SignedInUser;
  let guest: SignedInUser;
  let stranger: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    const restaurant = await createRestaurant(t.db.knex, { domain: 'reorder.example.com' });
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    guest = await signInCustomer(t.cognito);
    stranger = await signInCustomer(t.cognito);
  });
  afterAll(async () => {
    await t.close();
  });

  it('puts the lines back with their options and customisations, priced as today, and says which it skipped and why', async () => {
    const make = async (name: string, price = 100) =>
      (await api.post('/v1/ingredients', { name, unit: 'piece', price_cents: price, stock: 100 }, manager)).body.id as number;
    const bun = await make('Bun');
    const cheese = await make('Cheese', 120);
    const soup = await make('Soup base');
    const burger = recipeSchema.parse(
      (
        await api.post(
          '/v1/recipes',
          {
            name: 'Burger',
            ingredients: [
              { ingredient_id: bun, quantity: 1 },
              { ingredient_id: cheese, quantity: 1, removable: true },
            ],
            option_groups: [
              {
                name: 'Sauce',
                min_select: 0,
                max_select: 2,
                options: [
                  { name: 'Ketchup', price_cents: 20 },
                  { name: 'Aioli', price_cents: 40 },
                ],
              },
            ],
          },
          manager,
        )
      ).body,
    );
    const soupRecipe = (await api.post('/v1/recipes', { name: 'Soup', ingredients: [{ ingredient_id: soup, quantity: 1 }] }, manager)).body.id as number;
    const [ketchup, aioli] = burger.option_groups[0]!.options;
    await api.post(
      '/v1/cart/items',
      { recipe_id: burger.id, quantity: 2, customizations: [{ ingredient_id: cheese, quantity: 0 }], options: [ketchup!.id] },
      guest,
    );
    await api.post('/v1/cart/items', { recipe_id: burger.id, quantity: 1, options: [aioli!.id] }, guest);
    await api.post('/v1/cart/items', { recipe_id: soupRecipe, quantity: 1 }, guest);
    const placed = await api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash' }, guest).set('Idempotency-Key', randomUUID());
    expect(placed.status, placed.text).toBe(201);

    // Since then: the soup is off the menu, the aioli is no longer offered, the bun costs more.
    await api.delete(`/v1/recipes/${soupRecipe}`, manager);
    await api.patch(
      `/v1/recipes/${burger.id}`,
      { option_groups: [{ name: 'Sauce', min_select: 0, max_select: 2, options: [{ name: 'Ketchup', price_cents: 20 }] }] },
      manager,
    );
    await api.patch(`/v1/ingredients/${bun}`, { price_cents: 150 }, manager);

    problem(await api.post('/v1/cart/reorder', { order_id: placed.body.id }, stranger), 404, 'not_found');
    problem(await api.post('/v1/cart/reorder', { order_id: 987654321 }, guest), 404, 'not_found');

    const res = await api.post('/v1/cart/reorder', { order_id: placed.body.id }, guest);
    expect(res.status, res.text).toBe(200);
    const body = reorderSchema.parse(res.body);
    expect(body.skipped).toEqual([
      { recipe_id: burger.id, name: 'Burger', reason: 'option_gone', detail: expect.stringContaining('Aioli') },
      { recipe_id: soupRecipe, name: 'Soup', reason: 'recipe_archived', detail: expect.stringContaining('Soup') },
    ]);
    expect(body.items).toEqual([
      expect.objectContaining({
        recipe_id: burger.id,
        quantity: 2,
        customizations: [{ ingredient_id: cheese, quantity: 0 }],
        options: [{ id: ketchup!.id, name: 'Ketchup', price_cents: 20 }],
        unit_price_cents: 150 + 20,
        available: true,
      }),
    ]);
    expect(cartSchema.parse((await api.get('/v1/cart', guest)).body).items).toHaveLength(1);

    // Reordering again merges into the identical line.
    const again = reorderSchema.parse((await api.post('/v1/cart/reorder', { order_id: placed.body.id }, guest)).body);
    expect(again.items.map((item) => item.quantity)).toEqual([4]);
  });
});
