import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInCustomer, signInStaff, uniqueEmail, type SignedInUser } from './support/users.js';
import { normalisePhone } from '../src/modules/customers/schemas.js';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const expectProblem = (res: request.Response, status: number, code: string) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as { code: string; detail: string; errors?: Array<{ path: string; message: string }> };
  expect(body.code).toBe(code);
  return body;
};

const errorPaths = (res: request.Response) => ((JSON.parse(res.text) as { errors?: Array<{ path: string }> }).errors ?? []).map((e) => e.path);

describe('phone numbers', () => {
  it.each([
    ['+44 20 7946 0958', '+442079460958'],
    ['0044 (20) 7946-0958', '+442079460958'],
    ['+1 (415) 555-2671', '+14155552671'],
    ['  +49-30-901820  ', '+4930901820'],
    ['+999999999999999', '+999999999999999'],
  ])('normalises %j to E.164 %s', (raw, e164) => {
    expect(normalisePhone(raw)).toBe(e164);
  });

  it.each([
    '020 7946 0958',
    '44 20 7946 0958',
    '+0 123 456',
    '+44 20 CALL',
    '+44.20.7946.0958',
    '+1234567890123456',
    '+',
    '00',
    '++44 20 7946 0958',
    '+44 20 7946 0958 ext 2',
  ])('refuses %j', (raw) => {
    expect(normalisePhone(raw)).toBeUndefined();
  });
});

