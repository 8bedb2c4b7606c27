// Baselines C and C0: what placing an order costs in plain SQL, with no HTTP, no framework and no ORM.
//
// C0 (`plainCheckoutScript`) is frozen: the 24-statement unit checkout sent before issue 19, with the
// menu statement of that day (bench/frozen/menu-statements.json), kept as a fixed yardstick. C
// (`currentCheckoutScript`) follows what checkout sends now, statement for statement; the bench checks
// that its count is the service's count per order (a change to checkout that does not regenerate C fails
// the run).
//
// One definition renders two ways: a pgbench script (run by `pgbench -f`, the usual case) and a list of
// parameterised statements for `pg` (where pgbench is missing) or for the embedded database. A unit is
// the same as one order of the checkout scenario: two cart lines added, then the order placed, with
// the statements src/modules/orders/checkout.ts (and the idempotent route around it) runs, in the same
// order: claim the Idempotency-Key, read the customer, then one transaction that locks the cart, prices
// it with the menu SQL (taken from the service's own query builder), writes the order, its items and
// first event, empties the cart, takes the stock with one guarded UPDATE per ingredient in ascending id
// order, writes the ledger and stores the reply. Left out: what only our HTTP layer does (tenant
// and staff-role lookups, token checks, reading the order back for the response body).
import type { BenchMenu } from './seed.js';

/** A pgbench `\set`, and the same in JavaScript for the pg runner. */
export interface PlainSet {
  name: string;
  pgbench: string;
  js: (vars: Record<string, number | string>) => number | string;
}

export interface PlainStep {
  /** SQL with pgbench-style `:name` variables (a `::type` cast is not a variable). */
  sql: string;
  /** Columns of the single row returned, captured as variables (pgbench `\gset`). */
  capture?: boolean;
}

export interface PlainScript {
  sets: PlainSet[];
  steps: PlainStep[];
}

const randomInt = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1));

/**
 * The unit of work of baseline C0 for one client. Variables set per run by the caller: `client_id`
 * (0-based, as pgbench has it). `pricingSql` is the service's menu statement for the two recipes,
 * rendered with `:rid`, `:r1`, `:r2`.
 */
