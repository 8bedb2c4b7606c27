import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Knex } from 'knex';
import { DEMO_DOMAIN, DEMO_MENU, assertDemoMenuConsistent, seedDemoRestaurant, type DemoSeedResult } from '../seeds/demo-restaurant.js';
import { BISTRO_DOMAIN, BISTRO_HOURS, BISTRO_MENU, seedBistroRestaurant } from '../seeds/bistro-restaurant.js';
import { getPricingSettings } from '../src/modules/pricing/service.js';
import { getHours, orderingFor } from '../src/modules/schedule/service.js';
import { hoursSchema, hoursUpdateSchema } from '../src/modules/schedule/schemas.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';

const manager = { sub: 'demo-manager-sub', email: 'manager@demo.localhost' };

async function rows<T>(knex: Knex, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  const result: { rows: T[] } = await knex.raw(sql, bindings);
  return result.rows;
}

/** Row counts and a checksum of every row of every table the seed writes, to compare two moments. */
async function snapshot(knex: Knex): Promise<Record<string, { count: number; checksum: string | null }>> {
  const tables: Record<string, string> = {
    restaurants: 'id',
    staff_members: 'restaurant_id, user_sub',
    ingredients: 'restaurant_id, id',
    recipes: 'restaurant_id, id',
    recipe_ingredients: 'restaurant_id, recipe_id, ingredient_id',
    recipe_option_groups: 'restaurant_id, id',
    recipe_options: 'restaurant_id, id',
    recipe_option_ingredients: 'restaurant_id, option_id, ingredient_id',
    inventory_movements: 'restaurant_id, id',
    schedule_settings: 'restaurant_id',
    opening_ranges: 'restaurant_id, iso_weekday, opens_minute',
  };
  const result: Record<string, { count: number; checksum: string | null }> = {};
  for (const [table, order] of Object.entries(tables)) {
    const [row] = await rows<{ count: number | string; checksum: string | null }>(
      knex,
      `SELECT count(*) AS count, md5(string_agg(t::text, '|' ORDER BY ${order})) AS checksum FROM ${table} t`,
    );
    result[table] = { count: Number(row?.count), checksum: row?.checksum ?? null };
  }
  return result;
}

