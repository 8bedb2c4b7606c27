import type { Knex } from 'knex';
import type { Clock } from './lib/clock.js';
import { sweepSentOutbox } from './queue/retention.js';
import { sweepWebhookHistory } from './modules/webhooks/retention.js';
import { sweepPastSlotBookings } from './modules/schedule/retention.js';

export interface RetentionSweep {
  outbox: number;
  webhookDeliveries: number;
  webhookEvents: number;
  slotBookings: number;
}

/**
 * The rows nobody needs once they are old, removed so the tables a busy service writes on every order stay
 * the size of their useful window rather than of the service's whole life. Each part keeps what is still
 * in use (unsent outbox rows, pending deliveries, future slots) whatever its age.
 */
export async function sweepRetention(db: Knex, clock: Clock): Promise<RetentionSweep> {
  const now = clock();
  const outbox = await sweepSentOutbox(db, now);
  const webhooks = await sweepWebhookHistory(db, now);
  const slotBookings = await sweepPastSlotBookings(db, now);
  return { outbox, webhookDeliveries: webhooks.deliveries, webhookEvents: webhooks.events, slotBookings };
}
