import type { Knex } from 'knex';
import { runSql } from './sql.js';

export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE idempotency_keys (
      restaurant_id bigint NOT NULL REFERENCES restaurants (id),
      user_sub      text NOT NULL CHECK (length(user_sub) BETWEEN 1 AND 128),
      key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
      request_hash  text NOT NULL,
      status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed')),
      response_code integer CHECK (response_code BETWEEN 100 AND 599),
      response_body jsonb,
      locked_at     timestamptz,
      created_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, user_sub, key),
      CHECK ((status = 'completed') = (response_code IS NOT NULL))
    );
    -- Keys are swept after 24 hours.
    CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

    -- Written in the same transaction as the change it announces; the relay sends it to SQS afterwards.
    CREATE TABLE outbox (
      restaurant_id bigint NOT NULL REFERENCES restaurants (id),
      id            bigint GENERATED ALWAYS AS IDENTITY,
      type          text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
      payload       jsonb NOT NULL,
      attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      available_at  timestamptz NOT NULL DEFAULT now(),
      last_error    text,
      created_at    timestamptz NOT NULL DEFAULT now(),
      sent_at       timestamptz,
      PRIMARY KEY (restaurant_id, id)
    );
    CREATE INDEX outbox_unsent ON outbox (available_at, id) WHERE sent_at IS NULL;
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE outbox; DROP TABLE idempotency_keys;');
}
