import { DeleteMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { withTransaction } from '../db/transaction.js';
import { moveOrder } from '../modules/orders/lifecycle.js';
import { orderEventSchema, type OrderEvent } from './outbox.js';

export interface OrderWorkerOptions {
  db: Knex;
  sqs: SQSClient;
  queueUrl: string;
  /** Where messages that can never be handled go at once; without one they are left to the queue's redrive. */
  deadLetterQueueUrl: string | undefined;
  batchSize: number;
  logger: Logger;
  metrics: Metrics;
  /** Long-poll wait; short in tests so stopping is quick. */
  waitTimeSeconds?: number;
  /**
   * Sends an order's pending refunds to the payment provider (`payment.refund_requested`); returns how
   * many it settled. Without it such messages fail and are redelivered (the payment reconciler also
   * sends refunds left pending).
   */
  processRefunds?: (restaurantId: number, orderId: number) => Promise<number>;
}

export type HandleOutcome = 'confirmed' | 'duplicate' | 'stale' | 'refunded';

/**
 * The confirm-meal worker: consumes `order.confirmation_requested` and moves the order pending →
 * confirmed (actor system) only if it is still pending, so a redelivered message is a no-op. A message
 * is deleted only after its transaction committed; if handling throws it stays on the queue and comes
 * back after its visibility timeout (and goes to the dead-letter queue after maxReceiveCount).
 */
export class OrderWorker {
  private consumer: Consumer | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: OrderWorkerOptions) {}

  start(): void {
    if (this.consumer !== undefined) return;
    const { sqs, queueUrl, batchSize, logger } = this.options;
    const consumer = Consumer.create({
      sqs,
      queueUrl,
      batchSize,
      waitTimeSeconds: this.options.waitTimeSeconds ?? 20,
      // We delete each message ourselves right after its commit, so that stopping can wait for
      // exactly that (sqs-consumer would delete later, out of our sight).
      shouldDeleteMessages: false,
      handleMessage: async (message) => {
        const work = this.handle(message);
        this.inFlight.add(work);
        try {
          await work;
        } finally {
          this.inFlight.delete(work);
        }
        return undefined;
      },
    });
    consumer.on('error', (error) => {
      // After stop() the only receive left is the long poll it aborted: that failing is the point.
      if (this.consumer !== consumer) return;
      logger.error({ err: error }, 'queue receive failed');
    });
    consumer.on('processing_error', (error) => logger.error({ err: error }, 'queue message failed; it will be redelivered'));
    this.consumer = consumer;
    consumer.start();
  }

  /** Stops receiving (abandoning the long poll still waiting) and finishes the messages in hand. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    if (consumer === undefined) return;
    this.consumer = undefined;
    // sqs-consumer acts on the first stop() only, so abort the waiting long poll in that one call. Our
    // handler deletes with its own client, so the messages in hand still finish and are deleted.
    consumer.stop({ abort: true });
    await Promise.allSettled([...this.inFlight]);
  }

  /** Handles one message end to end, deleting it when done. Throws to leave it for redelivery. */
  async handle(message: Message): Promise<void> {
    const { logger, metrics } = this.options;
    const parsed = parseEvent(message.Body);
    if (parsed === undefined) {
      metrics.queueMessagesFailed.inc({ type: 'unknown', reason: 'unparseable' });
      await this.deadLetter(message);
      return;
    }
    try {
      const outcome = parsed.type === 'payment.refund_requested' ? await this.refund(parsed) : await this.confirm(parsed);
      metrics.queueMessagesHandled.inc({ type: parsed.type, outcome });
      logger.debug({ orderId: parsed.order_id, type: parsed.type, outcome }, 'order event handled');
    } catch (error) {
      metrics.queueMessagesFailed.inc({ type: parsed.type, reason: 'error' });
      throw error;
    }
    await this.delete(message);
  }

  async confirm(event: OrderEvent): Promise<HandleOutcome> {
    const moved = await withTransaction(this.options.db, (trx) =>
      moveOrder(trx, { restaurantId: event.restaurant_id, orderId: event.order_id, to: 'confirmed', actor: 'system' }),
    );
    if (moved !== undefined) {
      this.options.metrics.orderConfirmationLatency.observe((Date.now() - moved.placedAt.getTime()) / 1000);
      return 'confirmed';
    }
    const order = await this.options.db('orders').select('status').where({ restaurant_id: event.restaurant_id, id: event.order_id }).first();
    if (order === undefined) this.options.logger.warn({ orderId: event.order_id, restaurantId: event.restaurant_id }, 'confirmation for an unknown order; dropped');
    return order === undefined ? 'stale' : 'duplicate';
  }

  /** Refunds already settled are skipped, so a redelivered message refunds nothing twice. */
  async refund(event: OrderEvent): Promise<HandleOutcome> {
    if (this.options.processRefunds === undefined) throw new Error('this worker has no payment provider to send refunds to');
    const settled = await this.options.processRefunds(event.restaurant_id, event.order_id);
    return settled > 0 ? 'refunded' : 'duplicate';
  }

  private async delete(message: Message): Promise<void> {
    if (message.ReceiptHandle === undefined) return;
    await this.options.sqs.send(new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
  }

  private async deadLetter(message: Message): Promise<void> {
    const { deadLetterQueueUrl, logger, sqs } = this.options;
    logger.error({ messageId: message.MessageId, bodyLength: message.Body?.length ?? 0 }, 'queue message cannot be parsed; dead-lettering it');
    if (deadLetterQueueUrl === undefined) {
      throw new Error('unparseable message and no dead-letter queue to move it to; leaving it to the queue redrive');
    }
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: message.Body ?? '' }));
    await this.delete(message);
  }
}

function parseEvent(body: string | undefined): OrderEvent | undefined {
  if (body === undefined) return undefined;
  try {
    const result = orderEventSchema.safeParse(JSON.parse(body));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