describe('customers', () => {
  let t: TestApp;
  let a: RestaurantRow;
  let b: RestaurantRow;
  let x: SignedInUser;
  let y: SignedInUser;
  let kitchenA: SignedInUser;
  let managerA: SignedInUser;
  let managerB: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    a = await createRestaurant(t.db.knex);
    b = await createRestaurant(t.db.knex);
    x = await signInCustomer(t.cognito, uniqueEmail('xavier'));
    y = await signInCustomer(t.cognito, uniqueEmail('yolanda'));
    kitchenA = await signInStaff(t.cognito, t.db.knex, a.id, 'kitchen');
    managerA = await signInStaff(t.cognito, t.db.knex, a.id, 'manager');
    managerB = await signInStaff(t.cognito, t.db.knex, b.id, 'manager');
  });
  afterAll(async () => {
    await t.close();
  });

  const as = (user: SignedInUser, restaurant: RestaurantRow) => ({
    me: () => request(t.app).get('/v1/customers/me').set('X-Restaurant-Domain', restaurant.domain).set('Authorization', user.auth),
    update: (body: unknown) =>
      request(t.app)
        .put('/v1/customers/me')
        .set('X-Restaurant-Domain', restaurant.domain)
        .set('Authorization', user.auth)
        .send(body as object),
    list: (query = '') => request(t.app).get(`/v1/customers${query}`).set('X-Restaurant-Domain', restaurant.domain).set('Authorization', user.auth),
    get: (id: number | string) => request(t.app).get(`/v1/customers/${id}`).set('X-Restaurant-Domain', restaurant.domain).set('Authorization', user.auth),
  });

  it('creates the customer record on first use, with the email from the user pool, and returns the same one after', async () => {
    const first = await as(x, a).me();
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['address', 'created_at', 'email', 'id', 'name', 'phone', 'preferences']);
    expect(first.body).toMatchObject({ id: expect.any(Number), email: x.email, name: null, phone: null, address: null });
    expect(first.body.created_at).toMatch(RFC3339_UTC);
    expect((await as(x, a).me()).body).toEqual(first.body);
  });

  it('creates one record, not several, when first requests arrive at once', async () => {
    const racer = await signInCustomer(t.cognito);
    const answers = await Promise.all(Array.from({ length: 5 }, () => as(racer, a).me()));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);
    expect(await t.db.knex('customers').where({ restaurant_id: a.id, user_sub: racer.sub }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('keeps one record per restaurant: the same user is a different customer elsewhere', async () => {
    const inA = (await as(x, a).me()).body;
    const inB = (await as(x, b).me()).body;
    expect(inB.id).not.toBe(inA.id);
    expect(inB.email).toBe(inA.email);
  });

  it('lets a customer set name, phone (normalised to E.164) and address, and clear them with null', async () => {
    const res = await as(x, a).update({ name: '  Xavier  ', phone: '0044 (20) 7946-0958', address: '1 Main Street, London' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: x.email, name: 'Xavier', phone: '+442079460958', address: '1 Main Street, London' });
    const partial = await as(x, a).update({ address: '2 Side Street' });
    expect(partial.body).toMatchObject({ name: 'Xavier', phone: '+442079460958', address: '2 Side Street' });
    expect((await as(x, a).update({ phone: null })).body.phone).toBeNull();
    expect((await as(x, a).me()).body).toMatchObject({ name: 'Xavier', phone: null, address: '2 Side Street' });
    await as(x, a).update({ phone: '+44 20 7946 0958' }).expect(200);
    // Another restaurant's record of the same user is its own.
    expect((await as(x, b).me()).body).toMatchObject({ name: null, address: null });
  });

  it('creates the record on a first PUT too', async () => {
    const newcomer = await signInCustomer(t.cognito);
    const res = await as(newcomer, a).update({ name: 'New' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: newcomer.email, name: 'New' });
  });

  it.each([
    [{ name: 'n'.repeat(31) }, 'name'],
    [{ name: '   ' }, 'name'],
    [{ address: 'a'.repeat(201) }, 'address'],
    [{ phone: '020 7946 0958' }, 'phone'],
    [{ phone: '+44 20 CALL ME' }, 'phone'],
    [{ phone: 442079460958 }, 'phone'],
  ])('refuses %j with 400 naming %s, changing nothing', async (body, field) => {
    const before = (await as(x, a).me()).body;
    const res = await as(x, a).update(body);
    expectProblem(res, 400, 'validation_failed');
    expect(errorPaths(res)).toEqual([field]);
    expect((await as(x, a).me()).body).toEqual(before);
  });

  it('refuses fields a customer cannot set (email, id)', async () => {
    const res = await as(x, a).update({ email: 'someone-else@example.com' });
    expectProblem(res, 400, 'validation_failed');
    expect(JSON.stringify(res.body.errors)).toContain('email');
  });

  it('needs a token (401) and a known restaurant (404)', async () => {
    expectProblem(await request(t.app).get('/v1/customers/me').set('X-Restaurant-Domain', a.domain), 401, 'unauthenticated');
    expectProblem(
      await request(t.app).get('/v1/customers/me').set('X-Restaurant-Domain', 'nowhere.example.com').set('Authorization', x.auth),
      404,
      'restaurant_not_found',
    );
  });

  describe('for staff', () => {
    const people: Array<{ user: SignedInUser; id: number }> = [];

    beforeAll(async () => {
      for (const [name, phone] of [
        ['Zoë Adams', '+1 415 555 0001'],
        ['Percy 100%_Sure', '+1 415 555 0002'],
        ['Quentin Blake', '+49 30 901820'],
      ] as const) {
        const user = await signInCustomer(t.cognito);
        const res = await as(user, a).update({ name, phone });
        people.push({ user, id: res.body.id });
      }
      // One of B's customers, who must never show through A.
      const bee = await signInCustomer(t.cognito, uniqueEmail('only-in-b'));
      await as(bee, b).update({ name: 'Zoë of B' }).expect(200);
    });

    it('lists the customers, newest first, a page at a time; kitchen staff may too', async () => {
      const all = await as(kitchenA, a).list('?limit=100');
      expect(all.status).toBe(200);
      const ids = all.body.data.map((c: { id: number }) => c.id);
      expect(ids).toEqual([...ids].sort((p: number, q: number) => q - p));
      expect(ids.slice(0, 3)).toEqual(people.map((p) => p.id).reverse());
      for (const customer of all.body.data)
        expect(Object.keys(customer).sort()).toEqual(['address', 'created_at', 'email', 'id', 'name', 'phone', 'preferences']);

      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const page: request.Response = await as(managerA, a).list(`?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
        expect(page.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.data.map((c: { id: number }) => c.id));
        cursor = page.body.next_cursor;
      } while (cursor !== null);
      expect(seen).toEqual(ids);
    });

    it('keeps a cursor valid while customers are added', async () => {
      const first = await as(managerA, a).list('?limit=2');
      await as(await signInCustomer(t.cognito), a)
        .me()
        .expect(200);
      const second = await as(managerA, a).list(`?limit=2&cursor=${first.body.next_cursor}`);
      const all = (await as(managerA, a).list('?limit=100')).body.data.map((c: { id: number }) => c.id);
      expect(second.body.data.map((c: { id: number }) => c.id)).toEqual(all.slice(3, 5));
    });

    it('searches name, email and phone, case-insensitively', async () => {
      const names = async (search: string) =>
        (await as(managerA, a).list(`?search=${encodeURIComponent(search)}`)).body.data.map((c: { name: string | null }) => c.name);
      expect(await names('zoË')).toEqual(['Zoë Adams']);
      expect(await names('BLAKE')).toEqual(['Quentin Blake']);
      expect(await names(people[0]!.user.email.toUpperCase())).toEqual(['Zoë Adams']);
      expect(await names('415 555')).toEqual(['Percy 100%_Sure', 'Zoë Adams']);
      expect(await names('+49 30')).toEqual(['Quentin Blake']);
      // LIKE wildcards are matched literally.
      expect(await names('100%_')).toEqual(['Percy 100%_Sure']);
      expect(await names('%')).toEqual(['Percy 100%_Sure']);
      expect(await names('nobody-at-all')).toEqual([]);
    });

    it('reads one customer', async () => {
      const res = await as(kitchenA, a).get(people[0]!.id);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: people[0]!.id, name: 'Zoë Adams', phone: '+14155550001', email: people[0]!.user.email });
      expectProblem(await as(managerA, a).get(999_999_999), 404, 'not_found');
      expectProblem(await as(managerA, a).get('abc'), 400, 'validation_failed');
      // Path ids are plain positive integers, as on every other route: no exponent or hex spellings.
      for (const spelling of ['1e3', '0x10', '0', '9007199254740993']) {
        expectProblem(await as(managerA, a).get(spelling), 400, 'validation_failed');
      }
    });

    it("shows a manager of A none of B's customers: not in the list, not by id", async () => {
      const bees = (await as(managerB, b).list('?limit=100')).body.data as Array<{ id: number; name: string }>;
      expect(bees.length).toBeGreaterThan(0);
      const listedInA = (await as(managerA, a).list('?limit=100')).body.data.map((c: { id: number }) => c.id);
      for (const bee of bees) {
        expect(listedInA).not.toContain(bee.id);
        expectProblem(await as(managerA, a).get(bee.id), 404, 'not_found');
      }
      expect((await as(managerA, a).list('?search=of%20B')).body.data).toEqual([]);
      // Through B's domain A's manager is nobody.
      expectProblem(await as(managerA, b).list(), 403, 'forbidden');
      expectProblem(await as(managerA, b).get(bees[0]!.id), 404, 'not_found');
    });

    it('refuses the list to customers (403)', async () => {
      expectProblem(await as(x, a).list(), 403, 'forbidden');
    });

    it('answers a bad cursor or limit with 400', async () => {
      expectProblem(await as(managerA, a).list('?cursor=nope'), 400, 'validation_failed');
      expect(errorPaths(await as(managerA, a).list('?limit=0'))).toEqual(['query.limit']);
      expect(errorPaths(await as(managerA, a).list('?limit=101'))).toEqual(['query.limit']);
    });
  });

  it('lets customer X read their own record by id, and answers 404 for customer Y’s', async () => {
    const mine = (await as(x, a).me()).body;
    const theirs = (await as(y, a).me()).body;
    expect((await as(x, a).get(mine.id)).body).toEqual(mine);
    const res = await as(x, a).get(theirs.id);
    expectProblem(res, 404, 'not_found');
    expect(res.text).not.toContain(y.email);
  });

  it('documents the customer routes', async () => {
    const doc = (await request(t.app).get('/openapi.json')).body;
    expect(doc.paths['/v1/customers/me'].get).toBeDefined();
    expect(doc.paths['/v1/customers/me'].put).toBeDefined();
    expect(doc.paths['/v1/customers'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['search', 'limit', 'cursor']));
    expect(doc.paths['/v1/customers/{id}'].get).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Customer', 'CustomerPage', 'CustomerUpdate']));
  });
});
