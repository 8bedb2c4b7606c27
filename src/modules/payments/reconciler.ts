import { withTransaction } from '../../db/transaction.js';
import { Periodic } from '../../queue/periodic.js';
import type { JobLock } from '../../db/job-lock.js';
import type { RetrievedCharge } from './providers/types.js';
import { selectStalePendingPayments, selectStalePendingRefunds, sweepWebhookEvents, type PaymentRow } from './repo.js';
import { refundAtProvider, type PaymentDeps } from './service.js';
import { settleCharge, settleRefund, type ChargeSettlement } from './settlement.js';

export interface PaymentReconcilerOptions extends PaymentDeps {
  /** Payments and refunds pending longer than this are looked up at the provider (PAYMENT_RECONCILE_AFTER). */
  reconcileAfterMs: number;
  /** A charge still waiting for the customer (3-D Secure) this long is cancelled (ORDER_PAYMENT_TIMEOUT). */
  abandonAfterMs: number;
  intervalMs?: number;
  /** Called after a run that may have written outbox rows (a payment settled paid, a refund requested). */
  afterChanges?: () => void;
  /** With several instances: so one of them reconciles at a time. */
  lock?: JobLock;
}

export interface ReconcileReport {
  payments: number;
  refunds: number;
}

const BATCH = 100;

/**
 * Money moves are recorded before and after the provider call; this settles what a crash (or a lost
 * answer) left `pending` in between, by asking the provider where it stands, by the provider's id or,
 * if we never learned it, by the key we sent. It never charges: a charge the provider does not know
 * was never made and is recorded failed. A refund the provider does not know is sent (with its key),
 * because it was decided and committed. Charges left waiting for 3-D Secure past the payment timeout
 * are cancelled, so the order's timeout can release its stock.
 */
export class PaymentReconciler {
  private readonly periodic: Periodic;

  constructor(private readonly options: PaymentReconcilerOptions) {
    const interval = options.intervalMs ?? Math.min(60_000, Math.max(1_000, options.reconcileAfterMs / 5));
    this.periodic = new Periodic('payment reconciliation', interval, () => this.reconcileOnce(), options.logger, options.lock);
  }

  start(): void {
    this.periodic.start();
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
  }

  async reconcileOnce(): Promise<ReconcileReport> {
    const { db, provider, logger } = this.options;
    const cutoff = new Date(Date.now() - this.options.reconcileAfterMs);
    const report: ReconcileReport = { payments: 0, refunds: 0 };

    for (const payment of await selectStalePendingPayments(db, provider.name, cutoff, BATCH)) {
      try {
        if (await this.reconcilePayment(payment)) report.payments += 1;
      } catch (error) {
        logger.warn({ err: error, paymentId: payment.id, restaurantId: payment.restaurant_id }, 'could not reconcile a pending payment; trying again next run');
      }
    }
    for (const refund of await selectStalePendingRefunds(db, provider.name, cutoff, BATCH)) {
      try {
        const result = await refundAtProvider(this.options, refund, { lookFirst: true });
        if (result === undefined) continue;
        const settled = await withTransaction(db, (trx) => settleRefund(trx, refund.restaurant_id, refund.id, result));
        if (settled.status !== 'pending') report.refunds += 1;
      } catch (error) {
        logger.warn({ err: error, refundId: refund.id, restaurantId: refund.restaurant_id }, 'could not reconcile a pending refund; trying again next run');
      }
    }
    await sweepWebhookEvents(db);
    if (report.payments + report.refunds > 0) {
      logger.info(report, 'reconciled pending payments and refunds with the provider');
      this.options.afterChanges?.();
    }
    return report;
  }

  /** True when the payment left `pending`. */
  private async reconcilePayment(payment: PaymentRow): Promise<boolean> {
    const { db, provider } = this.options;
    let found: RetrievedCharge = await provider.retrieve({
      providerPaymentId: payment.provider_payment_id,
      idempotencyKey: payment.provider_idempotency_key ?? '',
    });
    if (found.status === 'requires_action' && Date.now() - payment.created_at.getTime() > this.options.abandonAfterMs) {
      found = await provider.cancel(found.providerPaymentId);
    }
    const settlement = settlementOfRetrieved(found);
    const settled = await withTransaction(db, (trx) => settleCharge(trx, payment.restaurant_id, payment.id, settlement));
    return settled.status !== 'pending';
  }
}

function settlementOfRetrieved(found: RetrievedCharge): ChargeSettlement {
  switch (found.status) {
    case 'not_found':
      // The request never reached the provider: nothing was charged, and nothing will be.
      return { status: 'failed', providerPaymentId: null, failureCode: 'not_submitted' };
    case 'succeeded':
    case 'requires_action':
    case 'processing':
    case 'failed':
      return found;
  }
}
