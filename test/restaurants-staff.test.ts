import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { onRealPostgres } from './support/database.js';
import { lockManagers } from '../src/modules/staff/repo.js';
import { removeStaffMember } from '../src/modules/staff/service.js';
import { signIn, signInCustomer, signInPlatformAdmin, signInStaff, uniqueEmail, type SignedInUser } from './support/users.js';

const expectProblem = (res: request.Response, status: number, code: string) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as { code: string; detail: string; errors?: Array<{ path: string; message: string }> };
  expect(body.code).toBe(code);
  return body;
};

const errorPaths = (res: request.Response) => ((JSON.parse(res.text) as { errors?: Array<{ path: string }> }).errors ?? []).map((e) => e.path);

let sequence = 0;
const newDomain = () => `place-${process.pid}-${++sequence}-${Math.random().toString(36).slice(2, 7)}.example.com`;

describe('restaurants', () => {
  let t: TestApp;
  let admin: SignedInUser;
  let futureManager: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await signInPlatformAdmin(t.cognito);
    futureManager = await signIn(t.cognito, uniqueEmail('owner'));
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (body: Record<string, unknown>, auth = admin.auth) => request(t.app).post('/v1/restaurants').set('Authorization', auth).send(body);
  const valid = () => ({ domain: newDomain(), name: 'Chez Test', currency: 'GBP', timezone: 'Europe/London', manager_email: futureManager.email });

  it('lets a platform admin create a restaurant whose named manager can then run it', async () => {
    const body = { ...valid(), domain: newDomain().toUpperCase(), manager_email: futureManager.email.toUpperCase() };
    const res = await create(body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), domain: body.domain.toLowerCase(), name: 'Chez Test', currency: 'GBP', timezone: 'Europe/London' });

    const served = await request(t.app).get('/v1/restaurant').set('Host', `www.${res.body.domain}`);
    // A new restaurant has no hours: always open.
    expect(served.body).toEqual({ ...res.body, ordering: expect.objectContaining({ accepting_orders: true, reason: null }) });
    const staff = await request(t.app).get('/v1/staff').set('X-Restaurant-Domain', res.body.domain).set('Authorization', futureManager.auth);
    expect(staff.status).toBe(200);
    expect(staff.body).toEqual({ data: [{ user_sub: futureManager.sub, email: futureManager.email, role: 'manager' }], next_cursor: null });
  });

  it('needs no tenant: any domain, known or not, serves the platform route', async () => {
    const res = await create(valid()).set('X-Restaurant-Domain', 'nobody-here.example.com');
    expect(res.status).toBe(201);
  });

  it('refuses anyone but a platform admin (403), and the anonymous (401)', async () => {
    expectProblem(await create(valid(), futureManager.auth), 403, 'forbidden');
    expectProblem(await request(t.app).post('/v1/restaurants').send(valid()), 401, 'unauthenticated');
  });

  it('answers a manager email that is not in the user pool with 404 not_found, creating nothing', async () => {
    const body = { ...valid(), manager_email: uniqueEmail('nobody') };
    const res = await create(body);
    expect(expectProblem(res, 404, 'not_found').errors).toEqual([{ path: 'manager_email', message: expect.any(String) }]);
    expect(await t.db.knex('restaurants').where({ domain: body.domain }).first()).toBeUndefined();
  });

  it('answers a duplicate domain (any case) with 409 conflict, leaving the first one alone', async () => {
    const first = valid();
    expect((await create(first)).status).toBe(201);
    const again = await create({ ...valid(), domain: first.domain.toUpperCase(), name: 'Imposter' });
    expect(expectProblem(again, 409, 'conflict').errors).toEqual([{ path: 'domain', message: expect.any(String) }]);
    expect((await t.db.knex('restaurants').where({ domain: first.domain }).first()).name).toBe('Chez Test');
  });

  it.each([
    ['domain', 'not a domain'],
    ['domain', 'localhost'],
    ['domain', '-bad-.example.com'],
    ['domain', 'www.storeabc.com'],
    ['domain', 'staff.storeabc.com'],
    ['domain', 'under_score.example.com'],
    ['name', ''],
    ['name', 'n'.repeat(101)],
    ['currency', 'eur'],
    ['currency', 'EURO'],
    ['currency', 'ABC'],
    ['timezone', 'Mars/Olympus_Mons'],
    ['timezone', '+01:00'],
    ['timezone', ''],
    ['manager_email', 'not-an-email'],
    ['manager_email', `${'m'.repeat(80)}@example.com`],
  ])('answers a bad %s (%j) with 400 validation_failed naming it', async (field, value) => {
    const res = await create({ ...valid(), [field]: value });
    expectProblem(res, 400, 'validation_failed');
    expect(errorPaths(res)).toEqual([field]);
  });

  it('accepts time zone aliases the runtime knows, such as UTC', async () => {
    expect((await create({ ...valid(), timezone: 'UTC' })).status).toBe(201);
  });

  describe('PATCH /v1/restaurant', () => {
    let restaurant: RestaurantRow;
    let manager: SignedInUser;
    let kitchen: SignedInUser;

    beforeAll(async () => {
      restaurant = await createRestaurant(t.db.knex, { currency: 'EUR', timezone: 'Europe/Berlin' });
      manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
      kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
    });

    const patch = (body: unknown, auth = manager.auth) =>
      request(t.app)
        .patch('/v1/restaurant')
        .set('X-Restaurant-Domain', restaurant.domain)
        .set('Authorization', auth)
        .send(body as object);

    it('lets a manager change the name and time zone', async () => {
      const res = await patch({ name: '  New Name  ', timezone: 'America/New_York' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: restaurant.id, domain: restaurant.domain, name: 'New Name', currency: 'EUR', timezone: 'America/New_York' });
      expect((await patch({ name: 'Only The Name' })).body.timezone).toBe('America/New_York');
      expect((await patch({})).body.name).toBe('Only The Name');
    });

    it('refuses kitchen staff and customers with 403', async () => {
      expectProblem(await patch({ name: 'Kitchen Rules' }, kitchen.auth), 403, 'forbidden');
      expectProblem(await patch({ name: 'Customer Rules' }, (await signInCustomer(t.cognito)).auth), 403, 'forbidden');
    });

    it('refuses a bad time zone, a long name, and fields that cannot change, naming them', async () => {
      expect(errorPaths(await patch({ timezone: 'Not/AZone' }))).toEqual(['timezone']);
      expect(errorPaths(await patch({ name: 'x'.repeat(101) }))).toEqual(['name']);
      const currency = await patch({ currency: 'USD' });
      expectProblem(currency, 400, 'validation_failed');
      expect(JSON.stringify(currency.body.errors)).toContain('currency');
    });
  });

  it('documents the restaurant routes', async () => {
    const doc = (await request(t.app).get('/openapi.json')).body;
    expect(doc.paths['/v1/restaurants'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/v1/restaurant'].patch).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Restaurant', 'RestaurantCreate', 'RestaurantUpdate']));
  });
});

