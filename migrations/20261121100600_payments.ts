import type { Knex } from 'knex';
import { runSql } from './sql.js';

export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE payments (
      restaurant_id       bigint NOT NULL,
      id                  bigint GENERATED ALWAYS AS IDENTITY,
      order_id            bigint NOT NULL,
      method              text NOT NULL CHECK (method IN ('card', 'cash')),
      provider            text NOT NULL CHECK (length(provider) BETWEEN 1 AND 30),
      provider_payment_id text CHECK (length(provider_payment_id) <= 255),
      status              text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
      amount_cents        integer NOT NULL CHECK (amount_cents > 0),
      refunded_cents      integer NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0 AND refunded_cents <= amount_cents),
      currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      failure_code        text CHECK (length(failure_code) <= 100),
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      FOREIGN KEY (restaurant_id, order_id) REFERENCES orders (restaurant_id, id)
    );
    CREATE INDEX payments_by_order ON payments (restaurant_id, order_id, id);
    CREATE UNIQUE INDEX payments_provider_id_unique ON payments (provider, provider_payment_id) WHERE provider_payment_id IS NOT NULL;
    -- The reconciler looks for payments left pending (a crash between our two writes around the provider call).
    CREATE INDEX payments_pending ON payments (created_at) WHERE status = 'pending';

    CREATE TABLE refunds (
      restaurant_id      bigint NOT NULL,
      id                 bigint GENERATED ALWAYS AS IDENTITY,
      payment_id         bigint NOT NULL,
      amount_cents       integer NOT NULL CHECK (amount_cents > 0),
      status             text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
      provider_refund_id text CHECK (length(provider_refund_id) <= 255),
      user_sub           text CHECK (length(user_sub) <= 128),
      created_at         timestamptz NOT NULL DEFAULT now(),
      updated_at         timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      FOREIGN KEY (restaurant_id, payment_id) REFERENCES payments (restaurant_id, id)
    );
    CREATE INDEX refunds_by_payment ON refunds (restaurant_id, payment_id, id);
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE refunds; DROP TABLE payments;');
}
