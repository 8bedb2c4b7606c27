import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics.js';
import { withTransaction } from '../../db/transaction.js';
import { moveOrder } from './lifecycle.js';
import { Periodic } from '../../queue/periodic.js';
import type { JobLock } from '../../db/job-lock.js';

export interface PaymentTimeoutSweeperOptions {
  db: Knex;
  timeoutMs: number;
  logger: Logger;
  metrics: Metrics;
  intervalMs?: number;
  /** With several instances: so one of them sweeps at a time. */
  lock?: JobLock;
}

/**
 * Cancels card orders left unpaid past ORDER_PAYMENT_TIMEOUT and gives their stock back. Safe with
 * several processes sweeping at once: each order is cancelled by a conditional move that re-checks,
 * under the row lock, that it is still pending, still unpaid and still past the deadline, so a payment
 * landing at the last moment wins and no order is cancelled twice.
 */
export class PaymentTimeoutSweeper {
  private readonly periodic: Periodic;

  constructor(private readonly options: PaymentTimeoutSweeperOptions) {
    const interval = options.intervalMs ?? Math.min(30_000, Math.max(1_000, options.timeoutMs / 10));
    this.periodic = new Periodic('payment-timeout sweep', interval, () => this.sweepOnce(), options.logger, options.lock);
  }

  start(): void {
    this.periodic.start();
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
  }

  /** Cancels what is overdue now; returns how many orders it cancelled. */
  async sweepOnce(): Promise<number> {
    const { db, timeoutMs, logger, metrics } = this.options;
    const cutoff = new Date(Date.now() - timeoutMs);
    const overdue = await db('orders')
      .select('restaurant_id', 'id')
      .where({ status: 'pending', payment_method: 'card', payment_status: 'unpaid' })
      .where('placed_at', '<', cutoff)
      .orderBy('placed_at')
      .limit(100);
    let cancelled = 0;
    for (const order of overdue) {
      const moved = await withTransaction(db, (trx) =>
        moveOrder(trx, {
          restaurantId: Number(order.restaurant_id),
          orderId: Number(order.id),
          to: 'cancelled',
          actor: 'system',
          reason: 'payment not received in time',
          onlyIf: { paymentStatus: 'unpaid', placedBefore: cutoff, noPendingPayment: true },
        }),
      );
      if (moved !== undefined) cancelled += 1;
    }
    if (cancelled > 0) {
      metrics.ordersCancelledUnpaid.inc(cancelled);
      logger.info({ cancelled }, 'cancelled unpaid card orders past the payment timeout');
    }
    return cancelled;
  }
}
