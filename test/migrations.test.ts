import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, migratorConfig, pendingMigrations } from '../src/db/migrate.js';
import { sqlState } from '../src/db/transaction.js';
import { createPglite, knexOnPglite } from '../src/local/pglite.js';
import { migrations } from '../migrations/index.js';
import { runSql, splitStatements } from '../migrations/sql.js';
import { TENANT_ID_SHIFT } from '../migrations/tenant-ids.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';
import { adminUrlFor, databaseUrlFor } from './support/urls.js';

describe('migrations from an empty database', () => {
  it('run forward, then are a no-op when current', async () => {
    const knex = knexOnPglite(await createPglite({}));
    try {
      expect(await pendingMigrations(knex)).toHaveLength(migrations.length);
      expect(await migrateToLatest(knex)).toEqual(migrations.map(([name]) => name));
      expect(await pendingMigrations(knex)).toEqual([]);
      expect(await migrateToLatest(knex)).toEqual([]);
    } finally {
      await knex.destroy();
    }
  });
});

describe('the order_slots migration', () => {
  it('give orders placed before slots existed a promised_at of their placed_at, and no slot', async () => {
    const knex = knexOnPglite(await createPglite({}));
    try {
      const slotsAt = migrations.findIndex(([name]) => name === '20261201220000_order_slots');
      for (const [, migration] of migrations.slice(0, slotsAt)) await migration.up(knex);
      const [restaurant] = await knex('restaurants').insert({ domain: 'old.example.com', name: 'Old', currency: 'EUR', timezone: 'UTC' }).returning('id');
      const [customer] = await knex('customers').insert({ restaurant_id: restaurant.id, user_sub: 'sub-old' }).returning('id');
      const [old] = await knex('orders')
        .insert({
          restaurant_id: restaurant.id,
          customer_id: customer.id,
          payment_method: 'cash',
          fulfillment: 'pickup',
          currency: 'EUR',
          total_cents: 500,
          placed_at: new Date('2026-01-02T03:04:05Z'),
        })
        .returning('id');
      await migrations[slotsAt]?.[1].up(knex);
      const row = await knex('orders').where({ id: old.id }).first();
      expect(row).toMatchObject({ requested_at: null, slot_starts_at: null, slot_counted: false });
      expect(new Date(row.promised_at).toISOString()).toBe('2026-01-02T03:04:05.000Z');
    } finally {
      await knex.destroy();
    }
  });
});

describe('splitting a migration script into statements', () => {
  it('splits on semicolons but not inside comments or function bodies', () => {
    expect(
      splitStatements(`CREATE TABLE a (x int); -- one; two
        CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END; $$;
        SELECT 1`),
    ).toHaveLength(3);
  });

  it.each([
    ['a semicolon in a string', `SELECT 'a;b'; SELECT 2`, [`SELECT 'a;b'`, 'SELECT 2']],
    ['a doubled quote in a string', `SELECT 'it''s; fine'; SELECT 2`, [`SELECT 'it''s; fine'`, 'SELECT 2']],
    ['two dashes in a string, and the statement after it', `SELECT '-- no comment'; SELECT 2`, [`SELECT '-- no comment'`, 'SELECT 2']],
    ['a block comment opener in a string', `SELECT '/*'; SELECT 2`, [`SELECT '/*'`, 'SELECT 2']],
    ['a backslash-escaped quote in an E string', `SELECT E'a\\'; b'; SELECT 2`, [`SELECT E'a\\'; b'`, 'SELECT 2']],
    ['a backslash in a plain string, which escapes nothing', `SELECT 'a\\'; SELECT 2`, [`SELECT 'a\\'`, 'SELECT 2']],
    ['a semicolon and quotes in a quoted identifier', `SELECT 1 AS "we;ird""'"; SELECT 2`, [`SELECT 1 AS "we;ird""'"`, 'SELECT 2']],
    [
      'a tagged dollar quote holding $$ and semicolons',
      `DO $body$ BEGIN PERFORM $$;$$; END $body$; SELECT 2`,
      [`DO $body$ BEGIN PERFORM $$;$$; END $body$`, 'SELECT 2'],
    ],
    ['a positional parameter, which is no dollar quote', `PREPARE p AS SELECT $1; SELECT 2`, ['PREPARE p AS SELECT $1', 'SELECT 2']],
    ['a dollar sign inside a word', `SELECT 1 AS a$b; SELECT 2`, ['SELECT 1 AS a$b', 'SELECT 2']],
    ['a nested block comment with semicolons', `/* a; /* b; */ c; */ SELECT 1; SELECT 2`, [`/* a; /* b; */ c; */ SELECT 1`, 'SELECT 2']],
    ['a quote inside a line comment', `SELECT 1; -- it's done\nSELECT 2`, ['SELECT 1', `-- it's done\nSELECT 2`]],
    ['parts that are only comments and blanks', `SELECT 1; -- the end; really\n ; /* nothing */ ;`, ['SELECT 1']],
  ])('keeps %s', (_name, script, statements) => {
    expect(splitStatements(script)).toEqual(statements);
  });

  it.each([
    ['string literal', `SELECT 'open; SELECT 2`],
    ['quoted identifier', `SELECT "open; SELECT 2`],
    ['dollar-quoted body $x$', `DO $x$ BEGIN END $y$; SELECT 2`],
    ['block comment', `/* open; SELECT 2`],
  ])('refuses an unterminated %s', (what, script) => {
    expect(() => splitStatements(script)).toThrow(`unterminated ${what}`);
  });

  it('runs a tricky script on the database exactly as written', async () => {
    const db = await createTestDatabase();
    try {
      await runSql(
        db.knex,
        `
        CREATE TABLE tricky (id int PRIMARY KEY, value text); -- a comment; with a semicolon
        INSERT INTO tricky VALUES (1, 'a;b'), (2, 'it''s -- not a comment'), (3, E'back\\\\slash; \\'quoted\\''), (4, $q$ dollar; 'quoted' $$ $q$);
        /* a block comment; /* nested; */ */ INSERT INTO tricky VALUES (5, 'after the comment?');
      `,
      );
      const rows = await db.knex('tricky').orderBy('id');
      expect(rows.map((row: { value: string }) => row.value)).toEqual([
        'a;b',
        "it's -- not a comment",
        "back\\slash; 'quoted'",
        " dollar; 'quoted' $$ ",
        'after the comment?',
      ]);
    } finally {
      await db.destroy();
    }
  });
});

