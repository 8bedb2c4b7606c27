import type { Knex } from 'knex';
import { runSql } from './sql.js';

/**
 * What the hourly retention sweep (src/retention.ts) looks rows up by, so it reads only what it deletes:
 * sent outbox rows by when they were sent, settled webhook deliveries by their last change, the deliveries
 * of an event (to keep an event some delivery still names), events and slot counts by age.
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
    CREATE INDEX webhook_deliveries_settled ON webhook_deliveries (updated_at) WHERE status <> 'pending';
    CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (restaurant_id, event_id);
    CREATE INDEX webhook_events_by_age ON webhook_events (created_at);
    CREATE INDEX slot_bookings_by_start ON slot_bookings (slot_starts_at);
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    DROP INDEX slot_bookings_by_start;
    DROP INDEX webhook_events_by_age;
    DROP INDEX webhook_deliveries_by_event;
    DROP INDEX webhook_deliveries_settled;
    DROP INDEX outbox_sent;
  `,
  );
}
