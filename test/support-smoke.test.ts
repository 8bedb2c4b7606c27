import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant } from './support/factories.js';
import { signInStaff } from './support/users.js';

// The test helpers themselves: a signed-in staff user is recognised by the app's authenticator.
describe('test support', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs staff in with tokens the app verifies', async () => {
    const restaurant = await createRestaurant(t.db.knex);
    const manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    const principal = await t.authenticator.authenticate({ get: (name: string) => (name === 'authorization' ? manager.auth : undefined) } as never);
    expect(principal.sub).toBe(manager.sub);
    expect(await t.authenticator.staffRole(t.db.knex, restaurant.id, manager.sub)).toBe('manager');
    expect((await request(t.app).get('/healthz')).status).toBe(200);
  });
});
