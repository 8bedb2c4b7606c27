// The scale run's database: the bench restaurant among 1,000 restaurants of 100 recipes each, and
// 1,000,000 historical orders spread over them, generated in SQL (not through the API: what is measured
// is how the service's statements behave on large tables, not how fast they can be filled).
import type { BenchMenu } from './seed.js';

export interface ScaleSize {
  restaurants: number;
  recipesEach: number;
  ingredientsEach: number;
  orders: number;
  customersEach: number;
}

export const SCALE: ScaleSize = { restaurants: 1000, recipesEach: 100, ingredientsEach: 200, orders: 1_000_000, customersEach: 50 };

type Query = (sql: string, bindings: Array<number | string>) => Promise<Array<Record<string, unknown>>>;

/**
 * Adds `size.restaurants - 1` restaurants beside the bench one, each with its ingredients, recipes of five
 * lines and customers, then the historical orders (one item each, completed and paid, placed over the
 * past year) spread evenly over all of them, the bench restaurant included. Answers the rows added.
 */
export async function seedScale(query: Query, menu: BenchMenu, size: ScaleSize, log: (line: string) => void): Promise<Record<string, number>> {
  const started = performance.now();
  const step = async (what: string, sql: string, bindings: Array<number | string>) => {
    const t0 = performance.now();
    const rows = await query(sql, bindings);
    log(`  scale seed: ${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return rows;
  };
  await step(
    `${size.restaurants - 1} restaurants`,
    `INSERT INTO restaurants (domain, name, currency, timezone)
     SELECT 'scale-' || g || '.localhost', 'Scale restaurant ' || g, 'EUR', 'Europe/Berlin' FROM generate_series(1, ?::int - 1) AS g`,
    [size.restaurants],
  );
  const others = `SELECT id FROM restaurants WHERE domain LIKE 'scale-%.localhost'`;
  await step(
    'ingredients',
    `INSERT INTO ingredients (restaurant_id, name, description, unit, price_cents, stock)
     SELECT r.id, 'Ingredient ' || m, 'Ingredient number ' || m, 'piece', 100 + m, 1000000 FROM (${others}) r, generate_series(0, ?::int - 1) AS m`,
    [size.ingredientsEach],
  );
  await step(
    'recipes',
    `INSERT INTO recipes (restaurant_id, name, description, category)
     SELECT r.id, 'Dish ' || k, 'A dish of five ingredients', (ARRAY['starters', 'mains', 'desserts', 'drinks'])[1 + k % 4]
       FROM (${others}) r, generate_series(0, ?::int - 1) AS k`,
    [size.recipesEach],
  );
  await step(
    'recipe lines',
    `INSERT INTO recipe_ingredients (restaurant_id, recipe_id, ingredient_id, quantity, removable, max_quantity)
     SELECT re.restaurant_id, re.id, i.id, 1 + j % 3, j > 0, 4
       FROM recipes re
       JOIN generate_series(0, 4) AS j ON true
       JOIN ingredients i ON i.restaurant_id = re.restaurant_id AND i.name = 'Ingredient ' || ((substr(re.name, 6)::int + 25 * j) % ?::int)
      WHERE re.restaurant_id IN (${others})`,
    [size.ingredientsEach],
  );
  await step(
    'customers',
    `INSERT INTO customers (restaurant_id, user_sub)
     SELECT r.id, 'scale-' || r.id || '-' || c FROM (${others}) r, generate_series(1, ?::int) AS c`,
    [size.customersEach],
  );
  const perRestaurant = Math.ceil(size.orders / size.restaurants);
  const [added] = await step(
    `${size.orders} historical orders with their items`,
    `WITH everyone AS (
       SELECT id FROM restaurants WHERE domain LIKE 'scale-%.localhost' OR id = ?::bigint
     ), buyer AS (
       SELECT restaurant_id, id, row_number() OVER (PARTITION BY restaurant_id ORDER BY id) - 1 AS k
         FROM customers WHERE restaurant_id IN (SELECT id FROM everyone)
     ), buyers AS (
       SELECT restaurant_id, count(*) AS n FROM buyer GROUP BY restaurant_id
     ), dish AS (
       SELECT DISTINCT ON (restaurant_id) restaurant_id, id, name, description FROM recipes
        WHERE restaurant_id IN (SELECT id FROM everyone) ORDER BY restaurant_id, id
     ), placed AS (
       INSERT INTO orders (restaurant_id, customer_id, status, payment_status, payment_method, fulfillment, currency,
                           subtotal_cents, total_cents, placed_at, updated_at, slot_starts_at, promised_at)
       SELECT e.id, b.id, 'completed', 'paid', 'card', 'pickup', 'EUR', 1000, 1000, t.at, t.at, t.at, t.at
         FROM everyone e
         JOIN buyers bs ON bs.restaurant_id = e.id
         CROSS JOIN generate_series(1, ?::int) AS g
         JOIN buyer b ON b.restaurant_id = e.id AND b.k = g % bs.n
         CROSS JOIN LATERAL (SELECT now() - interval '1 day' - (g * interval '8 minutes') AS at) t
       RETURNING restaurant_id, id
     ), items AS (
       INSERT INTO order_items (restaurant_id, order_id, recipe_id, name, description, quantity, unit_price_cents, line_total_cents)
       SELECT p.restaurant_id, p.id, d.id, d.name, d.description, 1, 1000, 1000 FROM placed p JOIN dish d ON d.restaurant_id = p.restaurant_id
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM placed)::bigint AS orders, (SELECT count(*) FROM items)::bigint AS items`,
    [menu.restaurantId, perRestaurant],
  );
  log(`  scale seed: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return {
    restaurants: size.restaurants,
    recipes: size.restaurants * size.recipesEach,
    orders: Number(added?.orders ?? 0),
    order_items: Number(added?.items ?? 0),
    seed_seconds: Math.round((performance.now() - started) / 1000),
  };
}
