import type { Queryable } from '../../db/database.js';
import type { CouponRecord, CouponRedemptionRecord } from '../../db/tables.js';
import type { CouponFields } from './schemas.js';

export interface CouponRow extends CouponFields {
  id: number;
  redemptions_count: number;
  archived: boolean;
  created_at: string;
  updated_at: string;
}

export interface RedemptionRow {
  id: number;
  coupon_id: number;
  order_id: number;
  customer_id: number;
  discount_cents: number;
  created_at: string;
  released_at: string | null;
}

const couponColumns = [
  'id',
  'code',
  'kind',
  'percent',
  'amount_cents',
  'min_subtotal_cents',
  'starts_at',
  'ends_at',
  'max_redemptions',
  'max_per_customer',
  'fulfillment',
  'redemptions_count',
  'archived_at',
  'created_at',
  'updated_at',
] satisfies Array<keyof CouponRecord>;
const redemptionColumns = ['id', 'coupon_id', 'order_id', 'customer_id', 'discount_cents', 'created_at', 'released_at'] satisfies Array<
  keyof CouponRedemptionRecord
>;

function toCoupon(row: Pick<CouponRecord, (typeof couponColumns)[number]>): CouponRow {
  const { archived_at, created_at, updated_at, ...fields } = row;
  return {
    ...fields,
    id: Number(row.id),
    starts_at: row.starts_at?.toISOString() ?? null,
    ends_at: row.ends_at?.toISOString() ?? null,
    archived: archived_at !== null,
    created_at: created_at.toISOString(),
    updated_at: updated_at.toISOString(),
  };
}

function toRedemption(row: Pick<CouponRedemptionRecord, (typeof redemptionColumns)[number]>): RedemptionRow {
  return {
    ...row,
    id: Number(row.id),
    coupon_id: Number(row.coupon_id),
    order_id: Number(row.order_id),
    customer_id: Number(row.customer_id),
    created_at: row.created_at.toISOString(),
    released_at: row.released_at?.toISOString() ?? null,
  };
}

function toStored<Fields extends Partial<CouponFields>>(fields: Fields): Omit<Fields, 'fulfillment'> & { fulfillment?: string } {
  const { fulfillment, ...rest } = fields;
  return fulfillment === undefined ? rest : { ...rest, fulfillment: `{${fulfillment.join(',')}}` };
}

export async function selectCouponPage(db: Queryable, restaurantId: number, options: { beforeId: number | undefined; limit: number }): Promise<CouponRow[]> {
  const query = db('coupons').select(couponColumns).where({ restaurant_id: restaurantId }).whereNull('archived_at').orderBy('id', 'desc').limit(options.limit);
  if (options.beforeId !== undefined) query.where('id', '<', options.beforeId);
  const rows = await query;
  return rows.map(toCoupon);
}

/** An active coupon by id. */
export async function selectCoupon(db: Queryable, restaurantId: number, id: number): Promise<CouponRow | undefined> {
  const row = await db('coupons').select(couponColumns).where({ restaurant_id: restaurantId, id }).whereNull('archived_at').first();
  return row === undefined ? undefined : toCoupon(row);
}

/** A coupon by id, archived or not: to tell why a redemption was refused. */
export async function selectCouponAnyState(db: Queryable, restaurantId: number, id: number): Promise<CouponRow | undefined> {
  const row = await db('coupons').select(couponColumns).where({ restaurant_id: restaurantId, id }).first();
  return row === undefined ? undefined : toCoupon(row);
}

/** The active coupon with this code, whatever the case it is written in. */
export async function selectCouponByCode(db: Queryable, restaurantId: number, code: string): Promise<CouponRow | undefined> {
  const row = await db('coupons')
    .select(couponColumns)
    .where({ restaurant_id: restaurantId })
    .whereRaw('lower(code) = lower(?)', [code])
    .whereNull('archived_at')
    .first();
  return row === undefined ? undefined : toCoupon(row);
}

export async function insertCoupon(db: Queryable, restaurantId: number, fields: CouponFields): Promise<CouponRow> {
  const [row] = await db('coupons')
    .insert({ restaurant_id: restaurantId, ...toStored(fields) })
    .returning(couponColumns);
  if (row === undefined) throw new Error('insert into coupons returned no row');
  return toCoupon(row);
}

/** Locks the active coupon for a change by a manager (a PATCH checks the fields it leaves together). */
export async function lockCoupon(db: Queryable, restaurantId: number, id: number): Promise<CouponRow | undefined> {
  const row = await db('coupons').select(couponColumns).where({ restaurant_id: restaurantId, id }).whereNull('archived_at').forUpdate().first();
  return row === undefined ? undefined : toCoupon(row);
}

