import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import type { Int8, PaymentRecord, RefundRecord } from '../../db/tables.js';
import { IDEMPOTENCY_KEY_TTL_HOURS } from '../../lib/idempotency.js';

export type PaymentStatus = PaymentRecord['status'];

export interface PaymentRow {
  restaurant_id: number;
  id: number;
  order_id: number;
  method: 'card' | 'cash';
  provider: string;
  provider_payment_id: string | null;
  provider_idempotency_key: string | null;
  status: PaymentStatus;
  amount_cents: number;
  refunded_cents: number;
  currency: string;
  failure_code: string | null;
  client_secret: string | null;
  created_at: Date;
}

export interface RefundRow {
  restaurant_id: number;
  id: number;
  payment_id: number;
  amount_cents: number;
  status: PaymentStatus;
  provider_refund_id: string | null;
  provider_idempotency_key: string | null;
  failure_code: string | null;
  reason: string | null;
  user_sub: string | null;
  created_at: Date;
}

const paymentColumns = [
  'restaurant_id',
  'id',
  'order_id',
  'method',
  'provider',
  'provider_payment_id',
  'provider_idempotency_key',
  'status',
  'amount_cents',
  'refunded_cents',
  'currency',
  'failure_code',
  'client_secret',
  'created_at',
] satisfies Array<keyof PaymentRecord>;
const refundColumns = [
  'restaurant_id',
  'id',
  'payment_id',
  'amount_cents',
  'status',
  'provider_refund_id',
  'provider_idempotency_key',
  'failure_code',
  'reason',
  'user_sub',
  'created_at',
] satisfies Array<keyof RefundRecord>;

function toPayment(row: Pick<PaymentRecord, (typeof paymentColumns)[number]> | undefined): PaymentRow {
  if (row === undefined) throw new Error('payments: the statement returned no row');
  return { ...row, restaurant_id: Number(row.restaurant_id), id: Number(row.id), order_id: Number(row.order_id) };
}

type StoredRefund = Pick<RefundRecord, (typeof refundColumns)[number]>;

function toRefund(row: StoredRefund | undefined): RefundRow {
  if (row === undefined) throw new Error('refunds: the statement returned no row');
  return { ...row, restaurant_id: Number(row.restaurant_id), id: Number(row.id), payment_id: Number(row.payment_id) };
}

export async function insertPayment(
  trx: Knex.Transaction,
  values: Omit<PaymentRow, 'id' | 'created_at' | 'refunded_cents' | 'failure_code' | 'client_secret' | 'provider_payment_id'> & { request_key?: string | null },
): Promise<PaymentRow> {
  const [row] = await trx('payments').insert(values).returning(paymentColumns);
  return toPayment(row);
}

export async function selectPayment(db: Queryable, restaurantId: number, id: number, options: { lock?: boolean } = {}): Promise<PaymentRow | undefined> {
  const query = db('payments').select(paymentColumns).where({ restaurant_id: restaurantId, id });
  if (options.lock === true) query.forUpdate();
  const row = await query.first();
  return row === undefined ? undefined : toPayment(row);
}

export async function selectPaymentsOfOrder(db: Queryable, restaurantId: number, orderId: number, options: { lock?: boolean } = {}): Promise<PaymentRow[]> {
  const query = db('payments').select(paymentColumns).where({ restaurant_id: restaurantId, order_id: orderId }).orderBy('id');
  if (options.lock === true) query.forUpdate();
  return (await query).map(toPayment);
}

/** The payment a client's retry (same Idempotency-Key, within the key's lifetime) should resume. */
export async function selectPaymentByRequestKey(db: Queryable, restaurantId: number, orderId: number, requestKey: string): Promise<PaymentRow | undefined> {
  const row = await db('payments')
    .select(paymentColumns)
    .where({ restaurant_id: restaurantId, order_id: orderId, request_key: requestKey })
    .where('created_at', '>', db.raw(`now() - make_interval(hours => ?)`, [IDEMPOTENCY_KEY_TTL_HOURS]))
    .orderBy('id', 'desc')
    .first();
  return row === undefined ? undefined : toPayment(row);
}

/** A provider's charge, by its id or by the key we sent with it (a webhook may beat our own settle to it). */
export async function findPaymentAtProvider(
  db: Queryable,
  provider: string,
  ref: { providerPaymentId: string; paymentKey: string | undefined },
): Promise<PaymentRow | undefined> {
  const byId = await db('payments').select(paymentColumns).where({ provider, provider_payment_id: ref.providerPaymentId }).first();
  if (byId !== undefined) return toPayment(byId);
  if (ref.paymentKey === undefined) return undefined;
  const byKey = await db('payments').select(paymentColumns).where({ provider, provider_idempotency_key: ref.paymentKey }).first();
  return byKey === undefined ? undefined : toPayment(byKey);
}

export async function updatePayment(
  trx: Knex.Transaction,
  restaurantId: number,
  id: number,
  changes: Partial<Pick<PaymentRow, 'status' | 'provider_payment_id' | 'failure_code' | 'client_secret' | 'refunded_cents'>>,
): Promise<PaymentRow> {
  const [row] = await trx('payments')
    .where({ restaurant_id: restaurantId, id })
    .update({ ...changes, updated_at: trx.fn.now() })
    .returning(paymentColumns);
  return toPayment(row);
}

