import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Int8 } from '../../db/tables.js';
import { enqueueOrderEvent } from '../../queue/outbox.js';
import { lockOrderForPayment, paymentStatusFor, recordOrderPaymentStatus, type OrderForPayment } from '../orders/payment-status.js';
import type { OrderReleasedListener } from '../orders/hooks.js';
import type { ProviderEvent, RefundResult } from './providers/types.js';
import {
  insertRefund,
  selectPayment,
  selectPaymentsOfOrder,
  selectRefund,
  selectRefundsOfPayment,
  sumOrderMoney,
  updatePayment,
  updateRefund,
  type PaymentRow,
  type RefundRow,
} from './repo.js';

/**
 * Recording what the provider said, in the caller's transaction. Every function here locks the order
 * first, then its payment, then the refund (the same order as the order moves in `lifecycle.ts`), and
 * changes a payment or refund only while it is still `pending`: the route, a webhook and the reconciler
 * may all learn the same outcome, and whichever commits first settles it; the others change nothing.
 */

/** The failure code of a payment whose token the provider did not accept (answered 400, not 402). */
export const INVALID_TOKEN_FAILURE = 'invalid_payment_token';
/**
 * The failure code of an attempt the provider refused for a reason of ours, not the card's (an expired key,
 * an account limit): the provider's own code is logged for the operator, never shown to the customer.
 */
export const PROVIDER_REFUSED_FAILURE = 'provider_unavailable';

export type ChargeSettlement =
  | { status: 'succeeded'; providerPaymentId: string }
  | { status: 'requires_action'; providerPaymentId: string; clientSecret: string }
  | { status: 'processing'; providerPaymentId: string }
  | { status: 'failed'; providerPaymentId: string | null; failureCode: string };

/** A fresh key for the provider, stored with the row before the call, so every retry sends the same one. */
export const newProviderKey = (kind: 'payment' | 'refund') => `tablekit_${kind}_${randomUUID()}`;

async function lockPaymentWithOrder(trx: Knex.Transaction, restaurantId: number, paymentId: number): Promise<{ order: OrderForPayment; payment: PaymentRow }> {
  const unlocked = await selectPayment(trx, restaurantId, paymentId);
  if (unlocked === undefined) throw new Error(`payment ${restaurantId}/${paymentId} does not exist`);
  const order = await lockOrderForPayment(trx, restaurantId, unlocked.order_id);
  if (order === undefined) throw new Error(`the order of payment ${restaurantId}/${paymentId} does not exist`);
  // Payments are never deleted, so the row read above is still there to lock.
  const payment = await selectPayment(trx, restaurantId, paymentId, { lock: true });
  if (payment === undefined) throw new Error(`payment ${restaurantId}/${paymentId} does not exist`);
  return { order, payment };
}

/** Records where a card charge ended; returns the payment as it now stands. */
export async function settleCharge(trx: Knex.Transaction, restaurantId: number, paymentId: number, outcome: ChargeSettlement): Promise<PaymentRow> {
  const { order, payment } = await lockPaymentWithOrder(trx, restaurantId, paymentId);
  switch (outcome.status) {
    case 'succeeded': {
      // Also from `failed`: a provider that later reports the money taken (a retried 3-D Secure attempt)
      // is believed, and the money is then accounted for (and given back if the order no longer wants it).
      if (payment.status === 'succeeded') return payment;
      const settled = await updatePayment(trx, restaurantId, paymentId, {
        status: 'succeeded',
        provider_payment_id: outcome.providerPaymentId,
        client_secret: null,
        failure_code: null,
      });
      await afterMoneyReceived(trx, order, settled);
      return (await selectPayment(trx, restaurantId, paymentId)) ?? settled;
    }
    case 'requires_action':
      if (payment.status !== 'pending') return payment;
      return updatePayment(trx, restaurantId, paymentId, { provider_payment_id: outcome.providerPaymentId, client_secret: outcome.clientSecret });
    case 'processing':
      if (payment.status !== 'pending') return payment;
      return updatePayment(trx, restaurantId, paymentId, { provider_payment_id: outcome.providerPaymentId, client_secret: null });
    case 'failed':
      if (payment.status !== 'pending') return payment;
      return updatePayment(trx, restaurantId, paymentId, {
        status: 'failed',
        failure_code: outcome.failureCode.slice(0, 100),
        provider_payment_id: outcome.providerPaymentId ?? payment.provider_payment_id,
        client_secret: null,
      });
  }
}

/**
 * A payment just succeeded: the order is paid once succeeded payments cover it (asking for confirmation,
 * see `recordOrderPaymentStatus`). Money that arrives for an order already rejected or cancelled, or on
 * top of payments that already covered it, goes back at once.
 */
