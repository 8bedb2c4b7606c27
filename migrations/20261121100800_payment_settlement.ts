import type { Knex } from 'knex';
import { runSql } from './sql.js';

/**
 * What settling money around a provider call needs beyond the payments and refunds tables: the key we
 * send the provider (so a retry or a reconciliation never charges or refunds twice), the client secret
 * a 3-D Secure payment hands the frontend, the client's Idempotency-Key (so a retry after a crash
 * resumes the same payment or refund), at most one payment in flight per order, and the provider
 * events already handled (webhooks are delivered at least once).
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    ALTER TABLE payments
      ADD COLUMN provider_idempotency_key text CHECK (length(provider_idempotency_key) BETWEEN 1 AND 255),
      ADD COLUMN client_secret text CHECK (length(client_secret) BETWEEN 1 AND 500),
      -- The client's Idempotency-Key: a retry after a crash resumes this payment instead of starting another.
      ADD COLUMN request_key text CHECK (length(request_key) BETWEEN 1 AND 255);
    CREATE INDEX payments_by_request_key ON payments (restaurant_id, order_id, request_key) WHERE request_key IS NOT NULL;
    CREATE UNIQUE INDEX payments_provider_idempotency_key_unique ON payments (provider, provider_idempotency_key)
      WHERE provider_idempotency_key IS NOT NULL;
    -- A second charge for an order waits until the one in flight is settled: never two at once.
    CREATE UNIQUE INDEX payments_one_pending_per_order ON payments (restaurant_id, order_id) WHERE status = 'pending';

    ALTER TABLE refunds
      ADD COLUMN provider_idempotency_key text CHECK (length(provider_idempotency_key) BETWEEN 1 AND 255),
      ADD COLUMN failure_code text CHECK (length(failure_code) <= 100),
      ADD COLUMN reason text CHECK (length(reason) <= 200),
      ADD COLUMN request_key text CHECK (length(request_key) BETWEEN 1 AND 255);
    CREATE INDEX refunds_by_request_key ON refunds (restaurant_id, user_sub, request_key) WHERE request_key IS NOT NULL;
    CREATE UNIQUE INDEX refunds_provider_idempotency_key_unique ON refunds (provider_idempotency_key)
      WHERE provider_idempotency_key IS NOT NULL;
    -- The reconciler looks for refunds left pending (a crash around the provider call).
    CREATE INDEX refunds_pending ON refunds (created_at) WHERE status = 'pending';

    -- Provider events are platform-wide (one provider account serves every restaurant), so no restaurant_id.
    CREATE TABLE payment_webhook_events (
      provider    text NOT NULL CHECK (length(provider) BETWEEN 1 AND 30),
      event_id    text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
      type        text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (provider, event_id)
    );
    CREATE INDEX payment_webhook_events_by_age ON payment_webhook_events (received_at);
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    DROP TABLE payment_webhook_events;
    DROP INDEX refunds_by_request_key; DROP INDEX refunds_pending; DROP INDEX refunds_provider_idempotency_key_unique;
    ALTER TABLE refunds DROP COLUMN request_key, DROP COLUMN reason, DROP COLUMN failure_code, DROP COLUMN provider_idempotency_key;
    DROP INDEX payments_by_request_key; DROP INDEX payments_one_pending_per_order; DROP INDEX payments_provider_idempotency_key_unique;
    ALTER TABLE payments DROP COLUMN request_key, DROP COLUMN client_secret, DROP COLUMN provider_idempotency_key;
  `,
  );
}
