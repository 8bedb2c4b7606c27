import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Queryable } from '../../db/database.js';
import { withTransaction } from '../../db/transaction.js';
import { AppError, conflict, notFound } from '../../lib/errors.js';
import { lockOrderForPayment } from '../orders/payment-status.js';
import { getOrder, type OrderViewer } from '../orders/service.js';
import { ProviderUnavailableError, type ChargeResult, type PaymentProvider, type RefundResult } from './providers/types.js';
import {
  insertPayment,
  selectPayment,
  selectPaymentByRequestKey,
  selectPaymentsOfOrder,
  selectPendingRefundsOfOrder,
  selectRefund,
  selectRefundByRequestKey,
  selectRefundsOfPayment,
  sumOrderMoney,
  type PaymentRow,
  type RefundRow,
} from './repo.js';
import {
  INVALID_TOKEN_FAILURE,
  PROVIDER_REFUSED_FAILURE,
  newProviderKey,
  refreshOrderPaymentStatus,
  refundableRemainder,
  settleCharge,
  settleRefund,
  writeRefund,
  type ChargeSettlement,
} from './settlement.js';

/** What payment work needs besides a transaction: the configured provider. */
export interface PaymentDeps {
  db: Knex;
  provider: PaymentProvider;
  logger: Logger;
}

export interface PaymentView {
  id: number;
  order_id: number;
  method: 'card' | 'cash';
  provider: string;
  status: 'pending' | 'succeeded' | 'failed';
  amount_cents: number;
  refunded_cents: number;
  currency: string;
  failure_code: string | null;
  created_at: string;
  client_secret?: string;
}

export interface RefundView {
  id: number;
  payment_id: number;
  amount_cents: number;
  status: 'pending' | 'succeeded' | 'failed';
  created_at: string;
}

/** The client secret is shown only to the order's customer, and only while the payment waits for them. */
export function paymentView(row: PaymentRow, options: { forOwner: boolean }): PaymentView {
  return {
    id: row.id,
    order_id: row.order_id,
    method: row.method,
    provider: row.provider,
    status: row.status,
    amount_cents: row.amount_cents,
    refunded_cents: row.refunded_cents,
    currency: row.currency,
    failure_code: row.failure_code,
    created_at: row.created_at.toISOString(),
    ...(options.forOwner && row.status === 'pending' && row.client_secret !== null ? { client_secret: row.client_secret } : {}),
  };
}

export function refundView(row: RefundRow): RefundView {
  return { id: row.id, payment_id: row.payment_id, amount_cents: row.amount_cents, status: row.status, created_at: row.created_at.toISOString() };
}

const closedToPayment = ['cancelled', 'rejected', 'completed'];

/**
 * Failed card payments one order may have (API.md "Limits on one customer"): card testing stops there.
 * Attempts the provider refused for a reason of ours do not count: the customer did nothing wrong.
 */
export const MAX_FAILED_ATTEMPTS_PER_ORDER = 5;

/**
 * Step 1 of a card payment, in its own short transaction (recorded before the provider is called, so a
 * crash in between leaves a `pending` row the reconciler settles): under the order's lock, check it
 * can be paid and write the payment `pending` for the outstanding amount, with the key the provider
 * will get. A retry of the same request (same Idempotency-Key) resumes the payment it started.
 */
export async function startCardPayment(
  db: Knex,
  provider: PaymentProvider,
  restaurantId: number,
  orderId: number,
  customerId: number,
  requestKey: string,
): Promise<PaymentRow> {
  return withTransaction(db, async (trx) => {
    const order = await lockOrderForPayment(trx, restaurantId, orderId, { customerId });
    if (order === undefined) throw notFound('The order');
    // A failed attempt is not resumed: its answer was stored (402/400), or released on purpose (503).
    const resumed = await selectPaymentByRequestKey(trx, restaurantId, orderId, requestKey);
    if (resumed !== undefined && resumed.status !== 'failed') return resumed;
    if (order.paymentMethod !== 'card') throw conflict('This order is paid in cash: staff record the cash when they receive it');
    if (closedToPayment.includes(order.status)) throw conflict(`An order that is ${order.status} cannot be paid`);
    if (order.paymentStatus !== 'unpaid')
      throw conflict(`This order is already ${order.paymentStatus === 'paid' ? 'paid' : order.paymentStatus.replace('_', ' ')}`);
    const payments = await selectPaymentsOfOrder(trx, restaurantId, orderId);
    if (payments.some((payment) => payment.status === 'pending')) {
      throw conflict('A payment for this order is still being settled; see GET /v1/orders/{id}/payments before paying again');
    }
    // Counted under the order's lock, so racing attempts on one order cannot pass the limit together.
    const failed = payments.filter((payment) => payment.status === 'failed' && payment.failure_code !== PROVIDER_REFUSED_FAILURE);
    if (failed.length >= MAX_FAILED_ATTEMPTS_PER_ORDER) {
      throw new AppError(
        'rate_limited',
        429,
        `This order already has ${MAX_FAILED_ATTEMPTS_PER_ORDER} failed card payments and cannot be paid by card any more`,
      );
    }
    const { paidCents } = await sumOrderMoney(trx, restaurantId, orderId);
    const outstanding = order.totalCents - paidCents;
    if (outstanding <= 0) throw conflict('This order has nothing left to pay');
    return insertPayment(trx, {
      restaurant_id: restaurantId,
      order_id: orderId,
      method: 'card',
      provider: provider.name,
      provider_idempotency_key: newProviderKey('payment'),
      status: 'pending',
      amount_cents: outstanding,
      currency: order.currency,
      request_key: requestKey,
    });
  });
}

