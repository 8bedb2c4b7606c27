import { DeleteMessageBatchCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { queueMessageSchema, type OrderEvent, type QueueMessage, type WebhookDeliveryRequest } from './outbox.js';

/** What confirming an order came to: moved now, already moved (a redelivery), or no such order. */
export type ConfirmationOutcome = { kind: 'confirmed'; placedAt: Date } | { kind: 'duplicate' } | { kind: 'stale' };

/** What one webhook delivery attempt came to: the receiver took it, it did not (a retry is planned or it gave up), or nothing to do. */
export type WebhookAttemptOutcome = 'delivered' | 'undelivered' | 'duplicate';

export interface OrderWorkerOptions {
  /**
   * Moves the order pending → confirmed if it is still pending (the orders module's, set at composition:
   * the queue knows nothing of the orders table).
   */
  confirmOrder: (restaurantId: number, orderId: number) => Promise<ConfirmationOutcome>;
  sqs: SQSClient;
  queueUrl: string;
  /** Where messages that can never be handled go at once; without one they are left to the queue's redrive. */
  deadLetterQueueUrl: string | undefined;
  /** Messages a receive asks for (1 to 10); they are handled concurrently and deleted together. */
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
  /**
   * Makes one attempt of a webhook delivery (`webhook.delivery_requested`; the webhooks module's, set at
   * composition). Without it such messages fail and are redelivered.
   */
  deliverWebhook?: (restaurantId: number, deliveryId: number, attempt: number) => Promise<WebhookAttemptOutcome>;
}

export type HandleOutcome = 'confirmed' | 'duplicate' | 'stale' | 'refunded' | WebhookAttemptOutcome;

/**
 * The confirm-meal worker: consumes `order.confirmation_requested` and moves the order pending →
 * confirmed (actor system) only if it is still pending, so a redelivered message is a no-op; likewise
 * `payment.refund_requested` and `webhook.delivery_requested` (one numbered attempt). The messages of a
 * receive are handled concurrently, and those whose work committed are deleted with one
 * DeleteMessageBatch once the batch is done (a crash before it redelivers them: no-ops). A message whose
 * handling throws stays on the queue and comes back after its visibility timeout (and goes to the
 * dead-letter queue after maxReceiveCount); the others of its batch are deleted all the same.
 */
export class OrderWorker {
  private consumer: Consumer | undefined;
  /** Consumers we asked to stop: the long poll we abort then fails, and that is no error. */
  private readonly stopping = new WeakSet<Consumer>();
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
      // We delete the batch's messages ourselves once their work committed, so that stopping can wait
      // for exactly that (sqs-consumer would delete later, out of our sight).
      shouldDeleteMessages: false,
      handleMessageBatch: async (messages) => {
        const work = this.handleBatch(messages);
        this.inFlight.add(work);
        try {
          await work;
        } finally {
          this.inFlight.delete(work);
        }
        return [];
      },
    });
    consumer.on('error', (error) => {
      // Every instance aborts its long polls at each deploy: that must not page anyone.
      if (this.stopping.has(consumer)) logger.debug({ err: error }, 'queue receive ended by shutdown');
      else logger.error({ err: error }, 'queue receive failed');
    });
    this.consumer = consumer;
    consumer.start();
  }

  /** Stops receiving (abandoning the long poll still waiting) and finishes the messages in hand. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    if (consumer === undefined) return;
    this.consumer = undefined;
    this.stopping.add(consumer);
    // sqs-consumer acts on the first stop() only, so abort the waiting long poll in that one call. Our
    // handler deletes with its own client, so the messages in hand still finish and are deleted.
    consumer.stop({ abort: true });
    await Promise.allSettled([...this.inFlight]);
  }

  /** Handles one message end to end, deleting it when done. Throws to leave it for redelivery. */
  async handle(message: Message): Promise<void> {
    await this.process(message);
    await this.deleteAll([message]);
  }

  /**
   * Handles a receive's messages side by side, then deletes those that are done in one call. Never
   * throws: a message that failed is logged and left for redelivery, and a failed delete only means the
   * message comes back, to be found already handled.
   */
  async handleBatch(messages: Message[]): Promise<void> {
    const { logger } = this.options;
    const outcomes = await Promise.allSettled(messages.map((message) => this.process(message)));
    const done: Message[] = [];
    outcomes.forEach((outcome, i) => {
      const message = messages[i];
      if (message === undefined) return;
      if (outcome.status === 'fulfilled') done.push(message);
      else logger.error({ err: outcome.reason, messageId: message.MessageId }, 'queue message failed; it will be redelivered');
    });
    try {
      await this.deleteAll(done);
    } catch (error) {
      logger.error({ err: error, messages: done.length }, 'queue messages handled but not deleted; they will be redelivered and found done');
    }
  }

  /** Does what the message asks, without deleting it. Throws to leave it for redelivery. */
  private async process(message: Message): Promise<void> {
    const { logger, metrics } = this.options;
    const parsed = parseEvent(message.Body);
    if (parsed === undefined) {
      metrics.queueMessagesFailed.inc({ type: 'unknown', reason: 'unparseable' });
      await this.deadLetter(message);
      return;
    }
    try {
      const outcome = await this.dispatch(parsed);
      metrics.queueMessagesHandled.inc({ type: parsed.type, outcome });
      logger.debug({ type: parsed.type, outcome }, 'queue message handled');
    } catch (error) {
      metrics.queueMessagesFailed.inc({ type: parsed.type, reason: 'error' });
      throw error;
    }
  }

  private dispatch(message: QueueMessage): Promise<HandleOutcome> {
    switch (message.type) {
      case 'webhook.delivery_requested':
        return this.deliverWebhook(message);
      case 'payment.refund_requested':
        return this.refund(message);
      case 'order.confirmation_requested':
        return this.confirm(message);
    }
  }

  async confirm(event: OrderEvent): Promise<HandleOutcome> {
    const outcome = await this.options.confirmOrder(event.restaurant_id, event.order_id);
    if (outcome.kind === 'confirmed') this.options.metrics.orderConfirmationLatency.observe((Date.now() - outcome.placedAt.getTime()) / 1000);
    if (outcome.kind === 'stale')
      this.options.logger.warn({ orderId: event.order_id, restaurantId: event.restaurant_id }, 'confirmation for an unknown order; dropped');
    return outcome.kind;
  }

  /** Refunds already settled are skipped, so a redelivered message refunds nothing twice. */
  async refund(event: OrderEvent): Promise<HandleOutcome> {
    if (this.options.processRefunds === undefined) throw new Error('this worker has no payment provider to send refunds to');
    const settled = await this.options.processRefunds(event.restaurant_id, event.order_id);
    return settled > 0 ? 'refunded' : 'duplicate';
  }

  async deliverWebhook(request: WebhookDeliveryRequest): Promise<HandleOutcome> {
    if (this.options.deliverWebhook === undefined) throw new Error('this worker cannot deliver webhooks');
    return this.options.deliverWebhook(request.restaurant_id, request.delivery_id, request.attempt);
  }

  private async deleteAll(messages: Message[]): Promise<void> {
    const entries = messages.flatMap((message, i) => (message.ReceiptHandle === undefined ? [] : [{ Id: String(i), ReceiptHandle: message.ReceiptHandle }]));
    if (entries.length === 0) return;
    const result = await this.options.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries }));
    if ((result.Failed ?? []).length > 0) {
      this.options.logger.warn(
        { failed: result.Failed?.length, error: result.Failed?.[0]?.Message },
        'queue messages handled but not deleted; they will be redelivered and found done',
      );
    }
  }

  private async deadLetter(message: Message): Promise<void> {
    const { deadLetterQueueUrl, logger, sqs } = this.options;
    logger.error({ messageId: message.MessageId, bodyLength: message.Body?.length ?? 0 }, 'queue message cannot be parsed; dead-lettering it');
    if (deadLetterQueueUrl === undefined) {
      throw new Error('unparseable message and no dead-letter queue to move it to; leaving it to the queue redrive');
    }
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: message.Body ?? '' }));
  }
}

function parseEvent(body: string | undefined): QueueMessage | undefined {
  if (body === undefined) return undefined;
  try {
    const result = queueMessageSchema.safeParse(JSON.parse(body));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
