import type { Knex } from 'knex';
import type { OrderRecord } from '../../db/tables.js';
import type { OrderStatus } from './state-machine.js';

/** An order that will not be served (rejected, cancelled, timed out); its holds were just given back. */
export interface OrderReleased {
  restaurantId: number;
  orderId: number;
  status: OrderStatus;
  reason: string | undefined;
}

/** Runs in the transaction that moved the order, so what it decides commits or rolls back with the move. */
export type OrderReleasedListener = (trx: Knex.Transaction, event: OrderReleased) => Promise<void>;

const releasedListeners = new Set<OrderReleasedListener>();

/**
 * How modules that depend on orders hear about it without orders depending on them (payments refunds
 * a released order). Set once at composition (`buildApp`); adding the same listener again is a no-op.
 */
export function onOrderReleased(listener: OrderReleasedListener): void {
  releasedListeners.add(listener);
}

export async function announceOrderReleased(trx: Knex.Transaction, event: OrderReleased): Promise<void> {
  for (const listener of releasedListeners) await listener(trx, event);
}

/** The money on an order now amounts to another payment status (paid, refunded, partially refunded). */
export interface OrderPaymentStatusChanged {
  restaurantId: number;
  orderId: number;
  from: OrderRecord['payment_status'];
  to: OrderRecord['payment_status'];
}

/** Runs in the transaction that recorded the status, under the order's lock. */
export type OrderPaymentStatusListener = (trx: Knex.Transaction, event: OrderPaymentStatusChanged) => Promise<void>;

const paymentStatusListeners = new Set<OrderPaymentStatusListener>();

/** Set once at composition, like `onOrderReleased` (webhooks sends `order.paid` and `order.refunded`). */
export function onOrderPaymentStatusChanged(listener: OrderPaymentStatusListener): void {
  paymentStatusListeners.add(listener);
}

export async function announceOrderPaymentStatusChanged(trx: Knex.Transaction, event: OrderPaymentStatusChanged): Promise<void> {
  for (const listener of paymentStatusListeners) await listener(trx, event);
}