/**
 * Step 2: the provider call, outside any transaction. Returns undefined when the outcome is unknown
 * (the payment stays pending; the same key on a retry or the reconciler's lookup finds what happened).
 */
export async function chargeAtProvider(deps: PaymentDeps, payment: PaymentRow, paymentToken: string): Promise<ChargeResult | undefined> {
  const idempotencyKey = payment.provider_idempotency_key;
  // Only cash payments have none, and they never reach a provider.
  if (idempotencyKey === null) throw new Error(`payment ${payment.restaurant_id}/${payment.id} has no provider idempotency key`);
  try {
    return await deps.provider.charge({
      amountCents: payment.amount_cents,
      currency: payment.currency,
      paymentToken,
      idempotencyKey,
      metadata: { restaurant_id: String(payment.restaurant_id), order_id: String(payment.order_id), payment_id: String(payment.id) },
    });
  } catch (error) {
    if (!(error instanceof ProviderUnavailableError)) throw error;
    deps.logger.warn(
      { err: error, paymentId: payment.id, restaurantId: payment.restaurant_id },
      'no answer from the payment provider; the payment stays pending until reconciled',
    );
    return undefined;
  }
}

/** How a provider's answer to a charge is recorded. */
export function settlementOf(result: ChargeResult): ChargeSettlement {
  switch (result.status) {
    case 'succeeded':
    case 'requires_action':
    case 'processing':
      return result;
    case 'declined':
      return { status: 'failed', providerPaymentId: result.providerPaymentId, failureCode: result.declineCode };
    case 'invalid_token':
      return { status: 'failed', providerPaymentId: null, failureCode: INVALID_TOKEN_FAILURE };
    case 'refused':
      return { status: 'failed', providerPaymentId: null, failureCode: PROVIDER_REFUSED_FAILURE };
  }
}

/**
 * Where a card payment request ended, from the payment as it stands (the route maps each to its status,
 * API.md "Payments"): succeeded; waiting for the customer (3-D Secure, with the client secret); unknown
 * while the provider's answer is not known; a token the provider does not accept; a decline with its code.
 */
export type CardPaymentOutcome =
  | { kind: 'succeeded'; payment: PaymentView }
  | { kind: 'requires_action'; payment: PaymentView }
  | { kind: 'unknown'; payment: PaymentView }
  | { kind: 'invalid_token'; message: string }
  | { kind: 'declined'; code: string };

export function cardPaymentOutcome(payment: PaymentRow, invalidTokenMessage?: string): CardPaymentOutcome {
  if (payment.status === 'succeeded') return { kind: 'succeeded', payment: paymentView(payment, { forOwner: true }) };
  if (payment.status === 'pending')
    return { kind: payment.client_secret === null ? 'unknown' : 'requires_action', payment: paymentView(payment, { forOwner: true }) };
  const code = payment.failure_code ?? 'card_declined';
  if (code === INVALID_TOKEN_FAILURE) return { kind: 'invalid_token', message: invalidTokenMessage ?? 'not a payment token this provider accepts' };
  return { kind: 'declined', code };
}

/** Cash handed over the counter, recorded by staff for the outstanding total. */
export async function recordCashPayment(db: Knex, restaurantId: number, orderId: number): Promise<PaymentView> {
  const payment = await withTransaction(db, (trx) => writeCashPayment(trx, restaurantId, orderId));
  return paymentView(payment, { forOwner: false });
}

