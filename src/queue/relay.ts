import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { withTransaction } from '../db/transaction.js';
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
  /** How long a claimed row stays this relay's before another may claim it again (default 30 s; the send is given up at half). */
  leaseMs?: number;
}

const BATCH_SIZE = 10; // SendMessageBatch's maximum
const MAX_BACKOFF_SECONDS = 300;
const DEFAULT_LEASE_MS = 30_000;

/**
 * Sends committed outbox rows to SQS in three steps, none of them holding a transaction across the
 * network call: claim a batch (FOR UPDATE SKIP LOCKED, leased by moving its `available_at` a lease
 * ahead) and commit; send; mark what SQS accepted sent and back off what it refused. Relays in several
 * processes so never send a row at the same time; one that dies after claiming leaves its rows to be
 * claimed again when the lease runs out, and one that dies between the send and the mark re-sends
 * (at-least-once), which the worker absorbs. The send is abandoned well before the lease ends. A failed
 * send backs the row off exponentially and keeps it: SQS being down for an hour loses nothing.
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
    const { sqs, queueUrl, logger, metrics } = this.options;
    const leaseMs = this.options.leaseMs ?? DEFAULT_LEASE_MS;
    const rows = await this.claim(leaseMs);
    if (rows.length === 0) return 0;

    let failed: Array<{ id: number; error: string }> = [];
    try {
      const result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: rows.map((row) => ({ Id: String(row.id), MessageBody: JSON.stringify(toQueueMessage(row)) })),
        }),
        // Given up on long before the lease ends, so no other relay claims these rows while we still send them.
        { abortSignal: AbortSignal.timeout(leaseMs / 2) },
      );
      failed = (result.Failed ?? []).map((entry) => ({ id: Number(entry.Id), error: `${entry.Code ?? 'error'}: ${entry.Message ?? ''}` }));
    } catch (error) {
      failed = rows.map((row) => ({ id: Number(row.id), error: error instanceof Error ? error.message : String(error) }));
    }
    const failedIds = new Set(failed.map((entry) => entry.id));
    const sent = rows.filter((row) => !failedIds.has(Number(row.id)));

    if (sent.length > 0) {
      await this.options.afterSend?.(sent.map((row) => Number(row.id)));
      await this.markSent(sent);
      metrics.outboxSent.inc(sent.length);
    }
    if (failed.length > 0) {
      await this.backOff(rows, failed);
      metrics.outboxSendFailures.inc(failed.length);
      logger.warn({ failed: failed.length, error: failed[0]?.error }, 'outbox send failed; will retry with backoff');
    }
    return sent.length;
  }

  /**
   * Takes up to a batch of due rows for `leaseMs`, committed before anything is sent. Oldest due first.
   * One statement, so it commits on its own: no BEGIN and COMMIT around it.
   */
  private async claim(leaseMs: number): Promise<OutboxRow[]> {
    const { db } = this.options;
    const due = db('outbox')
      .select('restaurant_id', 'id')
      .whereNull('sent_at')
      .where('available_at', '<=', db.fn.now())
      .orderBy([{ column: 'available_at' }, { column: 'id' }])
      .limit(BATCH_SIZE)
      .forUpdate()
      .skipLocked();
    const claimed: OutboxRow[] = await db('outbox')
      .whereIn(['restaurant_id', 'id'], due)
      .update({ available_at: db.raw(`now() + make_interval(secs => ?)`, [leaseMs / 1000]) })
      .returning(['id', 'restaurant_id', 'type', 'payload', 'created_at', 'attempts']);
    return claimed;
  }

  private async markSent(rows: OutboxRow[]): Promise<void> {
    const { db } = this.options;
    await db('outbox')
      .whereIn(
        ['restaurant_id', 'id'],
        rows.map((row) => [Number(row.restaurant_id), Number(row.id)]),
      )
      .whereNull('sent_at')
      .update({ sent_at: db.fn.now(), attempts: db.raw('attempts + 1'), last_error: null });
  }

  /** What SQS refused comes back after an exponential, jittered delay; the lease is replaced by it. */
  private async backOff(rows: OutboxRow[], failed: Array<{ id: number; error: string }>): Promise<void> {
    const { db } = this.options;
    await withTransaction(db, async (trx) => {
      for (const { id, error } of failed) {
        const row = rows.find((candidate) => Number(candidate.id) === id);
        if (row === undefined) continue;
        const attempts = row.attempts + 1;
        const backoffSeconds = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(attempts, 10)) * (0.5 + Math.random() / 2);
        await trx('outbox')
          .where({ restaurant_id: Number(row.restaurant_id), id })
          .whereNull('sent_at')
          .update({ attempts, last_error: error.slice(0, 500), available_at: trx.raw(`now() + make_interval(secs => ?)`, [backoffSeconds]) });
      }
    });
  }
}
