import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, type CatalogClient } from './support/catalog.js';
import { settableClock } from './support/clock.js';
import { onRealPostgres } from './support/database.js';
import { createRestaurant } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';

// These need many real connections and real row locks: PGlite has one connection and runs
// transactions one at a time, so there they would prove nothing.
describe.skipIf(!onRealPostgres)('a capped slot under a checkout race (real PostgreSQL)', () => {
  const clock = settableClock('2026-06-02T10:30:00Z'); // a Tuesday, always open
  let t: TestApp;
  let server: Server;
  let api: CatalogClient;
  let restaurantId: number;

  beforeAll(async () => {
    t = await createTestApp({ clock });
    server = t.app.listen(0);
    const restaurant = await createRestaurant(t.db.knex, { domain: 'slot-rush.example.com', timezone: 'Europe/Berlin' });
    restaurantId = restaurant.id;
    api = catalogClient(server as unknown as Parameters<typeof catalogClient>[0], restaurant.domain);
    const manager = await signInStaff(t.cognito, t.db.knex, restaurantId, 'manager');
    const hours = await request(server)
      .put('/v1/restaurant/hours')
      .set('X-Restaurant-Domain', restaurant.domain)
      .set('Authorization', manager.auth)
      .send({ weekly: [], max_orders_per_slot: 10 });
    expect(hours.status, hours.text).toBe(200);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it('100 customers checking out into a slot of 10 at once: exactly 10 orders, 90 slot_full; a cancel lets one more in', async () => {
    const flour = await insertIngredientRow(t.db.knex, restaurantId, { stock: 100_000 });
    const [dish] = (await insertRecipeRows(t.db.knex, restaurantId, [{ name: 'Pizza', lines: [{ ingredient_id: flour, quantity: 1 }] }])) as [number];
    const racers: SignedInUser[] = await Promise.all(Array.from({ length: 101 }, () => signInCustomer(t.cognito)));
    await Promise.all(racers.map(async (racer) => expect((await api.post('/v1/cart/items', { recipe_id: dish, quantity: 1 }, racer)).status).toBe(201)));
    const slot = '2026-06-02T17:30:00Z';
    const checkout = (user: SignedInUser) =>
      api.post('/v1/orders', { fulfillment: 'pickup', payment_method: 'cash', requested_at: slot }, user).set('Idempotency-Key', randomUUID());

    const results = await Promise.all(racers.slice(0, 100).map(checkout));
    const statuses = results.map((res) => res.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    const refused = results.filter((res) => res.status === 409);
    expect(refused).toHaveLength(90);
    for (const res of refused) expect(JSON.parse(res.text)).toMatchObject({ code: 'slot_full', next_available_slot: '2026-06-02T17:45:00.000Z' });
    expect(await t.db.knex('orders').where({ restaurant_id: restaurantId, slot_starts_at: new Date(slot) })).toHaveLength(10);
    // The stock of refused checkouts was given back with their rolled-back transactions.
    expect(Number((await t.db.knex('ingredients').where({ id: flour }).first()).stock)).toBe(100_000 - 10);

    const winner = results.find((res) => res.status === 201);
    const owner = racers[results.indexOf(winner!)]!;
    expect((await api.post(`/v1/orders/${winner!.body.id}/cancel`, {}, owner)).status).toBe(200);
    const again = await Promise.all(
      [
        racers[100]!,
        ...racers
          .slice(0, 100)
          .filter((_, i) => statuses[i] === 409)
          .slice(0, 20),
      ].map(checkout),
    );
    expect(again.filter((res) => res.status === 201)).toHaveLength(1);
    expect(again.filter((res) => res.status === 409)).toHaveLength(20);
  }, 180_000);
});