describe('staff', () => {
  let t: TestApp;
  let a: RestaurantRow;
  let b: RestaurantRow;
  let managerA: SignedInUser;
  let kitchenA: SignedInUser;
  let managerB: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    a = await createRestaurant(t.db.knex);
    b = await createRestaurant(t.db.knex);
    managerA = await signInStaff(t.cognito, t.db.knex, a.id, 'manager', uniqueEmail('a-manager'));
    kitchenA = await signInStaff(t.cognito, t.db.knex, a.id, 'kitchen', uniqueEmail('a-kitchen'));
    managerB = await signInStaff(t.cognito, t.db.knex, b.id, 'manager', uniqueEmail('b-manager'));
  });
  afterAll(async () => {
    await t.close();
  });

  const at = (restaurant: RestaurantRow, user: SignedInUser) => ({
    list: (query = '') => request(t.app).get(`/v1/staff${query}`).set('X-Restaurant-Domain', restaurant.domain).set('Authorization', user.auth),
    put: (sub: string, role: unknown) =>
      request(t.app).put(`/v1/staff/${sub}`).set('X-Restaurant-Domain', restaurant.domain).set('Authorization', user.auth).send({ role }),
    remove: (sub: string) => request(t.app).delete(`/v1/staff/${sub}`).set('X-Restaurant-Domain', restaurant.domain).set('Authorization', user.auth),
  });

  it('lets a manager add a user of the pool, with the email the pool has (201), and change their role (200)', async () => {
    const cook = await signIn(t.cognito, uniqueEmail('cook'));
    const added = await at(a, managerA).put(cook.sub, 'kitchen');
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ user_sub: cook.sub, email: cook.email, role: 'kitchen' });
    const promoted = await at(a, managerA).put(cook.sub, 'manager');
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe('manager');
    // The new role takes effect at once.
    expect((await at(a, cook).list()).status).toBe(200);
    expect((await at(a, managerA).remove(cook.sub)).status).toBe(204);
    expectProblem(await at(a, cook).list(), 403, 'forbidden');
  });

  it('answers a sub that is not in the user pool with 404, and a malformed one with 400', async () => {
    expectProblem(await at(a, managerA).put('00000000-0000-4000-8000-000000000000', 'kitchen'), 404, 'not_found');
    // An email is not a sub, even though Cognito's AdminGetUser would resolve one.
    expectProblem(await at(a, managerA).put(encodeURIComponent(kitchenA.email), 'kitchen'), 400, 'validation_failed');
    expect(errorPaths(await at(a, managerA).put(kitchenA.sub, 'owner'))).toEqual(['role']);
    expect(await t.db.knex('staff_members').where({ restaurant_id: a.id, user_sub: '00000000-0000-4000-8000-000000000000' }).first()).toBeUndefined();
  });

  it('answers removing someone who is not on the staff with 404', async () => {
    expectProblem(await at(a, managerA).remove(managerB.sub), 404, 'not_found');
  });

  it('lists the staff by email, a page at a time, with keyset cursors', async () => {
    const extra = await Promise.all(['zz-one', 'zz-two', 'zz-three'].map((p) => signIn(t.cognito, uniqueEmail(p))));
    for (const user of extra) await at(a, managerA).put(user.sub, 'kitchen').expect(201);
    const all = (await at(a, managerA).list('?limit=100')).body.data as Array<{ email: string; user_sub: string; role: string }>;
    expect(all.map((m) => m.email)).toEqual([...all.map((m) => m.email)].sort());
    expect(all.map((m) => m.user_sub)).toEqual(expect.arrayContaining([managerA.sub, kitchenA.sub, ...extra.map((u) => u.sub)]));
    expect(all.map((m) => m.user_sub)).not.toContain(managerB.sub);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await at(a, managerA).list(`?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((m: { user_sub: string }) => m.user_sub));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(all.map((m) => m.user_sub));
    expectProblem(await at(a, managerA).list('?cursor=bogus'), 400, 'validation_failed');
    for (const user of extra) await at(a, managerA).remove(user.sub).expect(204);
  });

  it('refuses kitchen staff on every manager route with 403', async () => {
    expectProblem(await at(a, kitchenA).list(), 403, 'forbidden');
    expectProblem(await at(a, kitchenA).put(kitchenA.sub, 'manager'), 403, 'forbidden');
    expectProblem(await at(a, kitchenA).remove(managerA.sub), 403, 'forbidden');
  });

  it("refuses a manager of restaurant A on restaurant B's staff routes with 403, changing nothing", async () => {
    expectProblem(await at(b, managerA).list(), 403, 'forbidden');
    expectProblem(await at(b, managerA).put(managerA.sub, 'manager'), 403, 'forbidden');
    expectProblem(await at(b, managerA).remove(managerB.sub), 403, 'forbidden');
    expect(await t.db.knex('staff_members').where({ restaurant_id: b.id }).select('user_sub', 'role')).toEqual([{ user_sub: managerB.sub, role: 'manager' }]);
  });

  it('refuses to remove or demote the last manager (409), and allows it once there is another', async () => {
    expectProblem(await at(b, managerB).put(managerB.sub, 'kitchen'), 409, 'conflict');
    expectProblem(await at(b, managerB).remove(managerB.sub), 409, 'conflict');
    // Re-affirming the role is fine.
    expect((await at(b, managerB).put(managerB.sub, 'manager')).status).toBe(200);

    const second = await signIn(t.cognito, uniqueEmail('b-second'));
    await at(b, managerB).put(second.sub, 'manager').expect(201);
    expect((await at(b, second).put(managerB.sub, 'kitchen')).status).toBe(200);
    expectProblem(await at(b, second).remove(second.sub), 409, 'conflict');
    expectProblem(await at(b, second).put(second.sub, 'kitchen'), 409, 'conflict');
    // Kitchen staff can always go.
    expect((await at(b, second).remove(managerB.sub)).status).toBe(204);
    await at(b, second).put(managerB.sub, 'manager').expect(201);
  });

  it('documents the staff routes', async () => {
    const doc = (await request(t.app).get('/openapi.json')).body;
    expect(doc.paths['/v1/staff'].get).toBeDefined();
    expect(doc.paths['/v1/staff/{user_sub}'].put.responses['409']).toBeDefined();
    expect(doc.paths['/v1/staff/{user_sub}'].delete.responses['204']).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['StaffMember', 'StaffPage', 'StaffRole']));
  });
});

describe.skipIf(!onRealPostgres)('the last manager under concurrency (real Postgres)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const managersOf = async (restaurantId: number) =>
    Number((await t.db.knex('staff_members').where({ restaurant_id: restaurantId, role: 'manager' }).count({ n: '*' }))[0]?.n);

  it('when two managers demote each other at once, one wins and one gets 409: never zero managers', async () => {
    for (let round = 0; round < 8; round += 1) {
      const restaurant = await createRestaurant(t.db.knex);
      const [x, y] = await Promise.all([
        signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager'),
        signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager'),
      ]);
      const put = (actor: SignedInUser, target: SignedInUser) =>
        request(t.app).put(`/v1/staff/${target.sub}`).set('X-Restaurant-Domain', restaurant.domain).set('Authorization', actor.auth).send({ role: 'kitchen' });
      const results = await Promise.all([put(x, y), put(y, x)]);
      // The loser is refused by the last-manager rule (409) or, if the winner committed before its
      // request was authorised, because it is no longer a manager (403).
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([expect.toBeOneOf([403, 409])]);
      expect(await managersOf(restaurant.id)).toBe(1);
    }
  });

  it('when two managers remove each other at once, one stays', async () => {
    for (let round = 0; round < 8; round += 1) {
      const restaurant = await createRestaurant(t.db.knex);
      const [x, y] = await Promise.all([
        signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager'),
        signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager'),
      ]);
      const remove = (actor: SignedInUser, target: SignedInUser) =>
        request(t.app).delete(`/v1/staff/${target.sub}`).set('X-Restaurant-Domain', restaurant.domain).set('Authorization', actor.auth);
      const results = await Promise.all([remove(x, y), remove(y, x)]);
      expect(results.filter((r) => r.status === 204)).toHaveLength(1);
      expect(results.filter((r) => r.status !== 204).map((r) => r.status)).toEqual([expect.toBeOneOf([403, 409])]);
      expect(await managersOf(restaurant.id)).toBe(1);
    }
  });

  it('a demotion that races another waits for it, then sees it and answers 409', async () => {
    const restaurant = await createRestaurant(t.db.knex);
    const x = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    const y = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => undefined;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    // The first demotion, held open after taking the lock and changing y.
    const first = t.db.knex.transaction(async (trx) => {
      await lockManagers(trx, restaurant.id);
      await trx('staff_members').where({ restaurant_id: restaurant.id, user_sub: y.sub }).update({ role: 'kitchen' });
      locked();
      await held;
    });
    await lockTaken;
    let settled = false;
    const second = removeStaffMember(t.db.knex, restaurant.id, x.sub).finally(() => (settled = true));
    second.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    release();
    await first;
    await expect(second).rejects.toMatchObject({ status: 409, code: 'conflict' });
    expect(await managersOf(restaurant.id)).toBe(1);
  });
});
