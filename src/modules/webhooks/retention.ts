import type { Knex } from 'knex';
import { deleteInBatches } from '../../db/batch-delete.js';

/** How long a settled delivery (and an event none of whose deliveries is left) stays listed. */
export const WEBHOOK_RETENTION_DAYS = 30;

/**
 * Settled deliveries last changed before the retention, then events older than it that no delivery names
 * any more. A pending delivery is never swept, so neither is its event: what is still being delivered stays.
 */
export async function sweepWebhookHistory(db: Knex, now: Date): Promise<{ deliveries: number; events: number }> {
  const before = new Date(now.getTime() - WEBHOOK_RETENTION_DAYS * 86_400_000);
  const deliveries = await deleteInBatches(db, 'webhook_deliveries', `status <> 'pending' AND updated_at < ?`, [before]);
  const events = await deleteInBatches(
    db,
    'webhook_events',
    `created_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.restaurant_id = webhook_events.restaurant_id AND d.event_id = webhook_events.id)`,
    [before],
  );
  return { deliveries, events };
}