export function plainCheckoutScript(menu: BenchMenu, pricingSql: string, options: { paymentMethod: 'card' | 'cash' }): PlainScript {
  const sets: PlainSet[] = [
    { name: 'rid', pgbench: String(menu.restaurantId), js: () => menu.restaurantId },
    // The two lines of an order are recipes k and k+1 (as the checkout scenario picks them): disjoint
    // ingredient sets, so the ascending-id order of the guarded UPDATEs can be written out below.
    { name: 'k', pgbench: `random(0, ${menu.recipeIds.length - 2})`, js: () => randomInt(0, menu.recipeIds.length - 2) },
    { name: 'r1', pgbench: `${menu.recipeIds[0]} + :k * ${menu.idStep}`, js: (v) => Number(menu.recipeIds[0]) + Number(v.k) * menu.idStep },
    { name: 'r2', pgbench: `${menu.recipeIds[0]} + (:k + 1) * ${menu.idStep}`, js: (v) => Number(menu.recipeIds[0]) + (Number(v.k) + 1) * menu.idStep },
    {
      name: 'cid',
      pgbench: `${menu.plainCustomers.firstId} + :client_id * ${menu.idStep}`,
      js: (v) => menu.plainCustomers.firstId + Number(v.client_id) * menu.idStep,
    },
    { name: 'sub', pgbench: `${menu.plainCustomers.firstSub} + :client_id`, js: (v) => menu.plainCustomers.firstSub + Number(v.client_id) },
    { name: 'key', pgbench: 'random(1, 1000000000000)', js: () => randomInt(1, 1_000_000_000_000) },
    { name: 'p1', pgbench: `${menu.priceOf.base} + ${menu.priceOf.perIndex} * :k`, js: (v) => menu.priceOf.base + menu.priceOf.perIndex * Number(v.k) },
    {
      name: 'p2',
      pgbench: `${menu.priceOf.base} + ${menu.priceOf.perIndex} * (:k + 1)`,
      js: (v) => menu.priceOf.base + menu.priceOf.perIndex * (Number(v.k) + 1),
    },
    { name: 'total', pgbench: ':p1 + :p2', js: (v) => Number(v.p1) + Number(v.p2) },
  ];
  // Ingredient index of recipe k's line j is k + stride*j; recipe k+1's is one more: ascending pairs.
  const takes: Array<{ variable: string; index: string; quantity: number }> = [];
  menu.lineQuantities.forEach((quantity, j) => {
    takes.push({ variable: `i${2 * j}`, index: `:k + ${menu.stride * j}`, quantity });
    takes.push({ variable: `i${2 * j + 1}`, index: `:k + ${menu.stride * j + 1}`, quantity });
  });
  for (const take of takes) {
    const offset = Number(take.index.split('+')[1]);
    sets.push({
      name: take.variable,
      pgbench: `${menu.firstIngredientId} + (${take.index}) * ${menu.idStep}`,
      js: (v) => menu.firstIngredientId + (Number(v.k) + offset) * menu.idStep,
    });
  }

  const steps: PlainStep[] = [
    // POST /v1/cart/items, twice.
    { sql: 'INSERT INTO cart_items (restaurant_id, customer_id, recipe_id, quantity) VALUES (:rid, :cid, :r1, 1)' },
    { sql: 'INSERT INTO cart_items (restaurant_id, customer_id, recipe_id, quantity) VALUES (:rid, :cid, :r2, 1)' },
    // POST /v1/orders: the Idempotency-Key is claimed before the transaction.
    {
      sql: `INSERT INTO idempotency_keys (restaurant_id, user_sub, key, request_hash, status, locked_at)
            VALUES (:rid, :sub, :key, 'bench', 'running', now()) ON CONFLICT (restaurant_id, user_sub, key) DO NOTHING RETURNING key`,
    },
    { sql: 'SELECT id, user_sub, email, name, phone, address, created_at FROM customers WHERE restaurant_id = :rid AND user_sub = :sub LIMIT 1' },
    { sql: 'BEGIN' },
    {
      sql: `SELECT c.id, c.recipe_id, c.quantity, r.name AS recipe_name, r.archived_at IS NOT NULL AS recipe_archived,
              coalesce((SELECT json_agg(json_build_object('ingredient_id', ci.ingredient_id, 'quantity', ci.quantity) ORDER BY ci.ingredient_id)
                FROM cart_item_ingredients ci WHERE ci.restaurant_id = c.restaurant_id AND ci.cart_item_id = c.id), '[]'::json) AS customizations
            FROM cart_items c JOIN recipes r ON r.restaurant_id = c.restaurant_id AND r.id = c.recipe_id
            WHERE c.restaurant_id = :rid AND c.customer_id = :cid ORDER BY c.id FOR UPDATE OF c`,
    },
    { sql: pricingSql },
    {
      sql: `INSERT INTO orders (restaurant_id, customer_id, payment_method, fulfillment, delivery_address, notes, currency, total_cents)
            VALUES (:rid, :cid, '${options.paymentMethod}', 'pickup', NULL, NULL, '${menu.currency}', :total)
            RETURNING id AS oid, status, payment_status, placed_at, updated_at`,
      capture: true,
    },
    {
      sql: `INSERT INTO order_items (restaurant_id, order_id, recipe_id, name, description, quantity, unit_price_cents, line_total_cents)
            SELECT r.restaurant_id, :oid, r.id, r.name, r.description, 1, CASE WHEN r.id = :r1 THEN :p1::integer ELSE :p2::integer END, CASE WHEN r.id = :r1 THEN :p1::integer ELSE :p2::integer END
            FROM recipes r WHERE r.restaurant_id = :rid AND r.id IN (:r1, :r2) ORDER BY r.id RETURNING id`,
    },
    { sql: `INSERT INTO order_events (restaurant_id, order_id, status, actor) VALUES (:rid, :oid, 'pending', 'customer')` },
    ...(options.paymentMethod === 'cash'
      ? [
          {
            sql: `INSERT INTO outbox (restaurant_id, type, payload) VALUES (:rid, 'order.confirmation_requested', json_build_object('order_id', :oid::bigint)::jsonb)`,
          },
        ]
      : []),
    { sql: 'DELETE FROM cart_items WHERE restaurant_id = :rid AND customer_id = :cid' },
    ...takes.map((take, n) => ({
      sql: `UPDATE ingredients SET stock = stock - ${take.quantity}, updated_at = now()
            WHERE restaurant_id = :rid AND id = :${take.variable} AND available = true AND archived_at IS NULL AND stock >= ${take.quantity}
            RETURNING stock AS s${n}`,
      capture: true,
    })),
    {
      sql: `INSERT INTO inventory_movements (restaurant_id, ingredient_id, delta, reason, stock_after, order_id) VALUES ${takes
        .map((take, n) => `(:rid, :${take.variable}, -${take.quantity}, 'order_reserved', :s${n}, :oid)`)
        .join(', ')}`,
    },
    {
      sql: `UPDATE idempotency_keys SET status = 'completed', response_code = 201, response_body = json_build_object('id', :oid::bigint)::jsonb, locked_at = NULL
            WHERE restaurant_id = :rid AND user_sub = :sub AND key = :key`,
    },
    { sql: 'COMMIT' },
  ];
  return { sets, steps };
}

