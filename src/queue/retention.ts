import type { Knex } from 'knex';
import { deleteInBatches } from '../db/batch-delete.js';

/** How long a sent outbox row is kept: long enough to answer "was the kitchen ever asked?" about last week. */
export const SENT_OUTBOX_RETENTION_DAYS = 7;

/** Outbox rows sent before `now` less the retention; unsent rows are never touched, however old. */
export async function sweepSentOutbox(db: Knex, now: Date): Promise<number> {
  const before = new Date(now.getTime() - SENT_OUTBOX_RETENTION_DAYS * 86_400_000);
  return deleteInBatches(db, 'outbox', 'sent_at IS NOT NULL AND sent_at < ?', [before]);
}
