import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows } from './support/catalog.js';
import { createCustomer, createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';
import { orderPageSchema, orderSchema } from '../src/modules/orders/schemas.js';
import { cartItemSchema } from '../src/modules/cart/schemas.js';
import { TENANT_ID_SHIFT } from '../migrations/tenant-ids.js';
import { tenantTables } from '../migrations/20261201110000_tenant_ids.js';
import { sqlState } from '../src/db/transaction.js';

/** One restaurant's shop, driven through the API as its customers would. */
async function openShop(t: TestApp, domain: string) {
  const restaurant = await createRestaurant(t.db.knex, { domain });
  const api = catalogClient(t.app, domain);
  const flour = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Flour', stock: 10_000 });
  const [pizza] = (await insertRecipeRows(t.db.knex, restaurant.id, [{ name: 'Pizza', lines: [{ ingredient_id: flour, quantity: 1 }] }])) as [number];
  const placeOrder = async (user: SignedInUser) => {
    const line = await api.post('/v1/cart/items', { recipe_id: pizza, quantity: 1 }, user);
    expect(line.status, line.text).toBe(201);
    const placed = await api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash' }, user).set('Idempotency-Key', randomUUID());
    expect(placed.status, placed.text).toBe(201);
    return { order: orderSchema.parse(placed.body), cartLine: cartItemSchema.parse(line.body) };
  };
  return { restaurant, api, placeOrder };
}

describe('ids say nothing about other restaurants', () => {
  let t: TestApp;
  let a: Awaited<ReturnType<typeof openShop>>;
  let b: Awaited<ReturnType<typeof openShop>>;
  let alice: SignedInUser;
  let bob: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    a = await openShop(t, 'a-ids.example.com');
    b = await openShop(t, 'b-ids.example.com');
    alice = await signInCustomer(t.cognito);
    bob = await signInCustomer(t.cognito);
  });
  afterAll(async () => {
    await t.close();
  });

  it("orders placed at restaurant B between two of A's do not change the gap between A's ids", async () => {
    const first = await a.placeOrder(alice);
    const quiet = await a.placeOrder(alice);
    for (let i = 0; i < 5; i += 1) await b.placeOrder(bob);
    const afterBusyB = await a.placeOrder(alice);

    expect(afterBusyB.order.id - quiet.order.id).toBe(quiet.order.id - first.order.id);
    expect(afterBusyB.cartLine.id - quiet.cartLine.id).toBe(quiet.cartLine.id - first.cartLine.id);
    // The customer records, created at each restaurant on first use, are numbered per restaurant too.
    const customerA = await a.api.get('/v1/customers/me', alice);
    const customerB = await b.api.get('/v1/customers/me', bob);
    expect(Math.floor(customerA.body.id / TENANT_ID_SHIFT)).toBe(Math.floor(customerB.body.id / TENANT_ID_SHIFT));
  });

  it('keeps ids unique in a table, growing within a restaurant, and safe in JavaScript', async () => {
    for (const table of tenantTables) {
      const rows: Array<{ restaurant_id: number; id: number }> = await t.db.knex(table).select('restaurant_id', 'id').orderBy(['restaurant_id', 'id']);
      expect(new Set(rows.map((row) => Number(row.id))).size, table).toBe(rows.length);
      for (const row of rows) {
        expect(Number.isSafeInteger(Number(row.id)) && Number(row.id) > 0, table).toBe(true);
        expect(Number(row.id) % TENANT_ID_SHIFT, table).toBe(Number(row.restaurant_id));
      }
    }
    // The largest id the scheme can give: the last count of the last restaurant.
    expect((2 ** 33 - 1) * TENANT_ID_SHIFT + (TENANT_ID_SHIFT - 1)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('lists orders newest first across pages, by the same cursors', async () => {
    const manager = await signInStaff(t.cognito, t.db.knex, a.restaurant.id, 'manager');
    const placed: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      placed.push((await a.placeOrder(alice)).order.id);
      await b.placeOrder(bob);
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await a.api.get(`/v1/orders?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, manager);
      expect(res.status, res.text).toBe(200);
      const page = orderPageSchema.parse(res.body);
      seen.push(...page.data.map((order) => order.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual([...seen].sort((x, y) => y - x));
    expect(seen.slice(0, 3)).toEqual([...placed].reverse());
    expect(seen.every((id) => id % TENANT_ID_SHIFT === a.restaurant.id)).toBe(true);
  });

  it('refuses a restaurant whose id would not fit in a tenant id', async () => {
    const error = await t.db.knex
      .raw(
        `INSERT INTO restaurants (id, domain, name, currency, timezone) OVERRIDING SYSTEM VALUE VALUES (${TENANT_ID_SHIFT}, 'too-many.example.com', 'X', 'EUR', 'UTC')`,
      )
      .catch((e: unknown) => e);
    expect(sqlState(error)).toBe('23514');
  });
});

describe('tenant ids in the schema', () => {
  let db: TestDatabase;
  let knex: Knex;
  beforeAll(async () => {
    db = await createTestDatabase({ poolMax: 20 });
    knex = db.knex;
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('are given to every table that has a restaurant_id and an id (a new tenant table needs assignTenantIds)', async () => {
    const tables = await knex.raw(`
      SELECT c.table_name,
             EXISTS (SELECT 1 FROM information_schema.triggers g
                      WHERE g.event_object_table = c.table_name AND g.trigger_name = 'assign_tenant_id') AS has_tenant_ids
        FROM information_schema.columns c
        JOIN information_schema.columns r ON r.table_schema = c.table_schema AND r.table_name = c.table_name AND r.column_name = 'restaurant_id'
       WHERE c.table_schema = current_schema() AND c.column_name = 'id'
       ORDER BY 1`);
    const rows = tables.rows as Array<{ table_name: string; has_tenant_ids: boolean }>;
    expect(rows.length).toBeGreaterThanOrEqual(tenantTables.length);
    expect(rows.filter((row) => !row.has_tenant_ids).map((row) => row.table_name)).toEqual([]);
  });

  it('replace an id given in the INSERT, so no caller can pick one', async () => {
    const restaurant = await createRestaurant(knex);
    const [row] = await knex('customers').insert({ restaurant_id: restaurant.id, id: 7, user_sub: 'picked-id' }).returning('id');
    expect(Number(row.id) % TENANT_ID_SHIFT).toBe(restaurant.id);
    expect(Number(row.id)).not.toBe(7);
  });

  it.skipIf(!onRealPostgres)("number a new restaurant's first rows from many connections at once without a duplicate or a failure", async () => {
    const restaurant = await createRestaurant(knex);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        knex.transaction(async (trx) => {
          const customer = await createCustomer(trx as unknown as Knex, restaurant.id, { user_sub: `racer-${i}` });
          await new Promise((resolve) => setTimeout(resolve, 20));
          return customer.id;
        }),
      ),
    );
    const ids = results.map((result) => (result.status === 'fulfilled' ? result.value : String(result.reason)));
    expect(
      ids.every((id) => typeof id === 'number'),
      ids.join(', '),
    ).toBe(true);
    expect(new Set(ids).size).toBe(20);
    expect([...(ids as number[])].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * TENANT_ID_SHIFT + restaurant.id));
  });
});