export async function updateCoupon(db: Queryable, restaurantId: number, id: number, fields: Partial<CouponFields>): Promise<CouponRow | undefined> {
  const [row] = await db('coupons')
    .update({ ...toStored(fields), updated_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .returning(couponColumns);
  return row === undefined ? undefined : toCoupon(row);
}

/** False when there was no active coupon to archive. */
export async function archiveCoupon(db: Queryable, restaurantId: number, id: number): Promise<boolean> {
  const rows: unknown[] = await db('coupons')
    .update({ archived_at: db.fn.now(), updated_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .returning('id');
  return rows.length > 0;
}

/** The customer's redemptions of the coupon that count now. */
export async function selectCustomerRedemptionCount(db: Queryable, restaurantId: number, couponId: number, customerId: number): Promise<number> {
  const row = await db('coupon_customer_redemptions')
    .select('redemptions_count')
    .where({ restaurant_id: restaurantId, coupon_id: couponId, customer_id: customerId })
    .first();
  return row === undefined ? 0 : Number(row.redemptions_count);
}

/**
 * The guarded statement of the total limit: counts one more redemption only while the coupon is active,
 * inside its window at `now`, and under `max_redemptions`. Concurrent redemptions queue on the row lock
 * and each re-checks the guard on the row as the one before left it (READ COMMITTED re-evaluates the
 * WHERE of an UPDATE on the newest row version), so the count never passes the limit. Returns the
 * coupon's `max_per_customer` (still locked until the transaction ends), or undefined when refused.
 */
export async function countRedemption(
  db: Queryable,
  restaurantId: number,
  couponId: number,
  now: Date,
): Promise<{ max_per_customer: number | null } | undefined> {
  const result = await db.raw<{ rows: Array<Pick<CouponRecord, 'max_per_customer'>> }>(
    `UPDATE coupons SET redemptions_count = redemptions_count + 1
      WHERE restaurant_id = ? AND id = ? AND archived_at IS NULL
        AND (starts_at IS NULL OR starts_at <= CAST(? AS timestamptz)) AND (ends_at IS NULL OR ends_at > CAST(? AS timestamptz))
        AND (max_redemptions IS NULL OR redemptions_count < max_redemptions)
      RETURNING max_per_customer`,
    [restaurantId, couponId, now.toISOString(), now.toISOString()],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : { max_per_customer: row.max_per_customer };
}

/**
 * The guarded statement of the per-customer limit: the customer's counter row is created at 1 or raised
 * by one only while under `maxPerCustomer`. A concurrent first redemption by the same customer waits on
 * the other's uncommitted row and then takes the update branch, so the guard sees it. False when refused.
 */
export async function countCustomerRedemption(
  db: Queryable,
  restaurantId: number,
  couponId: number,
  customerId: number,
  maxPerCustomer: number | null,
): Promise<boolean> {
  const result = await db.raw<{ rows: unknown[] }>(
    `INSERT INTO coupon_customer_redemptions AS counted (restaurant_id, coupon_id, customer_id, redemptions_count)
     VALUES (?, ?, ?, 1)
     ON CONFLICT (restaurant_id, coupon_id, customer_id)
     DO UPDATE SET redemptions_count = counted.redemptions_count + 1
       WHERE CAST(? AS integer) IS NULL OR counted.redemptions_count < CAST(? AS integer)
     RETURNING redemptions_count`,
    [restaurantId, couponId, customerId, maxPerCustomer, maxPerCustomer],
  );
  return result.rows.length > 0;
}

export async function insertRedemption(
  db: Queryable,
  restaurantId: number,
  redemption: { coupon_id: number; order_id: number; customer_id: number; discount_cents: number; created_at: Date },
): Promise<RedemptionRow> {
  const [row] = await db('coupon_redemptions')
    .insert({ restaurant_id: restaurantId, ...redemption })
    .returning(redemptionColumns);
  if (row === undefined) throw new Error('insert into coupon_redemptions returned no row');
  return toRedemption(row);
}

/**
 * Marks the order's redemption given back, only if it still counts: of two releases of one order (a reject
 * racing a timeout), the second waits on the row and then finds it released. Undefined when there was
 * nothing to give back.
 */
export async function markRedemptionReleased(db: Queryable, restaurantId: number, orderId: number): Promise<RedemptionRow | undefined> {
  const [row] = await db('coupon_redemptions')
    .update({ released_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, order_id: orderId })
    .whereNull('released_at')
    .returning(redemptionColumns);
  return row === undefined ? undefined : toRedemption(row);
}

/** Takes one redemption off both counters (the total and the customer's). */
export async function uncountRedemption(db: Queryable, restaurantId: number, couponId: number, customerId: number): Promise<void> {
  await db('coupons')
    .where({ restaurant_id: restaurantId, id: couponId })
    .where('redemptions_count', '>', 0)
    .update({ redemptions_count: db.raw('redemptions_count - 1') });
  await db('coupon_customer_redemptions')
    .where({ restaurant_id: restaurantId, coupon_id: couponId, customer_id: customerId })
    .where('redemptions_count', '>', 0)
    .update({ redemptions_count: db.raw('redemptions_count - 1') });
}

/** A coupon's redemptions, newest first (keyset on id, descending). */
export async function selectRedemptionPage(
  db: Queryable,
  restaurantId: number,
  couponId: number,
  options: { beforeId: number | undefined; limit: number },
): Promise<RedemptionRow[]> {
  const query = db('coupon_redemptions')
    .select(redemptionColumns)
    .where({ restaurant_id: restaurantId, coupon_id: couponId })
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.beforeId !== undefined) query.where('id', '<', options.beforeId);
  const rows = await query;
  return rows.map(toRedemption);
}
