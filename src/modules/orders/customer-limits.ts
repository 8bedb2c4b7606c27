import type { Knex } from 'knex';
import { AppError, notFound } from '../../lib/errors.js';
import { moveOrder } from './lifecycle.js';

/** What one customer may do (API.md "Limits on one customer"). */
export interface CustomerOrderLimits {
  /** MAX_OPEN_UNPAID_ORDERS. */
  maxOpenUnpaidOrders: number;
  /** Checkouts (POST /v1/orders) one customer may attempt per minute in a restaurant. */
  checkoutsPerMinute: number;
}

/** The statuses of an order that is placed and not over: it still holds stock, a slot, maybe a coupon. */
const OPEN_STATUSES = ['pending', 'confirmed'] as const;

/**
 * A card order that is placed and unpaid holds stock until it is paid or times out; one customer may hold
 * at most `max` of them in a restaurant (`429 too_many_open_orders`). Cash orders are not counted: they go
 * to the kitchen at once and staff see them (and can reject them, or all of a customer's at once).
 * `open` is how many the customer held besides this one, counted by `insertOrder` (`openUnpaidBefore`)
 * after checkout locked the customer's row (`customerLockPart`), so that customer's racing checkouts count
 * one after the other; other customers never wait on it. Pure.
 */
export function requireOpenUnpaidRoom(open: number, max: number): void {
  if (open < max) return;
  throw new AppError('too_many_open_orders', 429, `You have ${open} unpaid card orders here, the most one customer may hold: pay or cancel one first`);
}

/**
 * Staff (a manager) reject every open order of one customer, each through the normal move, so each gives
 * back its stock, slot and coupon once and a paid one is refunded by the usual hook. Orders are moved in
 * id order, so two bulk rejections at once lock them in the same order. Answers the ids rejected.
 */
export async function rejectOpenOrdersOf(
  trx: Knex.Transaction,
  restaurantId: number,
  customerId: number,
  staff: { sub: string; reason: string | undefined },
): Promise<number[]> {
  const customer = await trx('customers').select('id').where({ restaurant_id: restaurantId, id: customerId }).first();
  if (customer === undefined) throw notFound('The customer');
  const open: Array<{ id: string | number }> = await trx('orders')
    .select('id')
    .where({ restaurant_id: restaurantId, customer_id: customerId })
    .whereIn('status', [...OPEN_STATUSES])
    .orderBy('id');
  const rejected: number[] = [];
  for (const { id } of open) {
    const moved = await moveOrder(trx, { restaurantId, orderId: Number(id), to: 'rejected', actor: 'staff', actorSub: staff.sub, reason: staff.reason });
    // An order that moved on meanwhile (a kitchen confirmed → preparing) is no longer open: it stays.
    if (moved !== undefined) rejected.push(moved.id);
  }
  return rejected;
}