/**
 * The unit of work of baseline C for one client: what checkout sends now (`src/modules/orders/checkout.ts`
 * and the route around it), in its order, with SQL doing the same work (the same tables, rows, locks and
 * guards; not byte for byte the service's text). Two cart adds (the menu statement for the recipe, then one
 * statement that locks the cart lines, looks for an identical line and inserts the line with its default
 * options, no transaction), then the order: the Idempotency-Key claimed and the checkout counter counted,
 * then one transaction that takes the cart out, prices it with the menu statement, reads the pricing
 * settings and the schedule and locks the customer in one statement, writes order, items, options and
 * first event with the count of the customer's unpaid orders in one statement, locks the ingredients in
 * ascending id order, takes them and writes the ledger in one statement, and counts the slot (the
 * reply is stored before the stock, as the route stores it before checkout's `reserve`). `sql.one` and
 * `sql.lines` are the service's menu statement for one and two recipes (`:rid`, `:r1`, `:r2`). Left out,
 * as for C0: what only the HTTP layer does.
 */
export function currentCheckoutScript(menu: BenchMenu, sql: { one: string; lines: string }, options: { paymentMethod: 'card' | 'cash' }): PlainScript {
  const { sets } = plainCheckoutScript(menu, sql.lines, options);
  const takes: Array<{ variable: string; quantity: number }> = [];
  menu.lineQuantities.forEach((quantity, j) => {
    takes.push({ variable: `i${2 * j}`, quantity });
    takes.push({ variable: `i${2 * j + 1}`, quantity });
  });
  const ids = `ARRAY[${takes.map((take) => `:${take.variable}`).join(', ')}]::bigint[]`;
  const cartAdd = (recipe: 'r1' | 'r2'): PlainStep[] => [
    { sql: sql.one.replace(/:r1\b/g, `:${recipe}`) },
    {
      sql: `WITH held AS MATERIALIZED (
              SELECT c.id, c.recipe_id, c.quantity,
                ARRAY(SELECT ci.ingredient_id FROM cart_item_ingredients ci WHERE ci.restaurant_id = c.restaurant_id AND ci.cart_item_id = c.id ORDER BY ci.ingredient_id) AS ingredient_ids,
                ARRAY(SELECT ci.quantity FROM cart_item_ingredients ci WHERE ci.restaurant_id = c.restaurant_id AND ci.cart_item_id = c.id ORDER BY ci.ingredient_id) AS quantities,
                ARRAY(SELECT co.option_id FROM cart_item_options co WHERE co.restaurant_id = c.restaurant_id AND co.cart_item_id = c.id ORDER BY co.option_id) AS option_ids
              FROM cart_items c WHERE c.restaurant_id = :rid AND c.customer_id = :cid ORDER BY c.id FOR UPDATE OF c
            ), defaults AS (
              SELECT coalesce(array_agg(o.id ORDER BY o.id), '{}') AS ids FROM recipe_options o
               WHERE o.restaurant_id = :rid AND o.recipe_id = :${recipe} AND o.is_default AND o.archived_at IS NULL
            ), same AS MATERIALIZED (
              SELECT held.id, held.quantity FROM held, defaults
               WHERE held.recipe_id = :${recipe} AND held.ingredient_ids = '{}' AND held.quantities = '{}' AND held.option_ids = defaults.ids
               ORDER BY held.id LIMIT 1
            ), merged AS (
              UPDATE cart_items c SET quantity = c.quantity + 1, updated_at = now() FROM same
               WHERE c.restaurant_id = :rid AND c.id = same.id AND c.quantity + 1 <= 50 RETURNING c.quantity
            ), line AS (
              INSERT INTO cart_items (restaurant_id, customer_id, recipe_id, quantity)
              SELECT :rid, :cid, :${recipe}, 1 WHERE NOT EXISTS (SELECT 1 FROM same) AND (SELECT count(*) FROM held) < 50
              RETURNING restaurant_id, id
            ), chosen AS (
              INSERT INTO cart_item_options (restaurant_id, cart_item_id, option_id)
              SELECT line.restaurant_id, line.id, o.option_id FROM line, defaults, unnest(defaults.ids) AS o(option_id)
            )
            SELECT (SELECT id FROM same) AS same_id, (SELECT quantity FROM merged) AS merged_quantity, (SELECT id FROM line) AS inserted_id,
                   (SELECT count(*) FROM held) AS lines`,
    },
  ];
  const steps: PlainStep[] = [
    ...cartAdd('r1'),
    ...cartAdd('r2'),
    {
      sql: `INSERT INTO idempotency_keys (restaurant_id, user_sub, key, request_hash, status, locked_at)
            VALUES (:rid, :sub, :key, 'bench', 'running', now()) ON CONFLICT (restaurant_id, user_sub, key) DO NOTHING RETURNING key`,
    },
    {
      sql: `INSERT INTO rate_limit_counters AS c (key, hits, reset_at) VALUES (encode(sha256(('bench-c:' || :cid)::bytea), 'hex'), 1, now() + interval '1 minute')
            ON CONFLICT (key) DO UPDATE SET hits = CASE WHEN c.reset_at <= now() THEN 1 ELSE c.hits + 1 END,
              reset_at = CASE WHEN c.reset_at <= now() THEN excluded.reset_at ELSE c.reset_at END
            RETURNING hits, reset_at`,
    },
    { sql: 'BEGIN' },
    {
      sql: `WITH gone AS (DELETE FROM cart_items WHERE restaurant_id = :rid AND customer_id = :cid RETURNING id, restaurant_id, recipe_id, quantity)
            SELECT g.id, g.recipe_id, g.quantity, r.name AS recipe_name, r.archived_at IS NOT NULL AS recipe_archived,
              coalesce((SELECT json_agg(json_build_object('ingredient_id', ci.ingredient_id, 'quantity', ci.quantity) ORDER BY ci.ingredient_id)
                FROM cart_item_ingredients ci WHERE ci.restaurant_id = g.restaurant_id AND ci.cart_item_id = g.id), '[]'::json) AS customizations,
              coalesce((SELECT json_agg(co.option_id ORDER BY co.option_id)
                FROM cart_item_options co WHERE co.restaurant_id = g.restaurant_id AND co.cart_item_id = g.id), '[]'::json) AS options
            FROM gone g JOIN recipes r ON r.restaurant_id = g.restaurant_id AND r.id = g.recipe_id ORDER BY g.id`,
    },
    { sql: sql.lines },
    {
      sql: `SELECT (SELECT settings FROM restaurant_pricing WHERE restaurant_id = :rid) AS pricing_settings,
              (SELECT json_build_object('lead_time_minutes', lead_time_minutes, 'slot_minutes', slot_minutes,
                 'max_orders_per_slot', max_orders_per_slot, 'order_ahead_days', order_ahead_days) FROM schedule_settings WHERE restaurant_id = :rid) AS schedule_settings,
              coalesce((SELECT json_agg(json_build_object('iso_weekday', iso_weekday, 'opens_minute', opens_minute, 'closes_minute', closes_minute)
                 ORDER BY iso_weekday, opens_minute) FROM opening_ranges WHERE restaurant_id = :rid), '[]'::json) AS schedule_ranges,
              coalesce((SELECT json_agg(json_build_object('id', id, 'starts_on', starts_on, 'ends_on', ends_on) ORDER BY starts_on)
                 FROM restaurant_closures WHERE restaurant_id = :rid AND ends_on >= current_date - 1), '[]'::json) AS schedule_closures,
              (SELECT json_build_object('paused_until', paused_until) FROM ordering_pauses WHERE restaurant_id = :rid) AS schedule_pause,
              (SELECT id FROM customers WHERE restaurant_id = :rid AND id = :cid AND ${options.paymentMethod === 'card'} FOR UPDATE) AS locked_customer`,
    },
    {
      sql: `WITH open_unpaid AS (
              SELECT CASE WHEN ${options.paymentMethod === 'card'} THEN (SELECT count(*) FROM orders WHERE restaurant_id = :rid AND customer_id = :cid
                AND payment_method = 'card' AND payment_status = 'unpaid' AND status IN ('pending', 'confirmed')) END AS n
            ), o AS (
              INSERT INTO orders (restaurant_id, customer_id, payment_method, fulfillment, currency, subtotal_cents, total_cents,
                                  slot_starts_at, promised_at, slot_counted)
              VALUES (:rid, :cid, '${options.paymentMethod}', 'pickup', '${menu.currency}', :total, :total,
                      date_bin('15 minutes', now() + interval '20 minutes', timestamptz '2000-01-01'), now() + interval '20 minutes', true)
              RETURNING id
            ), item AS (
              INSERT INTO order_items (restaurant_id, order_id, recipe_id, name, description, quantity, unit_price_cents, line_total_cents, allergens)
              SELECT r.restaurant_id, o.id, r.id, r.name, r.description, 1, CASE WHEN r.id = :r1 THEN :p1::integer ELSE :p2::integer END,
                     CASE WHEN r.id = :r1 THEN :p1::integer ELSE :p2::integer END, '{}'
                FROM o, recipes r WHERE r.restaurant_id = :rid AND r.id IN (:r1, :r2) ORDER BY r.id
              RETURNING id, recipe_id
            ), chosen AS (
              INSERT INTO order_item_options (restaurant_id, order_item_id, option_id, name, price_cents, position)
              SELECT :rid, item.id, ro.id, ro.name, ro.price_cents, 0 FROM item
                JOIN recipe_options ro ON ro.restaurant_id = :rid AND ro.recipe_id = item.recipe_id AND ro.is_default AND ro.archived_at IS NULL
            ), event AS (
              INSERT INTO order_events (restaurant_id, order_id, status, actor) SELECT :rid, id, 'pending', 'customer' FROM o
            )
            SELECT id AS oid, (SELECT n FROM open_unpaid) AS open_unpaid FROM o`,
      capture: true,
    },
    ...(options.paymentMethod === 'cash'
      ? [
          {
            sql: `INSERT INTO outbox (restaurant_id, type, payload) VALUES (:rid, 'order.confirmation_requested', json_build_object('order_id', :oid::bigint)::jsonb)`,
          },
        ]
      : []),
    // The reply stored before the stock and the slot, so their row locks are held until COMMIT only.
    {
      sql: `UPDATE idempotency_keys SET status = 'completed', response_code = 201, response_body = json_build_object('id', :oid::bigint)::jsonb, locked_at = NULL
            WHERE restaurant_id = :rid AND user_sub = :sub AND key = :key`,
    },
    {
      sql: `WITH need AS (SELECT * FROM unnest(${ids}, ARRAY[${takes.map((take) => take.quantity).join(', ')}]::integer[]) AS n(id, quantity)),
            locked AS MATERIALIZED (SELECT id FROM ingredients WHERE restaurant_id = :rid AND id = ANY(${ids}) ORDER BY id FOR UPDATE),
            taken AS (
              UPDATE ingredients i SET stock = i.stock - need.quantity, updated_at = now() FROM need
               WHERE (SELECT count(*) FROM locked) = ${takes.length}
                 AND i.restaurant_id = :rid AND i.id = ANY(${ids}) AND i.id = need.id AND i.archived_at IS NULL AND i.available AND i.stock >= need.quantity
              RETURNING i.id, i.stock, need.quantity
            ), ledger AS (
              INSERT INTO inventory_movements (restaurant_id, ingredient_id, delta, reason, stock_after, order_id)
              SELECT :rid, id, -quantity, 'order_reserved', stock, :oid FROM taken ORDER BY id
            )
            SELECT count(*) AS taken FROM taken`,
      capture: true,
    },
    // A slot a day ahead: the same row lock and guard as the service's, without using up the slots its orders need.
    {
      sql: `INSERT INTO slot_bookings (restaurant_id, slot_starts_at, orders_count)
            VALUES (:rid, date_bin('15 minutes', now() + interval '1 day', timestamptz '2000-01-01'), 1)
            ON CONFLICT (restaurant_id, slot_starts_at) DO UPDATE SET orders_count = slot_bookings.orders_count + 1
            WHERE slot_bookings.orders_count < ${10_000} RETURNING orders_count`,
    },
    { sql: 'COMMIT' },
  ];
  return { sets, steps };
}

