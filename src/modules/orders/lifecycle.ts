import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { AppError, notFound } from '../../lib/errors.js';
import { releasesStock, statusesAllowingMove, type OrderActor, type OrderStatus } from './state-machine.js';
import { releaseForOrder } from '../catalog/index.js';
import { releaseCouponRedemption } from '../coupons/service.js';
import { announceOrderReleased } from './hooks.js';
import { releaseOrderSlot } from './slot-step.js';
import { runPrepared } from '../../db/prepared.js';

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
 * Moves an order: it succeeds only if the order is, at that instant, in a status the state machine
 * allows for this actor. Of two concurrent moves at most one succeeds, and the stock release that goes
 * with a cancel or reject therefore happens exactly once.
 * Returns undefined when the move is not possible now; `moveOrderOrThrow` turns that into 404 / 409.
 */
export async function moveOrder(trx: Knex.Transaction, move: OrderMove): Promise<MovedOrder | undefined> {
  const moved = await moveStatus(trx, move);
  if (moved !== undefined && releasesStock(move.to)) {
    await releaseOrderHolds(trx, move.restaurantId, move.orderId);
    // Listeners decide in this same transaction (payments: a paid order gives the money back).
    await announceOrderReleased(trx, { restaurantId: move.restaurantId, orderId: move.orderId, status: move.to, reason: move.reason });
  }
  return moved;
}

/**
 * A move that gives nothing back (the queue worker's confirm) is the one statement of `moveStatus`,
 * atomic without a transaction of its own: no BEGIN and COMMIT round trips.
 */
export async function moveOrderAlone(db: Knex, move: OrderMove): Promise<MovedOrder | undefined> {
  if (releasesStock(move.to)) throw new Error(`a move to ${move.to} gives the order's holds back: run it in a transaction (moveOrder)`);
  return moveStatus(db, move);
}

/**
 * The status change and its event in one statement. The order's row is locked only if it is in a
 * status the move allows (and meets `onlyIf`): a concurrent mover blocks on the lock, then sees the
 * status the first one left behind and finds nothing to move. The conditions left out of a move are
 * NULL bindings, so there is one text, planned once per connection.
 */
async function moveStatus(db: Queryable, move: OrderMove): Promise<MovedOrder | undefined> {
  const from = statusesAllowingMove(move.to, move.actor);
  if (from.length === 0) return undefined;
  const result: { rows: Array<{ from_status: OrderStatus; placed_at: Date | string }> } = await runPrepared(db, {
    name: 'order_move',
    sql: `WITH locked AS MATERIALIZED (
         SELECT o.id, o.status, o.placed_at FROM orders o
          WHERE o.restaurant_id = :restaurant AND o.id = :order AND o.status = ANY(:from::text[])
            AND (:customer::bigint IS NULL OR o.customer_id = :customer::bigint)
            AND (:paymentStatus::text IS NULL OR o.payment_status = :paymentStatus::text)
            AND (:placedBefore::timestamptz IS NULL OR o.placed_at < :placedBefore::timestamptz)
            -- A payment still being settled (3-D Secure, or awaiting reconciliation) must be resolved first.
            AND (NOT :noPendingPayment::boolean OR NOT EXISTS (
                  SELECT 1 FROM payments p WHERE p.restaurant_id = :restaurant AND p.order_id = o.id AND p.status = 'pending'))
          FOR UPDATE
       ),
       moved AS (
         UPDATE orders o SET status = :to, updated_at = now() FROM locked
          WHERE o.restaurant_id = :restaurant AND o.id = locked.id
         RETURNING locked.status AS from_status, locked.placed_at
       ),
       event AS (
         INSERT INTO order_events (restaurant_id, order_id, status, actor, actor_sub, reason)
         SELECT :restaurant, :order, :to, :actor, :actorSub::text, :reason::text FROM moved
       )
       SELECT from_status, placed_at FROM moved`,
    bindings: {
      restaurant: move.restaurantId,
      order: move.orderId,
      from: [...from],
      customer: move.customerId ?? null,
      paymentStatus: move.onlyIf?.paymentStatus ?? null,
      placedBefore: move.onlyIf?.placedBefore ?? null,
      noPendingPayment: move.onlyIf?.noPendingPayment === true,
      to: move.to,
      actor: move.actor,
      actorSub: move.actorSub ?? null,
      reason: move.reason ?? null,
    },
  });
  const [row] = result.rows;
  if (row === undefined) return undefined;
  return { id: move.orderId, restaurantId: move.restaurantId, from: row.from_status, status: move.to, placedAt: new Date(row.placed_at) };
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