async function afterMoneyReceived(trx: Knex.Transaction, order: OrderForPayment, payment: PaymentRow): Promise<void> {
  await refreshOrderPaymentStatus(trx, order);
  if (order.status === 'cancelled' || order.status === 'rejected') {
    await refundRemainders(
      trx,
      order,
      await selectPaymentsOfOrder(trx, order.restaurantId, order.id, { lock: true }),
      `the order was ${order.status} before its payment completed`,
    );
    return;
  }
  const { paidCents } = await sumOrderMoney(trx, order.restaurantId, order.id);
  if (paidCents - payment.amount_cents >= order.totalCents) {
    await refundRemainders(trx, order, [payment], 'paid twice: other payments already covered the order');
  }
}

/** The order's payment status from its payments, as they now stand (the caller holds the order's lock). */
export async function refreshOrderPaymentStatus(trx: Knex.Transaction, order: OrderForPayment): Promise<void> {
  const { paidCents, refundedCents } = await sumOrderMoney(trx, order.restaurantId, order.id);
  await recordOrderPaymentStatus(trx, order, paymentStatusFor(order.totalCents, paidCents, refundedCents));
}

/** `refunded_cents` is the sum of the payment's succeeded refunds, recomputed rather than incremented. */
async function refreshPaymentRefunded(trx: Knex.Transaction, restaurantId: number, paymentId: number): Promise<void> {
  const row = await trx('refunds')
    .select<Array<{ refunded: Int8 }>>(trx.raw('coalesce(sum(amount_cents), 0)::bigint AS refunded'))
    .where({ restaurant_id: restaurantId, payment_id: paymentId, status: 'succeeded' })
    .first();
  await updatePayment(trx, restaurantId, paymentId, { refunded_cents: Number(row?.refunded ?? 0) });
}

/** What is still refundable on a payment: its amount less every refund not failed (pending ones are spoken for). */
export function refundableRemainder(payment: PaymentRow, refunds: RefundRow[]): number {
  const committed = refunds.filter((refund) => refund.status !== 'failed').reduce((sum, refund) => sum + refund.amount_cents, 0);
  return payment.amount_cents - committed;
}

/**
 * Writes a refund (the caller holds the order's and the payment's locks and has checked the amount):
 * cash needs no provider and is refunded at once; a card refund is written `pending` with its provider
 * key, to be sent to the provider after this transaction commits.
 */
export async function writeRefund(
  trx: Knex.Transaction,
  order: OrderForPayment,
  payment: PaymentRow,
  values: { amountCents: number; reason: string; userSub: string | null; requestKey: string | null },
): Promise<RefundRow> {
  const cash = payment.method === 'cash';
  const refund = await insertRefund(trx, {
    restaurant_id: order.restaurantId,
    payment_id: payment.id,
    amount_cents: values.amountCents,
    status: cash ? 'succeeded' : 'pending',
    provider_idempotency_key: cash ? null : newProviderKey('refund'),
    reason: values.reason.slice(0, 200),
    user_sub: values.userSub,
    request_key: values.requestKey,
  });
  if (cash) {
    await refreshPaymentRefunded(trx, order.restaurantId, payment.id);
    await refreshOrderPaymentStatus(trx, order);
  }
  return refund;
}

/**
 * Refunds what is left on each of `payments` (the caller holds the order's lock). Card refunds are
 * written `pending` together with a `payment.refund_requested` outbox event in this same transaction, so
 * they reach the provider even if the process dies right after the commit; their provider keys make a
 * redelivered event harmless.
 */
async function refundRemainders(trx: Knex.Transaction, order: OrderForPayment, payments: PaymentRow[], reason: string): Promise<void> {
  let cardRefunds = 0;
  for (const payment of payments) {
    if (payment.status !== 'succeeded') continue;
    const remainder = refundableRemainder(payment, await selectRefundsOfPayment(trx, order.restaurantId, payment.id, { lock: true }));
    if (remainder <= 0) continue;
    await writeRefund(trx, order, payment, { amountCents: remainder, reason, userSub: null, requestKey: null });
    if (payment.method === 'card') cardRefunds += 1;
  }
  if (cardRefunds > 0) await enqueueOrderEvent(trx, { type: 'payment.refund_requested', restaurantId: order.restaurantId, orderId: order.id });
}

/**
 * An order was rejected or cancelled (called by the order's move, in its transaction): everything paid
 * on it goes back. Cash is recorded as handed back at once; card refunds go through the queue.
 */