describe('the demo restaurant seed', () => {
  let db: TestDatabase;
  let first: DemoSeedResult;

  beforeAll(async () => {
    db = await createTestDatabase();
    first = await seedDemoRestaurant(db.knex);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('creates demo.localhost with at least 30 ingredients and 12 recipes', async () => {
    expect(first.created).toBe(true);
    const restaurant = await db.knex('restaurants').where({ domain: DEMO_DOMAIN }).first();
    expect(Number(restaurant.id)).toBe(first.restaurantId);
    expect(restaurant).toMatchObject({ name: 'Tablekit Demo Kitchen', currency: 'EUR', timezone: 'Europe/Berlin' });

    const [counts] = await rows<{ ingredients: number | string; recipes: number | string }>(
      db.knex,
      `SELECT (SELECT count(*) FROM ingredients WHERE restaurant_id = ?) AS ingredients,
              (SELECT count(*) FROM recipes WHERE restaurant_id = ?) AS recipes`,
      [first.restaurantId, first.restaurantId],
    );
    expect(Number(counts?.ingredients)).toBeGreaterThanOrEqual(30);
    expect(Number(counts?.recipes)).toBeGreaterThanOrEqual(12);
    expect(Number(counts?.ingredients)).toBe(DEMO_MENU.ingredients.length);
    expect(Number(counts?.recipes)).toBe(DEMO_MENU.recipes.length);
  });

  it('gives every recipe 2 to 7 ingredients and a menu-like price', async () => {
    const recipes = await rows<{ name: string; category: string; lines: number | string; price_cents: number | string }>(
      db.knex,
      `SELECT r.name, r.category, count(ri.ingredient_id) AS lines, coalesce(sum(i.price_cents * ri.quantity), 0) AS price_cents
         FROM recipes r
         LEFT JOIN recipe_ingredients ri ON ri.restaurant_id = r.restaurant_id AND ri.recipe_id = r.id
         LEFT JOIN ingredients i ON i.restaurant_id = ri.restaurant_id AND i.id = ri.ingredient_id
        WHERE r.restaurant_id = ?
        GROUP BY r.restaurant_id, r.id ORDER BY r.id`,
      [first.restaurantId],
    );
    for (const recipe of recipes) {
      expect(Number(recipe.lines), recipe.name).toBeGreaterThanOrEqual(2);
      expect(Number(recipe.lines), recipe.name).toBeLessThanOrEqual(7);
      const price = Number(recipe.price_cents);
      if (recipe.category === 'Burgers') {
        expect(price, recipe.name).toBeGreaterThanOrEqual(900);
        expect(price, recipe.name).toBeLessThanOrEqual(1400);
      } else if (recipe.category === 'Drinks') {
        expect(price, recipe.name).toBeGreaterThanOrEqual(200);
        expect(price, recipe.name).toBeLessThanOrEqual(400);
      } else {
        expect(price, recipe.name).toBeGreaterThanOrEqual(200);
        expect(price, recipe.name).toBeLessThanOrEqual(1500);
      }
    }
  });

  it('offers customisations: removable ingredients and extras up to a maximum', async () => {
    const [row] = await rows<{ removable: number | string; with_max: number | string; bad_max: number | string }>(
      db.knex,
      `SELECT count(*) FILTER (WHERE removable) AS removable,
              count(*) FILTER (WHERE max_quantity IS NOT NULL) AS with_max,
              count(*) FILTER (WHERE max_quantity < quantity) AS bad_max
         FROM recipe_ingredients WHERE restaurant_id = ?`,
      [first.restaurantId],
    );
    expect(Number(row?.removable)).toBeGreaterThan(0);
    expect(Number(row?.with_max)).toBeGreaterThan(0);
    expect(Number(row?.bad_max)).toBe(0);
  });

  it('shares ingredients between recipes', async () => {
    const shared = await rows<{ name: string; recipes: number | string }>(
      db.knex,
      `SELECT i.name, count(*) AS recipes
         FROM recipe_ingredients ri JOIN ingredients i ON i.restaurant_id = ri.restaurant_id AND i.id = ri.ingredient_id
        WHERE ri.restaurant_id = ?
        GROUP BY i.restaurant_id, i.id, i.name HAVING count(*) >= 2`,
      [first.restaurantId],
    );
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.map((row) => row.name)).toEqual(expect.arrayContaining(['Brioche bun', 'Lettuce', 'Tomato']));
  });

  it('has exactly one recipe that the current stock cannot make', async () => {
    const soldOut = await rows<{ name: string }>(
      db.knex,
      `SELECT r.name FROM recipes r
        WHERE r.restaurant_id = ?
          AND EXISTS (SELECT 1 FROM recipe_ingredients ri
                        JOIN ingredients i ON i.restaurant_id = ri.restaurant_id AND i.id = ri.ingredient_id
                       WHERE ri.restaurant_id = r.restaurant_id AND ri.recipe_id = r.id AND i.stock < ri.quantity)`,
      [first.restaurantId],
    );
    expect(soldOut.map((row) => row.name)).toEqual(['Truffle Burger']);
  });

  it('records the opening stock in the ledger, so each ingredient’s ledger sums to its stock', async () => {
    const mismatches = await rows<{ name: string; stock: number; ledger: number | string }>(
      db.knex,
      `SELECT i.name, i.stock, coalesce(sum(m.delta), 0) AS ledger
         FROM ingredients i
         LEFT JOIN inventory_movements m ON m.restaurant_id = i.restaurant_id AND m.ingredient_id = i.id
        WHERE i.restaurant_id = ?
        GROUP BY i.restaurant_id, i.id HAVING i.stock <> coalesce(sum(m.delta), 0)`,
      [first.restaurantId],
    );
    expect(mismatches).toEqual([]);

    const movements = await db.knex('inventory_movements').where({ restaurant_id: first.restaurantId });
    expect(movements).toHaveLength(DEMO_MENU.ingredients.filter((ingredient) => ingredient.stock > 0).length);
    for (const movement of movements) {
      expect(movement).toMatchObject({ reason: 'restock', note: 'Opening stock', user_sub: null, order_id: null });
      expect(movement.stock_after).toBe(movement.delta);
    }
  });

  it('offers sizes, a choice of sauce and sides, each group satisfiable by its defaults', async () => {
    const groups = await rows<{ recipe: string; name: string; min_select: number; defaults: number | string; options: number | string }>(
      db.knex,
      `SELECT r.name AS recipe, g.name, g.min_select, count(*) FILTER (WHERE o.is_default) AS defaults, count(*) AS options
         FROM recipe_option_groups g
         JOIN recipes r ON r.restaurant_id = g.restaurant_id AND r.id = g.recipe_id
         JOIN recipe_options o ON o.restaurant_id = g.restaurant_id AND o.group_id = g.id
        WHERE g.restaurant_id = ?
        GROUP BY r.name, g.id, g.name, g.min_select`,
      [first.restaurantId],
    );
    expect(new Set(groups.map((group) => group.name))).toEqual(new Set(['Size', 'Choose a sauce', 'Add a side']));
    for (const group of groups) {
      expect(Number(group.defaults), `${group.recipe}: ${group.name}`).toBeGreaterThanOrEqual(group.min_select);
    }
  });

  it('labels every ingredient with its allergens and diet, vegan always vegetarian', async () => {
    const ingredients = await db.knex('ingredients').where({ restaurant_id: first.restaurantId });
    const byName = new Map(ingredients.map((row: { name: string }) => [row.name, row]));
    expect(byName.get('Brioche bun')).toMatchObject({ allergens: ['eggs', 'gluten', 'milk'], vegan: false, vegetarian: true });
    expect(byName.get('Salmon')).toMatchObject({ allergens: ['fish'], vegetarian: false });
    expect(byName.get('Parmesan')).toMatchObject({ allergens: ['milk'], vegetarian: false });
    expect(ingredients.filter((row: { vegan: boolean; vegetarian: boolean }) => row.vegan && !row.vegetarian)).toEqual([]);
    expect(ingredients.filter((row: { vegan: boolean }) => row.vegan).length).toBeGreaterThan(10);
  });

  it('changes nothing when run a second time', async () => {
    const before = await snapshot(db.knex);
    const again = await seedDemoRestaurant(db.knex);
    expect(again).toEqual({ restaurantId: first.restaurantId, created: false });
    expect(await snapshot(db.knex)).toEqual(before);
  });

  it('creates the manager once; the same manager again adds nothing', async () => {
    const withManager = await seedDemoRestaurant(db.knex, { manager });
    expect(withManager).toEqual({ restaurantId: first.restaurantId, created: false });
    const staff = await db.knex('staff_members').where({ restaurant_id: first.restaurantId });
    expect(staff).toHaveLength(1);
    expect(staff[0]).toMatchObject({ user_sub: manager.sub, email: manager.email, role: 'manager' });

    const before = await snapshot(db.knex);
    await seedDemoRestaurant(db.knex, { manager });
    expect(await snapshot(db.knex)).toEqual(before);
  });

  it('makes the seeded user manager again if their role was changed', async () => {
    await db.knex('staff_members').where({ restaurant_id: first.restaurantId, user_sub: manager.sub }).update({ role: 'kitchen' });
    await seedDemoRestaurant(db.knex, { manager });
    const row = await db.knex('staff_members').where({ restaurant_id: first.restaurantId, user_sub: manager.sub }).first();
    expect(row.role).toBe('manager');
  });

  it('keeps stock that staff changed since the first run', async () => {
    const fries = await db.knex('ingredients').where({ restaurant_id: first.restaurantId, name: 'Fries' }).first();
    const stockAfter = Number(fries.stock) - 7;
    await db.knex('ingredients').where({ restaurant_id: first.restaurantId, id: fries.id }).update({ stock: stockAfter });
    await db.knex('inventory_movements').insert({
      restaurant_id: first.restaurantId,
      ingredient_id: fries.id,
      delta: -7,
      reason: 'waste',
      stock_after: stockAfter,
      user_sub: manager.sub,
    });
    const before = await snapshot(db.knex);

    await seedDemoRestaurant(db.knex, { manager });

    expect(await snapshot(db.knex)).toEqual(before);
    const after = await db.knex('ingredients').where({ restaurant_id: first.restaurantId, id: fries.id }).first();
    expect(after.stock).toBe(stockAfter);
  });

  it('rejects a menu whose recipe names an unknown ingredient, saying which', () => {
    const broken = {
      ingredients: DEMO_MENU.ingredients,
      recipes: [{ name: 'Mystery Burger', description: '', category: 'Burgers', ingredients: [{ ingredient: 'Unobtainium', quantity: 1 }] }],
    };
    expect(() => assertDemoMenuConsistent(broken)).toThrow('recipe "Mystery Burger" uses unknown ingredient "Unobtainium"');
    expect(() => assertDemoMenuConsistent(DEMO_MENU)).not.toThrow();
  });
});

describe('the second demo restaurant, with opening hours', () => {
  let db: TestDatabase;
  let demo: DemoSeedResult;
  let bistro: DemoSeedResult;
  const bistroManager = { sub: 'bistro-manager-sub', email: 'manager@bistro.localhost' };

  beforeAll(async () => {
    db = await createTestDatabase();
    demo = await seedDemoRestaurant(db.knex, { manager });
    bistro = await seedBistroRestaurant(db.knex, { manager: bistroManager });
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('creates bistro.localhost in Berlin with a smaller menu of the demo kitchen’s dishes and its own manager', async () => {
    expect(bistro.created).toBe(true);
    expect(bistro.restaurantId).not.toBe(demo.restaurantId);
    const restaurant = await db.knex('restaurants').where({ domain: BISTRO_DOMAIN }).first();
    expect(restaurant).toMatchObject({ name: 'Tablekit Bistro', currency: 'EUR', timezone: 'Europe/Berlin' });

    const recipes = await db.knex('recipes').where({ restaurant_id: bistro.restaurantId }).orderBy('id');
    expect(recipes.map((recipe) => recipe.name)).toEqual(BISTRO_MENU.recipes.map((recipe) => recipe.name));
    expect(recipes).toHaveLength(8);
    const ingredients = await db.knex('ingredients').where({ restaurant_id: bistro.restaurantId });
    expect(ingredients.map((ingredient) => ingredient.name).sort()).toEqual(BISTRO_MENU.ingredients.map((ingredient) => ingredient.name).sort());
    // Only what its dishes use: no burger buns in the bistro.
    expect(ingredients.map((ingredient) => ingredient.name)).not.toContain('Brioche bun');
    const unused = await db
      .knex('ingredients as i')
      .where('i.restaurant_id', bistro.restaurantId)
      .whereNotExists(db.knex('recipe_ingredients as ri').whereRaw('ri.restaurant_id = i.restaurant_id AND ri.ingredient_id = i.id'));
    expect(unused).toEqual([]);

    const staff = await db.knex('staff_members').where({ restaurant_id: bistro.restaurantId });
    expect(staff).toEqual([expect.objectContaining({ user_sub: bistroManager.sub, email: bistroManager.email, role: 'manager' })]);
  });

  it('charges the bistro a sales tax and a service charge and takes tips, while demo.localhost keeps v1 totals', async () => {
    const bistroPricing = await getPricingSettings(db.knex, bistro.restaurantId);
    expect(bistroPricing.tax_rates).toEqual([expect.objectContaining({ name: 'Sales tax', rate: '8.875', inclusive: false })]);
    expect(bistroPricing.service_charges).toEqual([expect.objectContaining({ name: 'Service', percent: '10', taxable: true })]);
    expect(bistroPricing.tips).toEqual({ enabled: true, suggested_percentages: ['10', '15', '20'] });
    const demoPricing = await getPricingSettings(db.knex, demo.restaurantId);
    expect([demoPricing.tax_rates, demoPricing.service_charges, demoPricing.tips.enabled]).toEqual([[], [], false]);
  });

  it('opens Tuesday to Sunday for lunch and dinner, later on Friday and Saturday, with 8 orders a slot', async () => {
    expect(hoursUpdateSchema.safeParse(BISTRO_HOURS).success).toBe(true);
    const hours = hoursSchema.parse(await getHours(db.knex, bistro.restaurantId));
    expect(hours).toMatchObject({ lead_time_minutes: 20, slot_minutes: 15, max_orders_per_slot: 8, order_ahead_days: 7 });
    expect(hours.weekly.filter((range) => range.day === 'mon')).toEqual([]);
    expect(hours.weekly.filter((range) => range.day === 'tue')).toEqual([
      { day: 'tue', opens: '12:00', closes: '14:30' },
      { day: 'tue', opens: '18:00', closes: '22:30' },
    ]);
    expect(hours.weekly.filter((range) => range.day === 'sat').map((range) => range.closes)).toEqual(['14:30', '23:30']);
    expect(hours.weekly).toHaveLength(12);

    // Monday 1 June 2026, noon in Berlin: closed until Tuesday's lunch.
    const restaurant = { id: bistro.restaurantId, timezone: 'Europe/Berlin' };
    expect(await orderingFor(db.knex, restaurant, new Date('2026-06-01T10:00:00Z'))).toMatchObject({
      accepting_orders: false,
      reason: 'closed',
      next_open_at: '2026-06-02T10:00:00.000Z',
    });
  });

  it('leaves demo.localhost always open', async () => {
    expect((await getHours(db.knex, demo.restaurantId)).weekly).toEqual([]);
    const ordering = await orderingFor(db.knex, { id: demo.restaurantId, timezone: 'Europe/Berlin' }, new Date('2026-06-01T02:00:00Z'));
    expect(ordering).toMatchObject({ accepting_orders: true, reason: null });
  });

  it('changes nothing when both are seeded again', async () => {
    const before = await snapshot(db.knex);
    expect(await seedDemoRestaurant(db.knex, { manager })).toEqual({ restaurantId: demo.restaurantId, created: false });
    expect(await seedBistroRestaurant(db.knex, { manager: bistroManager })).toEqual({ restaurantId: bistro.restaurantId, created: false });
    expect(await snapshot(db.knex)).toEqual(before);
  });

  it('keeps hours a manager changed since', async () => {
    await db.knex('schedule_settings').where({ restaurant_id: bistro.restaurantId }).update({ max_orders_per_slot: 3 });
    await seedBistroRestaurant(db.knex);
    expect((await getHours(db.knex, bistro.restaurantId)).max_orders_per_slot).toBe(3);
  });
});

describe.skipIf(!onRealPostgres)('two seeds racing on a fresh database', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ poolMax: 4 });
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('create one restaurant and one menu', async () => {
    const results = await Promise.all([seedDemoRestaurant(db.knex, { manager }), seedDemoRestaurant(db.knex, { manager }), seedDemoRestaurant(db.knex)]);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.restaurantId)).size).toBe(1);

    const snap = await snapshot(db.knex);
    expect(snap.restaurants?.count).toBe(1);
    expect(snap.staff_members?.count).toBe(1);
    expect(snap.ingredients?.count).toBe(DEMO_MENU.ingredients.length);
    expect(snap.recipes?.count).toBe(DEMO_MENU.recipes.length);
    expect(snap.inventory_movements?.count).toBe(DEMO_MENU.ingredients.filter((ingredient) => ingredient.stock > 0).length);
  });

  it('create one bistro with one set of hours', async () => {
    const results = await Promise.all([seedBistroRestaurant(db.knex), seedBistroRestaurant(db.knex), seedBistroRestaurant(db.knex)]);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const snap = await snapshot(db.knex);
    expect(snap.restaurants?.count).toBe(2);
    expect(snap.schedule_settings?.count).toBe(1);
    expect(snap.opening_ranges?.count).toBe(BISTRO_HOURS.weekly.length);
    expect(snap.recipes?.count).toBe(DEMO_MENU.recipes.length + BISTRO_MENU.recipes.length);
  });
});