async function writeCashPayment(trx: Knex.Transaction, restaurantId: number, orderId: number): Promise<PaymentRow> {
  const order = await lockOrderForPayment(trx, restaurantId, orderId);
  if (order === undefined) throw notFound('The order');
  if (order.status === 'cancelled' || order.status === 'rejected') throw conflict(`An order that is ${order.status} cannot be paid`);
  if (order.paymentStatus !== 'unpaid') throw conflict('This order is already paid');
  const payments = await selectPaymentsOfOrder(trx, restaurantId, orderId);
  if (payments.some((payment) => payment.status === 'pending')) throw conflict('A card payment for this order is still being settled');
  const { paidCents } = await sumOrderMoney(trx, restaurantId, orderId);
  const outstanding = order.totalCents - paidCents;
  if (outstanding <= 0) throw conflict('This order has nothing left to pay');
  const payment = await insertPayment(trx, {
    restaurant_id: restaurantId,
    order_id: orderId,
    method: 'cash',
    provider: 'cash',
    provider_idempotency_key: null,
    status: 'succeeded',
    amount_cents: outstanding,
    currency: order.currency,
  });
  await refreshOrderPaymentStatus(trx, order);
  return payment;
}

/** The order's payments, oldest first, if the viewer may see the order (another customer's: 404). */
export async function listOrderPayments(db: Queryable, restaurantId: number, viewer: OrderViewer, orderId: number): Promise<PaymentView[]> {
  await getOrder(db, restaurantId, viewer, orderId);
  const rows = await selectPaymentsOfOrder(db, restaurantId, orderId);
  return rows.map((row) => paymentView(row, { forOwner: viewer.kind === 'customer' }));
}

export async function getPayment(db: Queryable, restaurantId: number, paymentId: number): Promise<PaymentRow> {
  const payment = await selectPayment(db, restaurantId, paymentId);
  if (payment === undefined) throw notFound('The payment');
  return payment;
}

/**
 * A manager's refund, in the caller's transaction: under the order's and the payment's locks, refuse
 * more than the refundable remainder (pending refunds count as spent, so two concurrent refunds cannot
 * together exceed the payment), then write it (cash: refunded at once; card: pending, sent after the
 * commit). A retry of the same request (same Idempotency-Key) resumes the refund it started.
 */
export async function createRefund(
  trx: Knex.Transaction,
  restaurantId: number,
  paymentId: number,
  request: { amountCents: number; userSub: string; requestKey: string },
): Promise<RefundRow> {
  const resumed = await selectRefundByRequestKey(trx, restaurantId, request.userSub, request.requestKey);
  if (resumed !== undefined && resumed.payment_id === paymentId && resumed.status !== 'failed') return resumed;
  const unlocked = await selectPayment(trx, restaurantId, paymentId);
  if (unlocked === undefined) throw notFound('The payment');
  const order = await lockOrderForPayment(trx, restaurantId, unlocked.order_id);
  const payment = await selectPayment(trx, restaurantId, paymentId, { lock: true });
  if (order === undefined || payment === undefined) throw notFound('The payment');
  if (payment.status !== 'succeeded') throw conflict(`Only a succeeded payment can be refunded; this one is ${payment.status}`);
  const remainder = refundableRemainder(payment, await selectRefundsOfPayment(trx, restaurantId, paymentId));
  if (request.amountCents > remainder) {
    throw conflict(`That is more than can still be refunded on this payment (${remainder})`, [
      { path: 'amount_cents', message: `at most ${remainder} can still be refunded` },
    ]);
  }
  return writeRefund(trx, order, payment, {
    amountCents: request.amountCents,
    reason: 'refunded by staff',
    userSub: request.userSub,
    requestKey: request.requestKey,
  });
}

/**
 * Sends a pending refund to the provider with its key. `lookFirst` (the reconciler) asks first whether
 * the provider already has it, since a provider forgets idempotency keys after a while (Stripe: 24 h).
 * Returns undefined when the outcome is unknown; the refund stays pending.
 */
export async function refundAtProvider(deps: PaymentDeps, refund: RefundRow, options: { lookFirst: boolean }): Promise<RefundResult | undefined> {
  const payment = await getPayment(deps.db, refund.restaurant_id, refund.payment_id);
  if (payment.method === 'cash') return { status: 'succeeded', providerRefundId: `cash_${refund.id}` };
  if (payment.provider !== deps.provider.name || payment.provider_payment_id === null || refund.provider_idempotency_key === null) {
    deps.logger.error(
      { refundId: refund.id, paymentId: payment.id, provider: payment.provider },
      'a pending refund cannot be sent: its payment is not one the configured provider holds',
    );
    return undefined;
  }
  const request = { providerPaymentId: payment.provider_payment_id, idempotencyKey: refund.provider_idempotency_key };
  try {
    if (options.lookFirst) {
      const found = await deps.provider.retrieveRefund(request);
      if (found.status !== 'not_found') return found;
    }
    return await deps.provider.refund({
      ...request,
      amountCents: refund.amount_cents,
      metadata: { restaurant_id: String(refund.restaurant_id), payment_id: String(payment.id), refund_id: String(refund.id) },
    });
  } catch (error) {
    if (!(error instanceof ProviderUnavailableError)) throw error;
    deps.logger.warn(
      { err: error, refundId: refund.id, restaurantId: refund.restaurant_id },
      'no answer from the payment provider; the refund stays pending until reconciled',
    );
    return undefined;
  }
}