describe('migrations back down', () => {
  it('roll back all the way, then forward again to a schema that works', async () => {
    const db = await createTestDatabase();
    const knex = db.knex;
    try {
      await knex.migrate.rollback(migratorConfig, true);
      const left = await knex.raw(`SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'S', 'v') AND relname NOT LIKE 'knex_migrations%' ORDER BY 1`);
      expect(left.rows).toEqual([]);
      expect(await pendingMigrations(knex)).toHaveLength(migrations.length);

      expect(await migrateToLatest(knex)).toEqual(migrations.map(([name]) => name));
      const [restaurant] = await knex('restaurants').insert({ domain: 'again.example.com', name: 'Again', currency: 'EUR', timezone: 'UTC' }).returning('id');
      const [customer] = await knex('customers').insert({ restaurant_id: restaurant.id, user_sub: 'again' }).returning('id');
      expect(Number(customer.id) % TENANT_ID_SHIFT).toBe(Number(restaurant.id));
    } finally {
      await db.destroy();
    }
  });

  it('keep ids unique when tenant ids are rolled back with rows in the tables, and after they come back', async () => {
    const db = await createTestDatabase();
    const knex = db.knex;
    try {
      const [restaurant] = await knex('restaurants').insert({ domain: 'down.example.com', name: 'Down', currency: 'EUR', timezone: 'UTC' }).returning('id');
      const insertCustomer = async (sub: string) =>
        Number((await knex('customers').insert({ restaurant_id: restaurant.id, user_sub: sub }).returning('id'))[0].id);
      const tenantId = await insertCustomer('before');
      // Back down to just before per-restaurant ids (the migrations after them go first), then up again.
      while (!(await pendingMigrations(knex)).includes('20261201110000_tenant_ids')) await knex.migrate.down(migratorConfig);
      expect((await pendingMigrations(knex))[0]).toBe('20261201110000_tenant_ids');
      const globalId = await insertCustomer('while-down');
      expect(globalId).toBeGreaterThan(tenantId);
      await knex.migrate.latest(migratorConfig);
      const again = await insertCustomer('after');
      expect(again).toBeGreaterThan(globalId);
      expect(again % TENANT_ID_SHIFT).toBe(Number(restaurant.id));
    } finally {
      await db.destroy();
    }
  });
});