/** Statements of one unit, BEGIN and COMMIT included (what the service's count per order is compared with). */
export const statementsOf = (script: PlainScript): number => script.steps.length;

const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/** The script for `pgbench -f`: `\set` lines, then one statement a line (`\gset` where a row is captured). */
export function renderPgbenchScript(script: PlainScript): string {
  const lines = script.sets.map((set) => `\\set ${set.name} ${set.pgbench}`);
  for (const step of script.steps) lines.push(`${oneLine(step.sql)}${step.capture === true ? ' \\gset' : ';'}`);
  return `${lines.join('\n')}\n`;
}

// `:name`, but not the second colon of a `::type` cast.
const VARIABLE = /(?<!:):([a-z_][a-z0-9_]*)/gi;

/**
 * A statement with its values, from the current variables: `$n` placeholders (pg), or `?` in order of
 * appearance (knex, for the embedded database).
 */
export function bindStep(sql: string, vars: Record<string, number | string>, style: '$n' | '?' = '$n'): { text: string; values: Array<number | string> } {
  const values: Array<number | string> = [];
  const positions = new Map<string, number>();
  const text = oneLine(sql).replace(VARIABLE, (_match, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`baseline C: variable :${name} is not set`);
    if (style === '?') {
      values.push(value);
      return '?';
    }
    let position = positions.get(name);
    if (position === undefined) {
      values.push(value);
      position = values.length;
      positions.set(name, position);
    }
    return `$${position}`;
  });
  return { text, values };
}

