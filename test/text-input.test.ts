import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient, insertIngredientRow, insertRecipeRows, problem, type CatalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signIn, signInCustomer, signInStaff, uniqueEmail, type SignedInUser } from './support/users.js';
import { callCognito } from '../src/local/cognito.js';
import { toAppError } from '../src/http/errors.js';
import { findTextIssues } from '../src/lib/text.js';
import { customerSchema } from '../src/modules/customers/schemas.js';
import { ingredientSchema } from '../src/modules/catalog/ingredients-schemas.js';
import { orderSchema } from '../src/modules/orders/schemas.js';

const NUL = '\u0000';
const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');

describe('text with NUL, control characters or broken Unicode', () => {
  let t: TestApp;
  let api: CatalogClient;
  let manager: SignedInUser;
  let customer: SignedInUser;
  let recipeId: number;
  let ingredientId: number;

  beforeAll(async () => {
    t = await createTestApp();
    const restaurant = await createRestaurant(t.db.knex, { domain: 'text.example.com' });
    api = catalogClient(t.app, 'text.example.com');
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    customer = await signInCustomer(t.cognito);
    ingredientId = await insertIngredientRow(t.db.knex, restaurant.id, { name: 'Dough', stock: 100 });
    [recipeId] = (await insertRecipeRows(t.db.knex, restaurant.id, [{ name: 'Focaccia', lines: [{ ingredient_id: ingredientId, quantity: 1 }] }])) as [number];
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers GET /v1/recipes?search=%00 without a token with 400, naming the parameter', async () => {
    const res = await api.get('/v1/recipes?search=%00');
    expect(problem(res, 400, 'validation_failed').errors).toEqual([{ path: 'query.search', message: expect.stringContaining('control characters') }]);
  });

  it.each([
    ['a NUL in an ingredient name', '/v1/ingredients', { name: `Salt${NUL}`, unit: 'g', price_cents: 1 }, 'name'],
    ['a line break in an ingredient name', '/v1/ingredients', { name: 'Salt\nPepper', unit: 'g', price_cents: 1 }, 'name'],
    ['a tab in an ingredient unit', '/v1/ingredients', { name: 'Salt', unit: '100\tg', price_cents: 1 }, 'unit'],
    ['an unpaired surrogate in a recipe name', '/v1/recipes', { name: 'Pizza \ud800', ingredients: [] }, 'name'],
    ['a NUL in a recipe category', '/v1/recipes', { name: 'Pizza', category: `Mains${NUL}`, ingredients: [] }, 'category'],
    ['an escape character in a description', '/v1/ingredients', { name: 'Salt', description: 'fine\u001b[31m red', unit: 'g', price_cents: 1 }, 'description'],
  ])('refuses %s with 400', async (_what, url, body, path) => {
    const res = await api.post(url, body, manager);
    expect(problem(res, 400, 'validation_failed').errors).toEqual([{ path, message: expect.any(String) }]);
  });

  it('keeps line breaks and tabs in free text such as a description', async () => {
    const res = await api.post('/v1/ingredients', { name: 'Sea salt', description: 'Flaky.\r\n\tFrom Maldon.', unit: 'g', price_cents: 1 }, manager);
    expect(res.status, res.text).toBe(201);
    expect(ingredientSchema.parse(res.body).description).toBe('Flaky.\r\n\tFrom Maldon.');
  });

  it('refuses a NUL in a customer name or address, and a line break in an address', async () => {
    for (const body of [{ name: `Ada${NUL}` }, { address: `1 Road${NUL}` }, { address: '1 Road\nLondon' }]) {
      const res = await request(t.app).put('/v1/customers/me').set('X-Restaurant-Domain', 'text.example.com').set('Authorization', customer.auth).send(body);
      problem(res, 400, 'validation_failed');
    }
  });

  it('refuses a NUL in order notes, an address or a cancel reason, and takes a multi-line note', async () => {
    await api.post('/v1/cart/items', { recipe_id: recipeId, quantity: 1 }, customer).expect(201);
    const place = (body: object) => api.post('/v1/orders', body, customer).set('Idempotency-Key', randomUUID());
    problem(await place({ fulfillment: 'pickup', payment_method: 'cash', notes: `ring${NUL}twice` }), 400, 'validation_failed');
    problem(await place({ fulfillment: 'delivery', payment_method: 'cash', delivery_address: `2 Street${NUL}` }), 400, 'validation_failed');
    const placed = await place({ fulfillment: 'pickup', payment_method: 'cash', notes: 'Ring twice.\nThird floor.' });
    expect(placed.status, placed.text).toBe(201);
    const order = orderSchema.parse(placed.body);
    expect(order.notes).toBe('Ring twice.\nThird floor.');
    problem(await api.post(`/v1/orders/${order.id}/cancel`, { reason: `changed${NUL}mind` }, customer), 400, 'validation_failed');
    problem(
      await api.post(`/v1/ingredients/${ingredientId}/adjustments`, { delta: 1, reason: 'restock', note: `pallet${NUL}` }, manager),
      400,
      'validation_failed',
    );
  });

  it('refuses a NUL in a path parameter and in a field name', async () => {
    const res = await api.delete('/v1/staff/someone%00else', manager);
    expect(problem(res, 400, 'validation_failed').errors?.[0]?.path).toBe('params.user_sub');
    problem(await api.patch(`/v1/ingredients/${ingredientId}`, { [`name${NUL}`]: 'x' }, manager), 400, 'validation_failed');
  });

  it('refuses a cursor whose decoded key holds a NUL or an unpaired surrogate', async () => {
    for (const key of [
      [`a${NUL}`, 'b'],
      ['\udc00', 'b'],
    ]) {
      const res = await api.get(`/v1/staff?cursor=${cursorOf(key)}`, manager);
      expect(problem(res, 400, 'validation_failed').errors).toEqual([{ path: 'cursor', message: expect.any(String) }]);
    }
  });

  it('refuses a JSON body that is not valid UTF-8', async () => {
    for (const bytes of [[0xc3, 0x28], [0xed, 0xa0, 0x80], [0xff]]) {
      const body = Buffer.concat([Buffer.from('{"name":"Salt'), Buffer.from(bytes), Buffer.from('","unit":"g","price_cents":1}')]);
      const res = await request(t.app)
        .post('/v1/ingredients')
        .set('X-Restaurant-Domain', 'text.example.com')
        .set('Authorization', manager.auth)
        .set('Content-Type', 'application/json')
        .serialize((raw: Buffer) => raw as unknown as string) // as the bytes are, not re-encoded as JSON
        .send(body);
      expect(problem(res, 400, 'validation_failed').detail).toMatch(/UTF-8/);
    }
  });

  it('answers 400 when Postgres itself refuses a NUL (the backstop)', async () => {
    const error = await t.db.knex.raw('SELECT ?::text AS value', [`a${NUL}b`]).catch((e: unknown) => e);
    expect(toAppError(error)).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(toAppError(Object.assign(new Error('untranslatable'), { code: '22P05' }))).toMatchObject({ status: 400, code: 'validation_failed' });
  });
});