/**
 * The worker's side of `payment.refund_requested`: sends each pending refund of the order and records
 * the answers. Throws if any answer is unknown, so the message comes back later (and the reconciler
 * covers it too); refunds already settled are skipped, so redelivery refunds nothing twice.
 */
export async function processOrderRefunds(deps: PaymentDeps, restaurantId: number, orderId: number): Promise<number> {
  const pending = await selectPendingRefundsOfOrder(deps.db, restaurantId, orderId);
  let settled = 0;
  let unknown = 0;
  for (const refund of pending) {
    const result = await refundAtProvider(deps, refund, { lookFirst: false });
    if (result === undefined) {
      unknown += 1;
      continue;
    }
    await withTransaction(deps.db, (trx) => settleRefund(trx, restaurantId, refund.id, result));
    settled += 1;
  }
  if (unknown > 0) throw new ProviderUnavailableError(`${unknown} refund(s) of order ${restaurantId}/${orderId} got no answer from the provider`);
  return settled;
}

/**
 * A customer pays a card order (API.md "Payments"): record the payment pending (own transaction),
 * charge at the provider with the payment's key (no transaction held), then settle (own transaction).
 * Every step is resumable by the request's key, so a retry after a crash anywhere finds the payment it
 * started. A provider refusing for a reason that is not the card: `503`, nothing charged.
 */
export async function payCardOrder(
  deps: PaymentDeps,
  request: { restaurantId: number; orderId: number; customerId: number; paymentToken: string; requestKey: string },
): Promise<CardPaymentOutcome> {
  const { db, provider } = deps;
  const started = await startCardPayment(db, provider, request.restaurantId, request.orderId, request.customerId, request.requestKey);
  if (started.status !== 'pending') return cardPaymentOutcome(started);

  const result = await chargeAtProvider(deps, started, request.paymentToken);
  if (result?.status === 'refused') {
    await withTransaction(db, (trx) => settleCharge(trx, request.restaurantId, started.id, settlementOf(result)));
    deps.logger.error(
      { code: result.code, paymentId: started.id },
      'the payment provider refused a charge for a reason that is not the card; check the provider configuration',
    );
    throw new AppError('service_unavailable', 503, 'Card payments are unavailable right now; nothing was charged', undefined, { 'Retry-After': '30' });
  }
  // Unknown: read it again, a webhook may have settled it meanwhile.
  const payment =
    result === undefined
      ? await getPayment(db, request.restaurantId, started.id)
      : await withTransaction(db, (trx) => settleCharge(trx, request.restaurantId, started.id, settlementOf(result)));
  return cardPaymentOutcome(payment, result?.status === 'invalid_token' ? result.message : undefined);
}

/** Where a refund request ended: settled by the provider (cash: at once), or its answer not known yet. */
export type RefundOutcome = { kind: 'settled' | 'unknown'; refund: RefundView };

/**
 * A manager refunds (API.md "Payments"): cash in one transaction; card recorded pending first (the
 * remainder reserved), sent to the provider, then settled. Resumable by the request's key like a payment.
 */
export async function refundPayment(
  deps: PaymentDeps,
  request: { restaurantId: number; paymentId: number; amountCents: number; userSub: string; requestKey: string },
): Promise<RefundOutcome> {
  const { db, provider } = deps;
  const { restaurantId, paymentId } = request;
  const payment = await getPayment(db, restaurantId, paymentId);
  if (payment.method === 'card' && payment.provider !== provider.name) {
    throw conflict(`This payment was taken through ${payment.provider}, not the configured provider; refund it there`);
  }
  const refund = await withTransaction(db, (trx) => createRefund(trx, restaurantId, paymentId, request));
  if (payment.method === 'cash' || refund.status !== 'pending') return { kind: 'settled', refund: refundView(refund) };
  const result = await refundAtProvider(deps, refund, { lookFirst: false });
  if (result === undefined) {
    const current = await selectRefund(db, restaurantId, refund.id);
    return { kind: 'unknown', refund: refundView(current ?? refund) };
  }
  return { kind: 'settled', refund: refundView(await withTransaction(db, (trx) => settleRefund(trx, restaurantId, refund.id, result))) };
}
