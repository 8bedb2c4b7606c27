import type { Knex } from 'knex';
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
