import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestApp, type TestApp } from './support/app.js';
import { createCustomer, createPlacedOrder, createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { catalogClient, problem, type CatalogClient } from './support/catalog.js';
import { AppError, problemOf } from '../src/http/errors.js';
import { withTransaction } from '../src/db/transaction.js';
import { evaluateCoupon, type CouponContext, type CouponRule } from '../src/modules/coupons/evaluate.js';
import { couponPageSchema, couponSchema, redemptionPageSchema, type Coupon } from '../src/modules/coupons/schemas.js';
import { couponForOrder, redeemCoupon, releaseCouponRedemption } from '../src/modules/coupons/service.js';
import { priceOrder } from '../src/modules/pricing/price.js';

const rule = (overrides: Partial<CouponRule> = {}): CouponRule => ({
  kind: 'percent',
  percent: '10',
  amount_cents: null,
  min_subtotal_cents: 0,
  starts_at: null,
  ends_at: null,
  max_redemptions: null,
  max_per_customer: null,
  fulfillment: ['pickup', 'delivery'],
  ...overrides,
});
const context = (overrides: Partial<CouponContext> = {}): CouponContext => ({
  now: new Date('2026-12-10T12:00:00Z'),
  subtotal_cents: 2000,
  fulfillment: 'delivery',
  redemptions_total: 0,
  redemptions_by_customer: 0,
  ...overrides,
});

describe('evaluateCoupon', () => {
  it('gives the discount priceOrder takes: a percent or an amount', () => {
    expect(evaluateCoupon(rule(), context())).toEqual({ ok: true, discount: { kind: 'percent', percent: '10' } });
    expect(evaluateCoupon(rule({ kind: 'amount', percent: null, amount_cents: 500 }), context())).toEqual({
      ok: true,
      discount: { kind: 'amount', amount_cents: 500 },
    });
  });

  it('refuses with every reason of the contract', () => {
    const refusal = (coupon: CouponRule | undefined, ctx: CouponContext) => {
      const result = evaluateCoupon(coupon, ctx);
      return result.ok ? 'ok' : result.reason;
    };
    expect(refusal(undefined, context())).toBe('unknown');

    const window = rule({ starts_at: '2026-12-10T12:00:00.000Z', ends_at: '2026-12-11T00:00:00.000Z' });
    expect(refusal(window, context({ now: new Date('2026-12-10T11:59:59.999Z') }))).toBe('not_started');
    expect(refusal(window, context({ now: new Date('2026-12-10T12:00:00.000Z') }))).toBe('ok'); // from starts_at, inclusive
    expect(refusal(window, context({ now: new Date('2026-12-10T23:59:59.999Z') }))).toBe('ok');
    expect(refusal(window, context({ now: new Date('2026-12-11T00:00:00.000Z') }))).toBe('expired'); // until ends_at, exclusive

    expect(refusal(rule({ max_redemptions: 5 }), context({ redemptions_total: 4 }))).toBe('ok');
    expect(refusal(rule({ max_redemptions: 5 }), context({ redemptions_total: 5 }))).toBe('limit_reached');
    expect(refusal(rule({ max_per_customer: 1 }), context({ redemptions_total: 9, redemptions_by_customer: 0 }))).toBe('ok');
    expect(refusal(rule({ max_per_customer: 1 }), context({ redemptions_by_customer: 1 }))).toBe('customer_limit_reached');

    expect(refusal(rule({ min_subtotal_cents: 2000 }), context({ subtotal_cents: 2000 }))).toBe('ok'); // inclusive
    expect(refusal(rule({ min_subtotal_cents: 2000 }), context({ subtotal_cents: 1999 }))).toBe('min_not_met');

    expect(refusal(rule({ fulfillment: ['pickup'] }), context({ fulfillment: 'delivery' }))).toBe('not_applicable');
    expect(refusal(rule({ fulfillment: ['pickup'] }), context({ fulfillment: 'pickup' }))).toBe('ok');
  });

  it('tells first what the customer cannot fix: a used-up coupon is not reported as below its minimum', () => {
    const used = rule({ max_redemptions: 1, min_subtotal_cents: 5000, fulfillment: ['pickup'] });
    expect(evaluateCoupon(used, context({ redemptions_total: 1, subtotal_cents: 100 }))).toEqual({ ok: false, reason: 'limit_reached' });
    expect(evaluateCoupon(used, context({ subtotal_cents: 100 }))).toEqual({ ok: false, reason: 'not_applicable' });
    expect(evaluateCoupon(used, context({ subtotal_cents: 100, fulfillment: 'pickup' }))).toEqual({ ok: false, reason: 'min_not_met' });
  });

  it('never discounts more than the subtotal once priced', () => {
    const result = evaluateCoupon(rule({ kind: 'amount', percent: null, amount_cents: 5000 }), context());
    if (!result.ok) throw new Error('expected the coupon to apply');
    const priced = priceOrder({
      lines: [
        { id: 1, quantity: 1, line_total_cents: 1200 },
        { id: 2, quantity: 2, line_total_cents: 800 },
      ],
      rules: { tax_rates: [], service_charges: [], rounding: 'half_even', tips: { enabled: false } },
      fulfillment: 'pickup',
      currency: 'EUR',
      discount: result.discount,
    });
    expect(priced.discount_cents).toBe(2000);
    expect(priced.lines.map((line) => line.total_cents)).toEqual([0, 0]);
    expect(priced.total_cents).toBe(0);
  });
});

describe('coupons', () => {
  let t: TestApp;
  let knex: Knex;
  let restaurant: RestaurantRow;
  let other: RestaurantRow;
  let a: CatalogClient;
  let b: CatalogClient;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let customer: SignedInUser;
  let otherManager: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    knex = t.db.knex;
    restaurant = await createRestaurant(knex, { domain: 'coupons-a.test' });
    other = await createRestaurant(knex, { domain: 'coupons-b.test' });
    a = catalogClient(t.app, restaurant.domain);
    b = catalogClient(t.app, other.domain);
    manager = await signInStaff(t.cognito, knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, knex, restaurant.id, 'kitchen');
    customer = await signInCustomer(t.cognito);
    otherManager = await signInStaff(t.cognito, knex, other.id, 'manager');
  });
  afterAll(async () => {
    await t.close();
  });

  let codes = 0;
  const nextCode = () => `CODE${++codes}`;
  const create = async (body: Record<string, unknown>, client: CatalogClient = a, user: SignedInUser = manager): Promise<Coupon> => {
    const res = await client.post('/v1/coupons', { code: nextCode(), kind: 'percent', percent: '10', ...body }, user);
    expect(res.status, res.text).toBe(201);
    return couponSchema.parse(res.body);
  };
  const paths = (res: Parameters<typeof problem>[0]) => (problem(res, 400, 'validation_failed').errors ?? []).map((error) => error.path);
  const now = new Date('2026-12-10T12:00:00Z');
  const reasonOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!(error instanceof AppError)) throw new Error(`expected a coupon_invalid AppError, got ${String(error)}`);
    const body = problemOf(error);
    expect(body).toMatchObject({ status: 422, code: 'coupon_invalid' });
    return body.reason;
  };
  const apply = (code: string, overrides: { customerId?: number; subtotalCents?: number; fulfillment?: 'pickup' | 'delivery'; now?: Date } = {}) =>
    couponForOrder(knex, restaurant.id, {
      code,
      customerId: overrides.customerId,
      subtotalCents: overrides.subtotalCents ?? 2000,
      fulfillment: overrides.fulfillment ?? 'pickup',
      now: overrides.now ?? now,
    });
  const orderFor = async (customerId: number) => (await createPlacedOrder(knex, { restaurantId: restaurant.id, customerId })).id;
  const redeem = (couponId: number, customerId: number, orderId: number, discountCents = 100) =>
    withTransaction(knex, (trx) => redeemCoupon(trx, restaurant.id, { couponId, customerId, orderId, discountCents, now }));
  const release = (orderId: number) => withTransaction(knex, (trx) => releaseCouponRedemption(trx, restaurant.id, orderId));
  const counters = async (couponId: number, customerId: number) => ({
    total: Number((await knex('coupons').where({ id: couponId }).first()).redemptions_count),
    customer: Number((await knex('coupon_customer_redemptions').where({ coupon_id: couponId, customer_id: customerId }).first())?.redemptions_count ?? 0),
  });

  it('creates percent and amount coupons with their defaults', async () => {
    const percent = await create({ code: 'Welcome10', percent: '12.5' });
    expect(percent).toMatchObject({
      code: 'Welcome10',
      kind: 'percent',
      percent: '12.5',
      amount_cents: null,
      min_subtotal_cents: 0,
      starts_at: null,
      ends_at: null,
      max_redemptions: null,
      max_per_customer: null,
      fulfillment: ['pickup', 'delivery'],
      redemptions_count: 0,
    });
    const amount = await create({
      kind: 'amount',
      percent: undefined,
      amount_cents: 500,
      min_subtotal_cents: 2500,
      starts_at: '2026-12-01T00:00:00+01:00',
      ends_at: '2026-12-31T23:00:00Z',
      max_redemptions: 100,
      max_per_customer: 1,
      fulfillment: ['delivery'],
    });
    expect(amount).toMatchObject({
      kind: 'amount',
      percent: null,
      amount_cents: 500,
      min_subtotal_cents: 2500,
      starts_at: '2026-11-30T23:00:00.000Z',
      ends_at: '2026-12-31T23:00:00.000Z',
      max_redemptions: 100,
      max_per_customer: 1,
      fulfillment: ['delivery'],
    });
    expect(couponSchema.parse((await a.get(`/v1/coupons/${amount.id}`, manager)).body)).toEqual(amount);
    const page = couponPageSchema.parse((await a.get('/v1/coupons?limit=1', manager)).body);
    expect(page.data.map((coupon) => coupon.id)).toEqual([amount.id]); // newest first
    const next = couponPageSchema.parse((await a.get(`/v1/coupons?limit=1&cursor=${page.next_cursor}`, manager)).body);
    expect(next.data.map((coupon) => coupon.id)).toEqual([percent.id]);
  });

  it('refuses a code already taken in any case with 409, and frees it when the coupon is archived', async () => {
    const first = await create({ code: 'SUMMER-24' });
    problem(await a.post('/v1/coupons', { code: 'summer-24', kind: 'amount', amount_cents: 100 }, manager), 409, 'conflict');
    const second = await create({ code: 'AUTUMN_24' });
    problem(await a.patch(`/v1/coupons/${second.id}`, { code: 'Summer-24' }, manager), 409, 'conflict');
    // Another restaurant may use the same code.
    await create({ code: 'SUMMER-24' }, b, otherManager);

    expect((await a.delete(`/v1/coupons/${first.id}`, manager)).status).toBe(204);
    problem(await a.get(`/v1/coupons/${first.id}`, manager), 404, 'not_found');
    problem(await a.delete(`/v1/coupons/${first.id}`, manager), 404, 'not_found');
    problem(await a.patch(`/v1/coupons/${first.id}`, { percent: '5' }, manager), 404, 'not_found');
    expect(await reasonOf(apply('SUMMER-24'))).toBe('unknown'); // an archived coupon is unknown
    const reborn = await create({ code: 'summer-24', kind: 'amount', percent: undefined, amount_cents: 300 });
    expect((await apply('SUMMER-24')).coupon.id).toBe(reborn.id);
  });

  it('refuses bad fields with 400 and their paths', async () => {
    const post = (body: Record<string, unknown>) => a.post('/v1/coupons', { code: 'VALID', kind: 'percent', percent: '10', ...body }, manager);
    expect(paths(await post({ code: 'AB' }))).toEqual(['code']);
    expect(paths(await post({ code: 'A'.repeat(33) }))).toEqual(['code']);
    expect(paths(await post({ code: 'TWO WORDS' }))).toEqual(['code']);
    expect(paths(await post({ kind: 'free_lunch' }))).toEqual(['kind']);
    expect(paths(await post({ percent: '0' }))).toEqual(['percent']);
    expect(paths(await post({ percent: '100.01' }))).toEqual(['percent']);
    expect(paths(await post({ percent: '10.12345' }))).toEqual(['percent']);
    expect(paths(await post({ percent: 10 }))).toEqual(['percent']);
    expect(paths(await post({ percent: undefined }))).toEqual(['percent']);
    expect(paths(await post({ amount_cents: 100 }))).toEqual(['amount_cents']);
    expect(paths(await post({ kind: 'amount', percent: undefined }))).toEqual(['amount_cents']);
    expect(paths(await post({ kind: 'amount', percent: undefined, amount_cents: 0 }))).toEqual(['amount_cents']);
    expect(paths(await post({ kind: 'amount', amount_cents: 100 }))).toEqual(['percent']);
    expect(paths(await post({ starts_at: '2026-12-10T12:00:00Z', ends_at: '2026-12-10T12:00:00Z' }))).toEqual(['ends_at']);
    expect(paths(await post({ starts_at: '2026-12-10T12:00:00Z', ends_at: '2026-12-09T12:00:00Z' }))).toEqual(['ends_at']);
    expect(paths(await post({ starts_at: '10 December 2026' }))).toEqual(['starts_at']);
    expect(paths(await post({ max_redemptions: 0 }))).toEqual(['max_redemptions']);
    expect(paths(await post({ max_per_customer: 1.5 }))).toEqual(['max_per_customer']);
    expect(paths(await post({ min_subtotal_cents: -1 }))).toEqual(['min_subtotal_cents']);
    expect(paths(await post({ fulfillment: [] }))).toEqual(['fulfillment']);
    expect(paths(await post({ fulfillment: ['pickup', 'pickup'] }))).toEqual(['fulfillment']);
    expect(paths(await post({ fulfillment: ['drive_through'] }))).toEqual(['fulfillment.0']);
    expect(paths(await post({ colour: 'gold' }))).toEqual(['']);
    expect(couponPageSchema.parse((await a.get('/v1/coupons?limit=100', manager)).body).data.map((c) => c.code)).not.toContain('VALID');
  });

  it('changes a coupon, keeping its fields consistent', async () => {
    const coupon = await create({ starts_at: '2026-12-01T00:00:00Z', ends_at: '2026-12-31T00:00:00Z', max_redemptions: 10 });
    const patch = async (body: Record<string, unknown>) => {
      const res = await a.patch(`/v1/coupons/${coupon.id}`, body, manager);
      expect(res.status, res.text).toBe(200);
      return couponSchema.parse(res.body);
    };
    expect(await patch({ percent: '15', max_redemptions: null })).toMatchObject({ percent: '15', max_redemptions: null, kind: 'percent' });
    expect(await patch({ kind: 'amount', amount_cents: 250 })).toMatchObject({ kind: 'amount', amount_cents: 250, percent: null });
    expect(paths(await a.patch(`/v1/coupons/${coupon.id}`, { kind: 'percent' }, manager))).toEqual(['percent']);
    expect(paths(await a.patch(`/v1/coupons/${coupon.id}`, { percent: '5' }, manager))).toEqual(['percent']);
    expect(paths(await a.patch(`/v1/coupons/${coupon.id}`, { ends_at: '2026-11-30T00:00:00Z' }, manager))).toEqual(['ends_at']);
    expect(paths(await a.patch(`/v1/coupons/${coupon.id}`, { amount_cents: null }, manager))).toEqual(['amount_cents']);
    expect(await patch({ ends_at: null, fulfillment: ['pickup'], code: 'RENAMED' })).toMatchObject({ ends_at: null, fulfillment: ['pickup'], code: 'RENAMED' });
    expect(await patch({})).toMatchObject({ code: 'RENAMED', kind: 'amount', amount_cents: 250 });
  });

  it('is for managers only: kitchen staff and customers get 403, anonymous callers 401', async () => {
    const coupon = await create({});
    for (const user of [kitchen, customer]) {
      problem(await a.get('/v1/coupons', user), 403, 'forbidden');
      problem(await a.get(`/v1/coupons/${coupon.id}`, user), 403, 'forbidden');
      problem(await a.post('/v1/coupons', { code: 'NOPE1', kind: 'percent', percent: '5' }, user), 403, 'forbidden');
      problem(await a.patch(`/v1/coupons/${coupon.id}`, { percent: '50' }, user), 403, 'forbidden');
      problem(await a.delete(`/v1/coupons/${coupon.id}`, user), 403, 'forbidden');
      problem(await a.get(`/v1/coupons/${coupon.id}/redemptions`, user), 403, 'forbidden');
    }
    problem(await a.get('/v1/coupons'), 401, 'unauthenticated');
    problem(await a.get(`/v1/coupons/${coupon.id}/redemptions`), 401, 'unauthenticated');
  });

  it("never shows or changes another restaurant's coupons", async () => {
    const coupon = await create({ code: 'OURSONLY' });
    problem(await a.get('/v1/coupons', otherManager), 403, 'forbidden');
    expect(couponPageSchema.parse((await b.get('/v1/coupons?limit=100', otherManager)).body).data.map((c) => c.id)).not.toContain(coupon.id);
    problem(await b.get(`/v1/coupons/${coupon.id}`, otherManager), 404, 'not_found');
    problem(await b.patch(`/v1/coupons/${coupon.id}`, { percent: '90' }, otherManager), 404, 'not_found');
    problem(await b.delete(`/v1/coupons/${coupon.id}`, otherManager), 404, 'not_found');
    problem(await b.get(`/v1/coupons/${coupon.id}/redemptions`, otherManager), 404, 'not_found');
    expect(await reasonOf(couponForOrder(knex, other.id, { code: 'OURSONLY', customerId: undefined, subtotalCents: 2000, fulfillment: 'pickup', now }))).toBe(
      'unknown',
    );
    expect(couponSchema.parse((await a.get(`/v1/coupons/${coupon.id}`, manager)).body)).toEqual(coupon);
  });

  it('applies to an order by its code in any case, or says why not (422 coupon_invalid with reason)', async () => {
    const coupon = await create({
      code: 'Dinner-5',
      kind: 'amount',
      percent: undefined,
      amount_cents: 500,
      min_subtotal_cents: 2000,
      starts_at: '2026-12-01T00:00:00Z',
      ends_at: '2027-01-01T00:00:00Z',
      fulfillment: ['delivery'],
    });
    expect(await apply(' dinner-5 ', { fulfillment: 'delivery' })).toEqual({ coupon, discount: { kind: 'amount', amount_cents: 500 } });
    expect(await reasonOf(apply('NO-SUCH-CODE'))).toBe('unknown');
    expect(await reasonOf(apply('not a code at all!'))).toBe('unknown');
    expect(await reasonOf(apply('DINNER-5', { fulfillment: 'delivery', now: new Date('2026-11-30T23:59:59Z') }))).toBe('not_started');
    expect(await reasonOf(apply('DINNER-5', { fulfillment: 'delivery', now: new Date('2027-01-01T00:00:00Z') }))).toBe('expired');
    expect(await reasonOf(apply('DINNER-5', { fulfillment: 'pickup' }))).toBe('not_applicable');
    expect(await reasonOf(apply('DINNER-5', { fulfillment: 'delivery', subtotalCents: 1999 }))).toBe('min_not_met');
    expect((await apply('DINNER-5', { fulfillment: 'delivery', subtotalCents: 2000 })).discount).toEqual({ kind: 'amount', amount_cents: 500 });

    const error = await apply('DINNER-5', { fulfillment: 'pickup' }).catch((thrown: unknown) => thrown);
    expect(problemOf(error as AppError)).toMatchObject({ reason: 'not_applicable', errors: [{ path: 'coupon_code', message: 'not_applicable' }] });
  });

  it('counts redemptions against both limits, refuses past them, and gives them back exactly once', async () => {
    const coupon = await create({ max_redemptions: 2, max_per_customer: 1 });
    const alice = (await createCustomer(knex, restaurant.id)).id;
    const bob = (await createCustomer(knex, restaurant.id)).id;
    const carol = (await createCustomer(knex, restaurant.id)).id;
    const aliceOrder = await orderFor(alice);

    const redemption = await redeem(coupon.id, alice, aliceOrder, 250);
    expect(redemption).toMatchObject({ order_id: aliceOrder, customer_id: alice, discount_cents: 250, created_at: now.toISOString(), released_at: null });
    expect(await reasonOf(apply(coupon.code, { customerId: alice }))).toBe('customer_limit_reached');
    // Refused in a transaction that then commits: the refusal itself left nothing behind (the total still counts one).
    const secondOrder = await orderFor(alice);
    const refused = await withTransaction(knex, (trx) =>
      redeemCoupon(trx, restaurant.id, { couponId: coupon.id, customerId: alice, orderId: secondOrder, discountCents: 100, now }).catch(
        (error: unknown) => error,
      ),
    );
    expect(await reasonOf(Promise.reject(refused))).toBe('customer_limit_reached');
    expect(await counters(coupon.id, alice)).toEqual({ total: 1, customer: 1 });
    expect(await knex('coupon_redemptions').where({ order_id: secondOrder })).toEqual([]);

    const bobOrder = await orderFor(bob);
    await redeem(coupon.id, bob, bobOrder);
    expect(await reasonOf(apply(coupon.code, { customerId: carol }))).toBe('limit_reached');
    expect(await reasonOf(redeem(coupon.id, carol, await orderFor(carol)))).toBe('limit_reached');
    expect(await counters(coupon.id, carol)).toEqual({ total: 2, customer: 0 });

    expect(await release(aliceOrder)).toBe(true);
    expect(await release(aliceOrder)).toBe(false);
    expect(await counters(coupon.id, alice)).toEqual({ total: 1, customer: 0 });
    expect(await release(await orderFor(carol))).toBe(false); // an order without a coupon

    // Given back, it can be used again: by Alice herself, once.
    await redeem(coupon.id, alice, await orderFor(alice));
    expect(await counters(coupon.id, alice)).toEqual({ total: 2, customer: 1 });

    const listed = redemptionPageSchema.parse((await a.get(`/v1/coupons/${coupon.id}/redemptions`, manager)).body);
    expect(listed.data).toHaveLength(3);
    expect(listed.data[2]).toMatchObject({ order_id: aliceOrder, customer_id: alice, discount_cents: 250 });
    expect(listed.data[2]?.released_at).not.toBeNull();
    expect(listed.data[1]).toMatchObject({ order_id: bobOrder, customer_id: bob, released_at: null });
    const firstPage = redemptionPageSchema.parse((await a.get(`/v1/coupons/${coupon.id}/redemptions?limit=2`, manager)).body);
    const secondPage = redemptionPageSchema.parse((await a.get(`/v1/coupons/${coupon.id}/redemptions?limit=2&cursor=${firstPage.next_cursor}`, manager)).body);
    expect([...firstPage.data, ...secondPage.data]).toEqual(listed.data);
    expect(secondPage.next_cursor).toBeNull();
    expect(couponSchema.parse((await a.get(`/v1/coupons/${coupon.id}`, manager)).body).redemptions_count).toBe(2);
  });

  it('refuses to redeem a coupon archived, not started or expired by the time the order is placed', async () => {
    const customerId = (await createCustomer(knex, restaurant.id)).id;
    const later = await create({ starts_at: '2026-12-11T00:00:00Z' });
    expect(await reasonOf(redeem(later.id, customerId, await orderFor(customerId)))).toBe('not_started');
    const over = await create({ ends_at: '2026-12-10T12:00:00Z' });
    expect(await reasonOf(redeem(over.id, customerId, await orderFor(customerId)))).toBe('expired');
    const gone = await create({});
    expect((await a.delete(`/v1/coupons/${gone.id}`, manager)).status).toBe(204);
    expect(await reasonOf(redeem(gone.id, customerId, await orderFor(customerId)))).toBe('unknown');
    expect(await knex('coupon_redemptions').whereIn('coupon_id', [later.id, over.id, gone.id])).toEqual([]);
  });

  it('lets a manager lower the limit below what is counted: no more redemptions then', async () => {
    const coupon = await create({});
    const customerId = (await createCustomer(knex, restaurant.id)).id;
    await redeem(coupon.id, customerId, await orderFor(customerId));
    await redeem(coupon.id, customerId, await orderFor(customerId));
    const res = await a.patch(`/v1/coupons/${coupon.id}`, { max_redemptions: 1 }, manager);
    expect(couponSchema.parse(res.body)).toMatchObject({ max_redemptions: 1, redemptions_count: 2 });
    expect(await reasonOf(redeem(coupon.id, customerId, await orderFor(customerId)))).toBe('limit_reached');
  });
});
