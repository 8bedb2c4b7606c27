import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';
import { createCustomer, createPlacedOrder, createRestaurant } from './support/factories.js';
import { AppError, problemOf } from '../src/http/errors.js';
import { withTransaction } from '../src/db/transaction.js';
import { createCoupon, redeemCoupon, releaseCouponRedemption } from '../src/modules/coupons/service.js';

// These need many real connections and real row locks: PGlite has one connection and runs
// transactions one at a time, so there they would prove nothing.
describe.skipIf(!onRealPostgres)('coupon limits under concurrency (real PostgreSQL)', () => {
  let db: TestDatabase;
  let knex: Knex;
  let restaurantId: number;
  const now = new Date('2026-12-10T12:00:00Z');

  beforeAll(async () => {
    db = await createTestDatabase({ poolMax: 30 });
    knex = db.knex;
    restaurantId = (await createRestaurant(knex)).id;
  });
  afterAll(async () => {
    await db.destroy();
  });

  const newCoupon = (code: string, limits: { max_redemptions?: number; max_per_customer?: number }) =>
    createCoupon(knex, restaurantId, {
      code,
      kind: 'amount',
      amount_cents: 300,
      min_subtotal_cents: 0,
      starts_at: null,
      ends_at: null,
      max_redemptions: limits.max_redemptions ?? null,
      max_per_customer: limits.max_per_customer ?? null,
      fulfillment: ['pickup', 'delivery'],
    });

  /** A checkout's share of the work: the order is written and the coupon redeemed in one transaction, all or nothing. */
  const checkoutWithCoupon = (couponId: number, customerId: number) =>
    withTransaction(knex, async (trx) => {
      const order = await createPlacedOrder(trx, { restaurantId, customerId, enqueueConfirmation: false });
      await redeemCoupon(trx, restaurantId, { couponId, customerId, orderId: order.id, discountCents: 300, now });
      return order.id;
    });
  const reasonsOf = (results: PromiseSettledResult<unknown>[]) =>
    results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason instanceof AppError ? problemOf(result.reason).reason : String(result.reason)] : [],
    );
  const counted = async (couponId: number) => Number((await knex('coupons').where({ id: couponId }).first()).redemptions_count);

  it('when 50 customers race for a coupon with max_redemptions 5, exactly 5 orders use it', async () => {
    const coupon = await newCoupon('RACE-50', { max_redemptions: 5 });
    const customers = await Promise.all(Array.from({ length: 50 }, () => createCustomer(knex, restaurantId)));
    const results = await Promise.allSettled(customers.map((customer) => checkoutWithCoupon(coupon.id, customer.id)));

    const placed = results.filter((result) => result.status === 'fulfilled');
    expect(placed).toHaveLength(5);
    expect(reasonsOf(results)).toEqual(Array.from({ length: 45 }, () => 'limit_reached'));
    const redemptions = await knex('coupon_redemptions').where({ coupon_id: coupon.id });
    expect(redemptions).toHaveLength(5);
    expect(new Set(redemptions.map((row) => Number(row.order_id)))).toEqual(new Set(placed.map((result) => result.value)));
    // The refused checkouts rolled back whole: no order of theirs is left.
    expect(
      await knex('orders').whereIn(
        'customer_id',
        customers.map((customer) => customer.id),
      ),
    ).toHaveLength(5);
    expect(await counted(coupon.id)).toBe(5);
  }, 120_000);

  it('when one customer races themselves 20 times for a coupon with max_per_customer 1, exactly one order uses it', async () => {
    const coupon = await newCoupon('ONCE-EACH', { max_per_customer: 1 });
    const customer = await createCustomer(knex, restaurantId);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => checkoutWithCoupon(coupon.id, customer.id)));

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(reasonsOf(results)).toEqual(Array.from({ length: 19 }, () => 'customer_limit_reached'));
    expect(await knex('coupon_redemptions').where({ coupon_id: coupon.id })).toHaveLength(1);
    const perCustomer = await knex('coupon_customer_redemptions').where({ coupon_id: coupon.id, customer_id: customer.id }).first();
    expect(Number(perCustomer.redemptions_count)).toBe(1);
    expect(await counted(coupon.id)).toBe(1);
  }, 120_000);

  it('when both limits are raced at once, neither is passed', async () => {
    const coupon = await newCoupon('BOTH', { max_redemptions: 6, max_per_customer: 2 });
    const customers = await Promise.all(Array.from({ length: 5 }, () => createCustomer(knex, restaurantId)));
    const attempts = customers.flatMap((customer) => Array.from({ length: 6 }, () => customer.id));
    const results = await Promise.allSettled(attempts.map((customerId) => checkoutWithCoupon(coupon.id, customerId)));

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(6);
    const perCustomer = await knex('coupon_redemptions').where({ coupon_id: coupon.id }).select('customer_id').count({ n: '*' }).groupBy('customer_id');
    for (const row of perCustomer) expect(Number(row.n)).toBeLessThanOrEqual(2);
    expect(await counted(coupon.id)).toBe(6);
  }, 120_000);

  it('releasing one order ten times at once gives its redemption back once', async () => {
    const coupon = await newCoupon('GIVE-BACK', { max_redemptions: 3, max_per_customer: 3 });
    const customer = await createCustomer(knex, restaurantId);
    const kept = await checkoutWithCoupon(coupon.id, customer.id);
    const cancelled = await checkoutWithCoupon(coupon.id, customer.id);
    expect(await counted(coupon.id)).toBe(2);

    const releases = await Promise.all(Array.from({ length: 10 }, () => withTransaction(knex, (trx) => releaseCouponRedemption(trx, restaurantId, cancelled))));
    expect(releases.filter(Boolean)).toHaveLength(1);
    expect(await counted(coupon.id)).toBe(1);
    const perCustomer = await knex('coupon_customer_redemptions').where({ coupon_id: coupon.id, customer_id: customer.id }).first();
    expect(Number(perCustomer.redemptions_count)).toBe(1);
    const rows = await knex('coupon_redemptions').where({ coupon_id: coupon.id }).orderBy('id');
    expect(rows.map((row) => [Number(row.order_id), row.released_at === null])).toEqual([
      [kept, true],
      [cancelled, false],
    ]);
  }, 60_000);
});