describe.skipIf(!onRealPostgres)('migrations from several processes at once (needs the real PostgreSQL server: set DATABASE_URL)', () => {
  it('on a fresh database: every process succeeds, the migrations run once, and the lock stays usable', async () => {
    const baseUrl = process.env.DATABASE_URL ?? '';
    const name = `tablekit_migrate_race_${randomBytes(6).toString('hex')}`;
    const admin = knexFactory({ client: 'pg', connection: adminUrlFor(baseUrl), pool: { min: 0, max: 1 } });
    await admin.raw(`CREATE DATABASE ${name}`);
    // Like pm2 cluster instances starting together: one pool each, all migrating at start.
    const instances = Array.from({ length: 4 }, () => knexFactory({ client: 'pg', connection: databaseUrlFor(baseUrl, name), pool: { min: 0, max: 2 } }));
    try {
      const applied = await Promise.all(instances.map((knex) => migrateToLatest(knex)));
      expect(applied.map((names) => names.length).sort((a, b) => a - b)).toEqual([0, 0, 0, migrations.length]);
      const knex = instances[0]!;
      expect(await knex('knex_migrations_lock').select('index', 'is_locked')).toEqual([{ index: 1, is_locked: 0 }]);
      expect(await knex('knex_migrations').count('* as n').first()).toEqual({ n: migrations.length });
      expect(await migrateToLatest(knex)).toEqual([]);
    } finally {
      await Promise.all(instances.map((knex) => knex.destroy()));
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    }
  });
});