/** Money on an order: succeeded payments and what was refunded of them. */
export async function sumOrderMoney(trx: Knex.Transaction, restaurantId: number, orderId: number): Promise<{ paidCents: number; refundedCents: number }> {
  const row = await trx('payments')
    .select<Array<{ paid: Int8; refunded: Int8 }>>(
      trx.raw('coalesce(sum(amount_cents), 0)::bigint AS paid'),
      trx.raw('coalesce(sum(refunded_cents), 0)::bigint AS refunded'),
    )
    .where({ restaurant_id: restaurantId, order_id: orderId, status: 'succeeded' })
    .first();
  return { paidCents: Number(row?.paid ?? 0), refundedCents: Number(row?.refunded ?? 0) };
}

export async function insertRefund(
  trx: Knex.Transaction,
  values: Pick<RefundRow, 'restaurant_id' | 'payment_id' | 'amount_cents' | 'status' | 'provider_idempotency_key' | 'reason' | 'user_sub'> & {
    request_key?: string | null;
    provider_refund_id?: string | null;
  },
): Promise<RefundRow> {
  const [row] = await trx('refunds').insert(values).returning(refundColumns);
  return toRefund(row);
}

export async function selectRefund(db: Queryable, restaurantId: number, id: number, options: { lock?: boolean } = {}): Promise<RefundRow | undefined> {
  const query = db('refunds').select(refundColumns).where({ restaurant_id: restaurantId, id });
  if (options.lock === true) query.forUpdate();
  const row = await query.first();
  return row === undefined ? undefined : toRefund(row);
}

export async function selectRefundsOfPayment(db: Queryable, restaurantId: number, paymentId: number, options: { lock?: boolean } = {}): Promise<RefundRow[]> {
  const query = db('refunds').select(refundColumns).where({ restaurant_id: restaurantId, payment_id: paymentId }).orderBy('id');
  if (options.lock === true) query.forUpdate();
  return (await query).map(toRefund);
}

export async function selectRefundByRequestKey(db: Queryable, restaurantId: number, userSub: string, requestKey: string): Promise<RefundRow | undefined> {
  const row = await db('refunds')
    .select(refundColumns)
    .where({ restaurant_id: restaurantId, user_sub: userSub, request_key: requestKey })
    .where('created_at', '>', db.raw(`now() - make_interval(hours => ?)`, [IDEMPOTENCY_KEY_TTL_HOURS]))
    .orderBy('id', 'desc')
    .first();
  return row === undefined ? undefined : toRefund(row);
}

/** Pending refunds of an order's payments, oldest first. */
export async function selectPendingRefundsOfOrder(db: Queryable, restaurantId: number, orderId: number): Promise<RefundRow[]> {
  const rows = await db('refunds as r')
    .select<StoredRefund[]>(refundColumns.map((column) => `r.${column}`))
    .join('payments as p', function joinPayment() {
      this.on('p.restaurant_id', '=', 'r.restaurant_id').andOn('p.id', '=', 'r.payment_id');
    })
    .where({ 'r.restaurant_id': restaurantId, 'p.order_id': orderId, 'r.status': 'pending' })
    .orderBy('r.id');
  return rows.map(toRefund);
}

export async function updateRefund(
  trx: Knex.Transaction,
  restaurantId: number,
  id: number,
  changes: Partial<Pick<RefundRow, 'status' | 'provider_refund_id' | 'failure_code'>>,
): Promise<RefundRow> {
  const [row] = await trx('refunds')
    .where({ restaurant_id: restaurantId, id })
    .update({ ...changes, updated_at: trx.fn.now() })
    .returning(refundColumns);
  return toRefund(row);
}

/** Card payments of this provider still pending after `olderThan`, oldest first. */
export async function selectStalePendingPayments(db: Knex, provider: string, olderThan: Date, limit: number): Promise<PaymentRow[]> {
  const rows = await db('payments')
    .select(paymentColumns)
    .where({ status: 'pending', method: 'card', provider })
    .where('created_at', '<', olderThan)
    .orderBy('created_at')
    .limit(limit);
  return rows.map(toPayment);
}

/** Refunds of this provider's payments still pending after `olderThan`, oldest first. */
export async function selectStalePendingRefunds(db: Knex, provider: string, olderThan: Date, limit: number): Promise<RefundRow[]> {
  const rows = await db('refunds as r')
    .select<StoredRefund[]>(refundColumns.map((column) => `r.${column}`))
    .join('payments as p', function joinPayment() {
      this.on('p.restaurant_id', '=', 'r.restaurant_id').andOn('p.id', '=', 'r.payment_id');
    })
    .where({ 'r.status': 'pending', 'p.provider': provider })
    .where('r.created_at', '<', olderThan)
    .orderBy('r.created_at')
    .limit(limit);
  return rows.map(toRefund);
}

/** Records a provider event as handled; false if it was already (the same delivery twice). */
export async function recordWebhookEvent(trx: Knex.Transaction, provider: string, eventId: string, type: string): Promise<boolean> {
  const inserted = await trx('payment_webhook_events')
    .insert({ provider, event_id: eventId, type: type.slice(0, 100) })
    .onConflict(['provider', 'event_id'])
    .ignore()
    .returning('event_id');
  return inserted.length > 0;
}

/** Providers stop redelivering after a few days; a month of event ids is plenty to deduplicate on. */
export async function sweepWebhookEvents(db: Knex, olderThanDays = 30): Promise<number> {
  return db('payment_webhook_events')
    .where('received_at', '<', db.raw(`now() - make_interval(days => ?)`, [olderThanDays]))
    .delete();
}