export async function refundOrderPayments(trx: Knex.Transaction, restaurantId: number, orderId: number, reason: string): Promise<void> {
  const order = await lockOrderForPayment(trx, restaurantId, orderId);
  if (order === undefined) return;
  await refundRemainders(trx, order, await selectPaymentsOfOrder(trx, restaurantId, orderId, { lock: true }), reason);
}

/** The orders hook (`onOrderReleased`, set in buildApp): a released order that was paid gives the money back. */
export const refundReleasedOrder: OrderReleasedListener = (trx, event) =>
  refundOrderPayments(trx, event.restaurantId, event.orderId, `order ${event.status}${event.reason === undefined ? '' : `: ${event.reason}`}`);

/** Records where a refund ended at the provider; returns the refund as it now stands. */
export async function settleRefund(trx: Knex.Transaction, restaurantId: number, refundId: number, outcome: RefundResult): Promise<RefundRow> {
  const unlocked = await selectRefund(trx, restaurantId, refundId);
  if (unlocked === undefined) throw new Error(`refund ${restaurantId}/${refundId} does not exist`);
  const { order } = await lockPaymentWithOrder(trx, restaurantId, unlocked.payment_id);
  const refund = await selectRefund(trx, restaurantId, refundId, { lock: true });
  if (refund === undefined) throw new Error(`refund ${restaurantId}/${refundId} does not exist`);
  if (refund.status !== 'pending') {
    // Settled meanwhile by `charge.refunded`, which may not name the provider's refund: keep its id.
    if (refund.provider_refund_id === null && outcome.providerRefundId !== null) {
      return updateRefund(trx, restaurantId, refundId, { provider_refund_id: outcome.providerRefundId });
    }
    return refund;
  }
  switch (outcome.status) {
    case 'succeeded': {
      const settled = await updateRefund(trx, restaurantId, refundId, { status: 'succeeded', provider_refund_id: outcome.providerRefundId });
      await refreshPaymentRefunded(trx, restaurantId, refund.payment_id);
      await refreshOrderPaymentStatus(trx, order);
      return settled;
    }
    case 'pending':
      return updateRefund(trx, restaurantId, refundId, { provider_refund_id: outcome.providerRefundId });
    case 'failed':
      return updateRefund(trx, restaurantId, refundId, {
        status: 'failed',
        failure_code: outcome.failureCode.slice(0, 100),
        provider_refund_id: outcome.providerRefundId ?? refund.provider_refund_id,
      });
  }
}

/**
 * The provider says how much of a charge it has refunded in all. Refunds it lists are settled by their
 * id or our key; pending ones of ours that the total covers are settled in the order we asked for
 * them; anything refunded beyond ours (from the provider's dashboard, say) is recorded too, so our
 * books never show money as kept that went back.
 */
export async function settleChargeRefunded(
  trx: Knex.Transaction,
  found: PaymentRow,
  event: Extract<ProviderEvent, { kind: 'charge.refunded' }>,
): Promise<void> {
  const { order, payment } = await lockPaymentWithOrder(trx, found.restaurant_id, found.id);
  if (payment.status !== 'succeeded') return;
  const refunds = await selectRefundsOfPayment(trx, payment.restaurant_id, payment.id, { lock: true });
  for (const listed of event.refunds) {
    const index = refunds.findIndex(
      (refund) =>
        refund.provider_refund_id === listed.providerRefundId || (listed.refundKey !== undefined && refund.provider_idempotency_key === listed.refundKey),
    );
    const ours = refunds[index];
    if (ours === undefined || ours.status !== 'pending' || listed.status === 'pending') continue;
    refunds[index] = await updateRefund(trx, payment.restaurant_id, ours.id, {
      status: listed.status,
      provider_refund_id: listed.providerRefundId,
      ...(listed.status === 'failed' ? { failure_code: 'failed' } : {}),
    });
  }
  let refunded = refunds.filter((refund) => refund.status === 'succeeded').reduce((sum, refund) => sum + refund.amount_cents, 0);
  for (const refund of refunds) {
    if (refund.status !== 'pending' || refunded + refund.amount_cents > event.amountRefundedCents) continue;
    await updateRefund(trx, payment.restaurant_id, refund.id, { status: 'succeeded' });
    refund.status = 'succeeded';
    refunded += refund.amount_cents;
  }
  const outside = Math.min(event.amountRefundedCents - refunded, refundableRemainder(payment, refunds));
  if (outside > 0) {
    await insertRefund(trx, {
      restaurant_id: payment.restaurant_id,
      payment_id: payment.id,
      amount_cents: outside,
      status: 'succeeded',
      provider_idempotency_key: null,
      reason: 'refunded at the provider',
      user_sub: null,
    });
  }
  await refreshPaymentRefunded(trx, payment.restaurant_id, payment.id);
  await refreshOrderPaymentStatus(trx, order);
}
