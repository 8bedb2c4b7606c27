import type { Knex } from 'knex';
import { enqueueOrderEvent } from '../../queue/outbox.js';
import type { OrderStatus } from './state-machine.js';
import { announceOrderPaymentStatusChanged } from './hooks.js';

export type OrderPaymentStatus = 'unpaid' | 'paid' | 'partially_refunded' | 'refunded';

/** What the payments module needs to know about an order, read under its row lock. */
export interface OrderForPayment {
  restaurantId: number;
  id: number;
  customerId: number;
  status: OrderStatus;
  paymentStatus: OrderPaymentStatus;
  paymentMethod: 'card' | 'cash';
  totalCents: number;
  currency: string;
}

/**
 * Locks the order row for a change to the money on it. Everything that touches an order and its
 * payments locks the order first and the payments after (the order moves in `lifecycle.ts` do too),
 * so payment work and order moves cannot deadlock. A customer's lookup is limited to their own orders.
 */
export async function lockOrderForPayment(
  trx: Knex.Transaction,
  restaurantId: number,
  orderId: number,
  options: { customerId?: number | undefined } = {},
): Promise<OrderForPayment | undefined> {
  const row = await trx('orders')
    .select('id', 'customer_id', 'status', 'payment_status', 'payment_method', 'total_cents', 'currency')
    .where({ restaurant_id: restaurantId, id: orderId, ...(options.customerId === undefined ? {} : { customer_id: options.customerId }) })
    .forUpdate()
    .first();
  if (row === undefined) return undefined;
  return {
    restaurantId,
    id: Number(row.id),
    customerId: Number(row.customer_id),
    status: row.status as OrderStatus,
    paymentStatus: row.payment_status as OrderPaymentStatus,
    paymentMethod: row.payment_method as 'card' | 'cash',
    totalCents: Number(row.total_cents),
    currency: String(row.currency),
  };
}

/**
 * The payment status the money on an order amounts to. Nothing refunded: paid once succeeded payments
 * cover the total, else unpaid. Something refunded: refunded once nothing is kept, paid if what is
 * kept still covers the total (only an overpayment went back), else partially refunded.
 */
export function paymentStatusFor(totalCents: number, paidCents: number, refundedCents: number): OrderPaymentStatus {
  if (refundedCents === 0) return paidCents > 0 && paidCents >= totalCents ? 'paid' : 'unpaid';
  const kept = paidCents - refundedCents;
  if (kept <= 0) return 'refunded';
  return kept >= totalCents ? 'paid' : 'partially_refunded';
}

/**
 * Records the order's payment status (the caller holds the order's lock). A card order that has just
 * become paid while pending asks for confirmation in the same transaction (API.md "Confirmation"):
 * the worker confirms it only if the payment committed. Cash orders asked at placement. Listeners hear
 * of the change in the same transaction (`hooks.ts`).
 */
export async function recordOrderPaymentStatus(trx: Knex.Transaction, order: OrderForPayment, next: OrderPaymentStatus): Promise<void> {
  if (next === order.paymentStatus) return;
  await trx('orders').where({ restaurant_id: order.restaurantId, id: order.id }).update({ payment_status: next, updated_at: trx.fn.now() });
  if (order.paymentStatus === 'unpaid' && next === 'paid' && order.paymentMethod === 'card' && order.status === 'pending') {
    await enqueueOrderEvent(trx, { type: 'order.confirmation_requested', restaurantId: order.restaurantId, orderId: order.id });
  }
  await announceOrderPaymentStatusChanged(trx, { restaurantId: order.restaurantId, orderId: order.id, from: order.paymentStatus, to: next });
  order.paymentStatus = next;
}