describe('signing up with a NUL in the name', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await createRestaurant(t.db.knex, { domain: 'pool.example.com' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is refused with 400, and no user is created', async () => {
    const email = uniqueEmail('nul');
    const res = await request(t.app)
      .post('/v1/auth/signup')
      .send({ email, password: 'Test-password-1!', name: `Mallory${NUL}` });
    expect(problem(res, 400, 'validation_failed').errors?.[0]?.path).toBe('name');
    const lookup = await callCognito(t.cognito.endpoint, 'AdminGetUser', { UserPoolId: t.cognito.userPoolId, Username: email }).catch((e: unknown) => e);
    expect((lookup as { code?: string }).code).toBe('UserNotFoundException');
  });

  it('cleans what the pool already holds before it becomes a customer record', async () => {
    const user = await signIn(t.cognito, uniqueEmail('pooled'));
    await callCognito(t.cognito.endpoint, 'AdminUpdateUserAttributes', {
      UserPoolId: t.cognito.userPoolId,
      Username: user.email,
      UserAttributes: [{ Name: 'name', Value: `Eve${NUL}\u0007 Smith\n` }],
    });
    const res = await catalogClient(t.app, 'pool.example.com').get('/v1/customers/me', user);
    expect(res.status, res.text).toBe(200);
    expect(customerSchema.parse(res.body).name).toBe('Eve Smith');
    // And every customer route keeps working for that user.
    expect((await catalogClient(t.app, 'pool.example.com').get('/v1/cart', user)).status).toBe(200);
  });
});

describe('findTextIssues, the scan of every string a request carries', () => {
  it('names the path of a bad string however deep it sits, and of a bad field name', () => {
    expect(findTextIssues({ lines: [{ note: 'ok' }, { note: `bad${NUL}` }] }, { multilineFields: true })).toEqual([
      { path: 'lines.1.note', message: expect.stringContaining('control characters') },
    ]);
    expect(findTextIssues({ lines: [{ [`n${NUL}`]: 1 }] }, { multilineFields: true })).toEqual([
      { path: 'lines.0', message: expect.stringContaining('has a field name that') },
    ]);
    // 40 000 levels, the most a 100 kB body holds: the path is built once, for the issue, not at every level.
    let deep: unknown = `bad${NUL}`;
    for (let level = 0; level < 40_000; level += 1) deep = [deep];
    expect(findTextIssues({ deep }, { multilineFields: false })).toEqual([
      { path: ['deep', ...Array(40_000).fill('0')].join('.'), message: expect.any(String) },
    ]);
    expect(findTextIssues({ fine: ['a', { b: 'c' }] }, { multilineFields: false })).toEqual([]);
  });
});
