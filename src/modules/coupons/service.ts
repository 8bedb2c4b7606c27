import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { sqlState, withTransaction } from '../../db/transaction.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
import type { DiscountInput, Fulfillment } from '../pricing/price.js';
import { conflict, couponInvalid, notFound, validationFailed } from './errors.js';
import { evaluateCoupon, windowRejection, type CouponRejection } from './evaluate.js';
import * as repo from './repo.js';
import { COUPON_CODE, couponIssues, type Coupon, type CouponFields, type CouponRedemption, type CreateCouponInput, type UpdateCouponInput } from './schemas.js';

export type { Coupon, CouponRedemption } from './schemas.js';
export type { CouponRejection } from './evaluate.js';

function couponView(row: repo.CouponRow): Coupon {
  const { archived: _archived, ...view } = row;
  return view;
}

function redemptionView(row: repo.RedemptionRow): CouponRedemption {
  return { order_id: row.order_id, customer_id: row.customer_id, discount_cents: row.discount_cents, created_at: row.created_at, released_at: row.released_at };
}

async function withCodeConflict<T>(code: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (sqlState(error) === '23505')
      throw conflict(`An active coupon already has the code ${code} (codes are unique whatever the case)`, [{ path: 'code', message: 'is taken' }]);
    throw error;
  }
}

export async function listCoupons(db: Queryable, restaurantId: number, options: { limit: number; cursor?: string | undefined }): Promise<Page<Coupon>> {
  const before = decodeCursor(options.cursor, ['number']);
  const rows = await repo.selectCouponPage(db, restaurantId, { beforeId: before === undefined ? undefined : Number(before[0]), limit: options.limit + 1 });
  return pageFrom(rows, options.limit, (row) => [row.id], couponView);
}

/** An active coupon of this restaurant, else 404 (archived, or another restaurant's id). */
export async function getCoupon(db: Queryable, restaurantId: number, id: number): Promise<Coupon> {
  const row = await repo.selectCoupon(db, restaurantId, id);
  if (row === undefined) throw notFound('The coupon');
  return couponView(row);
}

export async function createCoupon(db: Queryable, restaurantId: number, input: CreateCouponInput): Promise<Coupon> {
  const fields: CouponFields = { ...input, percent: input.percent ?? null, amount_cents: input.amount_cents ?? null };
  return couponView(await withCodeConflict(input.code, () => repo.insertCoupon(db, restaurantId, fields)));
}

/**
 * Changes a coupon; the fields it is left with must hold together as a new coupon's must. Changing the
 * kind drops the value of the old kind. Its redemptions and counters are untouched.
 */
export async function updateCoupon(knex: Knex, restaurantId: number, id: number, changes: UpdateCouponInput): Promise<Coupon> {
  return withTransaction(knex, async (trx) => {
    const current = await repo.lockCoupon(trx, restaurantId, id);
    if (current === undefined) throw notFound('The coupon');
    const set = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<CouponFields>;
    if (changes.kind !== undefined && changes.kind !== current.kind) {
      if (changes.kind === 'percent') set.amount_cents = changes.amount_cents ?? null;
      else set.percent = changes.percent ?? null;
    }
    const issues = couponIssues({ ...current, ...set });
    if (issues.length > 0) throw validationFailed('The request body is not valid', issues);
    const updated = await withCodeConflict(set.code ?? current.code, () => repo.updateCoupon(trx, restaurantId, id, set));
    if (updated === undefined) throw new Error(`coupon ${id} vanished under its lock`);
    return couponView(updated);
  });
}

/** Archives the coupon: its code is then unknown to orders and free for a new coupon; its redemptions stay. */
export async function archiveCoupon(db: Queryable, restaurantId: number, id: number): Promise<void> {
  if (!(await repo.archiveCoupon(db, restaurantId, id))) throw notFound('The coupon');
}

export async function listRedemptions(
  db: Queryable,
  restaurantId: number,
  couponId: number,
  options: { limit: number; cursor?: string | undefined },
): Promise<Page<CouponRedemption>> {
  await getCoupon(db, restaurantId, couponId);
  const before = decodeCursor(options.cursor, ['number']);
  const rows = await repo.selectRedemptionPage(db, restaurantId, couponId, {
    beforeId: before === undefined ? undefined : Number(before[0]),
    limit: options.limit + 1,
  });
  return pageFrom(rows, options.limit, (row) => [row.id], redemptionView);
}

