import type { Knex } from 'knex';
import { AppError, notFound } from '../../lib/errors.js';
import { releasesStock, statusesAllowingMove, type OrderActor, type OrderStatus } from './state-machine.js';
import { releaseForOrder } from '../catalog/index.js';
import { releaseCouponRedemption } from '../coupons/service.js';
import { announceOrderReleased } from './hooks.js';
import { releaseOrderSlot } from './slot-step.js';

export interface OrderMove {
  restaurantId: number;
  orderId: number;
  to: OrderStatus;
  actor: OrderActor;
  actorSub?: string | undefined;
  reason?: string | undefined;
  /** Only move the order if it belongs to this customer (a customer acting on their own order). */
  customerId?: number | undefined;
  /** Further conditions checked under the row lock (the payment-timeout sweep re-checks its reasons). */
  onlyIf?: { paymentStatus?: 'unpaid'; placedBefore?: Date; noPendingPayment?: boolean };
}

export interface MovedOrder {
  id: number;
  restaurantId: number;
  from: OrderStatus;
  status: OrderStatus;
  placedAt: Date;
}

/**
 * Moves an order with one conditional UPDATE: it succeeds only if the order is, at that instant, in a
 * status the state machine allows for this actor. Of two concurrent moves at most one succeeds, and
 * the stock release that goes with a cancel or reject therefore happens exactly once.
 * Returns undefined when the move is not possible now; `moveOrderOrThrow` turns that into 404 / 409.
 */
export async function moveOrder(trx: Knex.Transaction, move: OrderMove): Promise<MovedOrder | undefined> {
  const from = statusesAllowingMove(move.to, move.actor);
  if (from.length === 0) return undefined;
  // Lock the row only if it is in a status the move allows; a concurrent mover blocks here, then sees
  // the status it left behind and finds nothing to move.
  const locked = await trx('orders')
    .select('id', 'status', 'placed_at')
    .where({ restaurant_id: move.restaurantId, id: move.orderId, ...(move.customerId === undefined ? {} : { customer_id: move.customerId }) })
    .whereIn('status', from)
    .modify((query) => {
      if (move.onlyIf?.paymentStatus !== undefined) query.where('payment_status', move.onlyIf.paymentStatus);
      if (move.onlyIf?.placedBefore !== undefined) query.where('placed_at', '<', move.onlyIf.placedBefore);
      // A payment still being settled (3-D Secure, or awaiting reconciliation) must be resolved first.
      if (move.onlyIf?.noPendingPayment === true) {
        query.whereNotExists((sub) =>
          sub
            .select(trx.raw('1'))
            .from('payments')
            .where('payments.restaurant_id', move.restaurantId)
            .whereRaw('payments.order_id = orders.id')
            .where('payments.status', 'pending'),
        );
      }
    })
    .forUpdate()
    .first();
  if (locked === undefined) return undefined;
  await trx('orders').where({ restaurant_id: move.restaurantId, id: move.orderId }).update({ status: move.to, updated_at: trx.fn.now() });

  await trx('order_events').insert({
    restaurant_id: move.restaurantId,
    order_id: move.orderId,
    status: move.to,
    actor: move.actor,
    actor_sub: move.actorSub ?? null,
    reason: move.reason ?? null,
  });
  if (releasesStock(move.to)) {
    await releaseOrderHolds(trx, move.restaurantId, move.orderId);
    // Listeners decide in this same transaction (payments: a paid order gives the money back).
    await announceOrderReleased(trx, { restaurantId: move.restaurantId, orderId: move.orderId, status: move.to, reason: move.reason });
  }
  return { id: move.orderId, restaurantId: move.restaurantId, from: locked.status as OrderStatus, status: move.to, placedAt: new Date(locked.placed_at) };
}

export async function moveOrderOrThrow(trx: Knex.Transaction, move: OrderMove): Promise<MovedOrder> {
  const moved = await moveOrder(trx, move);
  if (moved !== undefined) return moved;
  const current = await trx('orders')
    .select('status')
    .where({ restaurant_id: move.restaurantId, id: move.orderId, ...(move.customerId === undefined ? {} : { customer_id: move.customerId }) })
    .first();
  if (current === undefined) throw notFound('The order');
  throw new AppError(
    'invalid_transition',
    409,
    `An order that is ${String(current.status)} cannot be moved to ${move.to} by ${move.actor === 'system' ? 'the system' : `a ${move.actor}`}`,
  );
}

/**
 * Gives back everything an order holds, once it will not be served (reject, cancel, payment timeout),
 * one line per kind of hold. Each release is idempotent: a second call gives back nothing.
 */
export async function releaseOrderHolds(trx: Knex.Transaction, restaurantId: number, orderId: number): Promise<void> {
  await releaseForOrder(trx, restaurantId, orderId);
  await releaseOrderSlot(trx, restaurantId, orderId);
  await releaseCouponRedemption(trx, restaurantId, orderId);
}
