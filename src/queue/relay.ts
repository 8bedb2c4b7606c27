import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { toQueueMessage, type OutboxRow } from './outbox.js';

export interface OutboxRelayOptions {
  db: Knex;
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  metrics: Metrics;
  /** How long to wait between polls when the outbox is empty. */
  idleDelayMs?: number;
  /** Runs after SQS accepted a batch and before the rows are marked sent (tests simulate a crash here). */
  afterSend?: (ids: number[]) => Promise<void>;
}

const BATCH_SIZE = 10; // SendMessageBatch's maximum
const MAX_BACKOFF_SECONDS = 300;

/**
 * Sends committed outbox rows to SQS. Rows are claimed with FOR UPDATE SKIP LOCKED, so relays in
 * several processes share the work without sending a row twice at the same time; a crash between the
 * send and the mark re-sends (at-least-once), which the worker absorbs. A failed send backs the row
 * off exponentially and keeps it: SQS being down for an hour loses nothing.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Finishes the batch in hand, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Sends at once instead of at the next poll (called after a commit that wrote outbox rows). */
  nudge(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    const idle = this.options.idleDelayMs ?? 200;
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.relayOnce();
      } catch (error) {
        this.options.logger.error({ err: error }, 'outbox relay failed; retrying');
      }
      if (sent === 0 && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, idle);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** One batch: returns how many rows were sent. */
  async relayOnce(): Promise<number> {
    const { db, sqs, queueUrl, logger, metrics } = this.options;
    return db.transaction(async (trx) => {
      const rows: OutboxRow[] = await trx('outbox')
        .select('id', 'restaurant_id', 'type', 'payload', 'created_at', 'attempts')
        .whereNull('sent_at')
        .where('available_at', '<=', trx.fn.now())
        .orderBy('id')
        .limit(BATCH_SIZE)
        .forUpdate()
        .skipLocked();
      if (rows.length === 0) return 0;

      let failed: Array<{ id: number; error: string }> = [];
      try {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: rows.map((row) => ({ Id: String(row.id), MessageBody: JSON.stringify(toQueueMessage(row)) })),
          }),
        );
        failed = (result.Failed ?? []).map((entry) => ({ id: Number(entry.Id), error: `${entry.Code ?? 'error'}: ${entry.Message ?? ''}` }));
      } catch (error) {
        failed = rows.map((row) => ({ id: Number(row.id), error: error instanceof Error ? error.message : String(error) }));
      }
      const failedIds = new Set(failed.map((entry) => entry.id));
      const sentIds = rows.map((row) => Number(row.id)).filter((id) => !failedIds.has(id));

      if (sentIds.length > 0) {
        await this.options.afterSend?.(sentIds);
        await trx('outbox').whereIn('id', sentIds).update({ sent_at: trx.fn.now(), attempts: trx.raw('attempts + 1'), last_error: null });
        metrics.outboxSent.inc(sentIds.length);
      }
      for (const { id, error } of failed) {
        const row = rows.find((candidate) => Number(candidate.id) === id);
        const attempts = (row?.attempts ?? 0) + 1;
        const backoffSeconds = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(attempts, 10)) * (0.5 + Math.random() / 2);
        await trx('outbox')
          .where({ id })
          .update({
            attempts,
            last_error: error.slice(0, 500),
            available_at: trx.raw(`now() + make_interval(secs => ?)`, [backoffSeconds]),
          });
      }
      if (failed.length > 0) {
        metrics.outboxSendFailures.inc(failed.length);
        logger.warn({ failed: failed.length, error: failed[0]?.error }, 'outbox send failed; will retry with backoff');
      }
      return sentIds.length;
    });
  }
}