/** The active coupon a customer typed (any case, surrounding spaces ignored), or undefined. */
export async function findCouponByCode(db: Queryable, restaurantId: number, code: string): Promise<Coupon | undefined> {
  const trimmed = code.trim();
  if (!COUPON_CODE.test(trimmed)) return undefined;
  const row = await repo.selectCouponByCode(db, restaurantId, trimmed);
  return row === undefined ? undefined : couponView(row);
}

export interface CouponForOrderInput {
  code: string;
  /** The customer's id in this restaurant (undefined: one without a record yet, who has used nothing). */
  customerId: number | undefined;
  /** The subtotal before any discount. */
  subtotalCents: number;
  fulfillment: Fulfillment;
  now: Date;
}

/** A coupon that applies, and the discount `priceOrder` takes for it. */
export interface AppliedCoupon {
  coupon: Coupon;
  discount: DiscountInput;
}

/**
 * For the quote and checkout: the coupon the customer named and the discount it gives this order, or
 * `422 coupon_invalid` with the reason it does not apply. It changes nothing; checkout then counts the
 * redemption with `redeemCoupon` in the order's transaction, which re-checks the limits under the lock.
 */
export async function couponForOrder(db: Queryable, restaurantId: number, input: CouponForOrderInput): Promise<AppliedCoupon> {
  const coupon = await findCouponByCode(db, restaurantId, input.code);
  const byCustomer =
    coupon === undefined || input.customerId === undefined ? 0 : await repo.selectCustomerRedemptionCount(db, restaurantId, coupon.id, input.customerId);
  const evaluation = evaluateCoupon(coupon, {
    now: input.now,
    subtotal_cents: input.subtotalCents,
    fulfillment: input.fulfillment,
    redemptions_total: coupon?.redemptions_count ?? 0,
    redemptions_by_customer: byCustomer,
  });
  if (!evaluation.ok) throw couponInvalid(evaluation.reason);
  if (coupon === undefined) throw new Error('a coupon evaluated ok without a coupon');
  return { coupon, discount: evaluation.discount };
}

export interface RedeemCouponInput {
  /** The coupon `couponForOrder` answered with. */
  couponId: number;
  customerId: number;
  /** The order being placed, already inserted in this transaction. */
  orderId: number;
  /** The discount the order got (`priceOrder`'s `discount_cents`). */
  discountCents: number;
  now: Date;
}

/**
 * Counts the order's use of the coupon, in the order's transaction: one guarded statement for the total
 * limit, one for the customer's (repo `countRedemption`, `countCustomerRedemption`), then the ledger row.
 * However many customers check out at once, neither limit is ever passed. Refused (archived since, out of
 * its window at `now`, a limit reached): `422 coupon_invalid` with the reason, and nothing written — the
 * statements run in a savepoint. Lock order: the coupon row, then the customer's counter row.
 */
export async function redeemCoupon(trx: Knex.Transaction, restaurantId: number, input: RedeemCouponInput): Promise<CouponRedemption> {
  return trx.transaction(async (savepoint) => {
    const counted = await repo.countRedemption(savepoint, restaurantId, input.couponId, input.now);
    if (counted === undefined) throw couponInvalid(await whyNotCounted(savepoint, restaurantId, input.couponId, input.now));
    if (!(await repo.countCustomerRedemption(savepoint, restaurantId, input.couponId, input.customerId, counted.max_per_customer))) {
      throw couponInvalid('customer_limit_reached');
    }
    const row = await repo.insertRedemption(savepoint, restaurantId, {
      coupon_id: input.couponId,
      order_id: input.orderId,
      customer_id: input.customerId,
      discount_cents: input.discountCents,
      created_at: input.now,
    });
    return redemptionView(row);
  });
}

/** Which guard of `countRedemption` refused, read after it did. */
async function whyNotCounted(db: Queryable, restaurantId: number, couponId: number, now: Date): Promise<CouponRejection> {
  const row = await repo.selectCouponAnyState(db, restaurantId, couponId);
  if (row === undefined || row.archived) return 'unknown';
  return windowRejection(row, now) ?? 'limit_reached';
}

/**
 * Gives the order's coupon redemption back (the order was rejected, cancelled or timed out), in that
 * transaction. Exactly once: a second call, concurrent or later, finds it released and does nothing.
 * True when this call gave it back; false when the order had none or it was already given back.
 * Lock order: the redemption row, then the coupon row, then the customer's counter row.
 */
export async function releaseCouponRedemption(trx: Knex.Transaction, restaurantId: number, orderId: number): Promise<boolean> {
  const released = await repo.markRedemptionReleased(trx, restaurantId, orderId);
  if (released === undefined) return false;
  await repo.uncountRedemption(trx, restaurantId, released.coupon_id, released.customer_id);
  return true;
}