/** Runs one statement and returns its rows. */
export type RunStatement = (sql: string, vars: Record<string, number | string>) => Promise<Array<Record<string, unknown>>>;

/** A connection baseline C runs on: a pg client, or the embedded database through knex. */
export interface PlainConnection {
  run: RunStatement;
  begin(): Promise<{ run: RunStatement; commit(): Promise<void>; rollback(): Promise<void> }>;
}

/** One unit of baseline C on `connection` (the pg and embedded form of the pgbench script). */
export async function runPlainCheckout(script: PlainScript, clientId: number, connection: PlainConnection): Promise<void> {
  const vars: Record<string, number | string> = { client_id: clientId };
  for (const set of script.sets) vars[set.name] = set.js(vars);
  let transaction: Awaited<ReturnType<PlainConnection['begin']>> | undefined;
  try {
    for (const step of script.steps) {
      if (step.sql === 'BEGIN') {
        transaction = await connection.begin();
        continue;
      }
      if (step.sql === 'COMMIT') {
        await transaction?.commit();
        transaction = undefined;
        continue;
      }
      const rows = await (transaction ?? connection).run(step.sql, vars);
      if (step.capture === true) {
        const row = rows[0];
        if (row === undefined) throw new Error(`baseline C: no row from ${oneLine(step.sql).slice(0, 60)}`);
        for (const [name, value] of Object.entries(row)) vars[name] = Number(value);
      }
    }
  } catch (error) {
    await transaction?.rollback().catch(() => undefined);
    throw error;
  }
}