describe('constraints reject bad rows', () => {
  let db: TestDatabase;
  let knex: Knex;
  let restaurantId: number;
  let otherRestaurantId: number;
  let ingredientId: number;
  let recipeId: number;
  let customerId: number;
  let orderId: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    knex = db.knex;
    const [a] = await knex('restaurants').insert({ domain: 'a.example.com', name: 'A', currency: 'EUR', timezone: 'UTC' }).returning('id');
    const [b] = await knex('restaurants').insert({ domain: 'b.example.com', name: 'B', currency: 'EUR', timezone: 'UTC' }).returning('id');
    restaurantId = a.id;
    otherRestaurantId = b.id;
    const [ingredient] = await knex('ingredients')
      .insert({ restaurant_id: restaurantId, name: 'Bun', unit: 'piece', price_cents: 50, stock: 10 })
      .returning('id');
    ingredientId = ingredient.id;
    const [recipe] = await knex('recipes').insert({ restaurant_id: restaurantId, name: 'Burger' }).returning('id');
    recipeId = recipe.id;
    const [customer] = await knex('customers').insert({ restaurant_id: restaurantId, user_sub: 'sub-1' }).returning('id');
    customerId = customer.id;
    const [order] = await knex('orders')
      .insert({ restaurant_id: restaurantId, customer_id: customerId, payment_method: 'cash', fulfillment: 'pickup', currency: 'EUR', total_cents: 500 })
      .returning('id');
    orderId = order.id;
  });

  afterAll(async () => {
    await db.destroy();
  });

  const expectViolation = async (state: string, work: () => Promise<unknown>) => {
    const error = await work().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'expected the database to refuse the row').toBeDefined();
    expect(sqlState(error)).toBe(state);
  };

  it.each([
    ['negative stock', () => knex('ingredients').where({ id: ingredientId }).update({ stock: -1 })],
    ['negative price', () => knex('ingredients').insert({ restaurant_id: restaurantId, name: 'X', unit: 'g', price_cents: -1 })],
    [
      'an ingredient name over 50 characters',
      () => knex('ingredients').insert({ restaurant_id: restaurantId, name: 'x'.repeat(51), unit: 'g', price_cents: 1 }),
    ],
    ['a recipe description over 100 characters', () => knex('recipes').insert({ restaurant_id: restaurantId, name: 'Y', description: 'x'.repeat(101) })],
    [
      'a recipe ingredient quantity of 0',
      () => knex('recipe_ingredients').insert({ restaurant_id: restaurantId, recipe_id: recipeId, ingredient_id: ingredientId, quantity: 0 }),
    ],
    [
      'a max_quantity below the quantity',
      () => knex('recipe_ingredients').insert({ restaurant_id: restaurantId, recipe_id: recipeId, ingredient_id: ingredientId, quantity: 2, max_quantity: 1 }),
    ],
    ['a cart quantity of 51', () => knex('cart_items').insert({ restaurant_id: restaurantId, customer_id: customerId, recipe_id: recipeId, quantity: 51 })],
    ['an unknown order status', () => knex('orders').where({ id: orderId }).update({ status: 'lost' })],
    ['an unknown payment status', () => knex('orders').where({ id: orderId }).update({ payment_status: 'maybe' })],
    [
      'a delivery without an address',
      () =>
        knex('orders').insert({
          restaurant_id: restaurantId,
          customer_id: customerId,
          payment_method: 'cash',
          fulfillment: 'delivery',
          currency: 'EUR',
          total_cents: 1,
        }),
    ],
    [
      'negative money on an order',
      () =>
        knex('orders').insert({
          restaurant_id: restaurantId,
          customer_id: customerId,
          payment_method: 'cash',
          fulfillment: 'pickup',
          currency: 'EUR',
          total_cents: -1,
        }),
    ],
    [
      'a line total that is not price times quantity',
      () =>
        knex('order_items').insert({
          restaurant_id: restaurantId,
          order_id: orderId,
          recipe_id: recipeId,
          name: 'B',
          quantity: 2,
          unit_price_cents: 100,
          line_total_cents: 100,
        }),
    ],
    ['a phone number not in E.164', () => knex('customers').insert({ restaurant_id: restaurantId, user_sub: 'sub-2', phone: '0123 456' })],
    ['a customer name over 30 characters', () => knex('customers').insert({ restaurant_id: restaurantId, user_sub: 'sub-3', name: 'x'.repeat(31) })],
    ['a staff role that does not exist', () => knex('staff_members').insert({ restaurant_id: restaurantId, user_sub: 's', email: 's@x.io', role: 'owner' })],
    [
      'a zero-delta ledger row',
      () => knex('inventory_movements').insert({ restaurant_id: restaurantId, ingredient_id: ingredientId, delta: 0, reason: 'restock', stock_after: 10 }),
    ],
    [
      'an order movement without its order',
      () =>
        knex('inventory_movements').insert({ restaurant_id: restaurantId, ingredient_id: ingredientId, delta: -1, reason: 'order_reserved', stock_after: 9 }),
    ],
    [
      'a refund of more than was paid',
      () =>
        knex('payments').insert({
          restaurant_id: restaurantId,
          order_id: orderId,
          method: 'cash',
          provider: 'cash',
          status: 'succeeded',
          amount_cents: 100,
          refunded_cents: 101,
          currency: 'EUR',
        }),
    ],
    ['a lower-case currency', () => knex('restaurants').insert({ domain: 'c.example.com', name: 'C', currency: 'eur', timezone: 'UTC' })],
    ['an upper-case domain', () => knex('restaurants').insert({ domain: 'D.example.com', name: 'D', currency: 'EUR', timezone: 'UTC' })],
  ])('CHECK refuses %s', async (_name, work) => {
    await expectViolation('23514', work);
  });

  it.each([
    ['a duplicate domain', () => knex('restaurants').insert({ domain: 'a.example.com', name: 'A2', currency: 'EUR', timezone: 'UTC' })],
    ['two customers for one user in one restaurant', () => knex('customers').insert({ restaurant_id: restaurantId, user_sub: 'sub-1' })],
    [
      'two active ingredients with the same name',
      () => knex('ingredients').insert({ restaurant_id: restaurantId, name: 'BUN', unit: 'piece', price_cents: 1 }),
    ],
  ])('UNIQUE refuses %s', async (_name, work) => {
    await expectViolation('23505', work);
  });

  it.each([
    [
      'a recipe ingredient from another restaurant',
      () => knex('recipe_ingredients').insert({ restaurant_id: otherRestaurantId, recipe_id: recipeId, ingredient_id: ingredientId, quantity: 1 }),
    ],
    [
      'a cart line for a customer of another restaurant',
      () => knex('cart_items').insert({ restaurant_id: otherRestaurantId, customer_id: customerId, recipe_id: recipeId, quantity: 1 }),
    ],
    [
      'an order item of an order in another restaurant',
      () =>
        knex('order_items').insert({
          restaurant_id: otherRestaurantId,
          order_id: orderId,
          recipe_id: recipeId,
          name: 'B',
          quantity: 1,
          unit_price_cents: 1,
          line_total_cents: 1,
        }),
    ],
    [
      'a staff member of a restaurant that does not exist',
      () => knex('staff_members').insert({ restaurant_id: 999_999, user_sub: 's', email: 's@x.io', role: 'manager' }),
    ],
    [
      'a payment for an order that does not exist',
      () =>
        knex('payments').insert({
          restaurant_id: restaurantId,
          order_id: 999_999,
          method: 'cash',
          provider: 'cash',
          status: 'succeeded',
          amount_cents: 1,
          currency: 'EUR',
        }),
    ],
  ])('FOREIGN KEY refuses %s', async (_name, work) => {
    await expectViolation('23503', work);
  });

  it('keeps the stock ledger append-only', async () => {
    const [movement] = await knex('inventory_movements')
      .insert({ restaurant_id: restaurantId, ingredient_id: ingredientId, delta: 5, reason: 'restock', stock_after: 15 })
      .returning('id');
    await expectViolation('23001', () => knex('inventory_movements').where({ id: movement.id }).update({ delta: 6 }));
    await expectViolation('23001', () => knex('inventory_movements').where({ id: movement.id }).delete());
    expect(await knex('inventory_movements').where({ id: movement.id }).first()).toMatchObject({ delta: 5 });
  });

  it('returns ids and counts as numbers on this driver too', async () => {
    const row = await knex('restaurants').count({ n: '*' }).first();
    expect(typeof row?.n).toBe('number');
    expect(typeof restaurantId).toBe('number');
  });
});
