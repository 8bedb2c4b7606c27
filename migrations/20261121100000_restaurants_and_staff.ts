import type { Knex } from 'knex';
import { runSql } from './sql.js';

// Every tenant table carries restaurant_id in its primary and foreign keys, so no join can cross
// tenants by mistake and the schema can later be distributed by restaurant_id (Citus).
export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE restaurants (
      id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      domain      text NOT NULL CHECK (domain = lower(domain) AND length(domain) BETWEEN 3 AND 253
                    AND domain ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'),
      name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      timezone    text NOT NULL CHECK (length(timezone) BETWEEN 1 AND 64),
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT restaurants_domain_unique UNIQUE (domain)
    );

    CREATE TABLE staff_members (
      restaurant_id bigint NOT NULL REFERENCES restaurants (id),
      user_sub      text NOT NULL CHECK (length(user_sub) BETWEEN 1 AND 128),
      email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
      role          text NOT NULL CHECK (role IN ('manager', 'kitchen')),
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, user_sub)
    );
    CREATE INDEX staff_members_by_user ON staff_members (user_sub);
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE staff_members; DROP TABLE restaurants;');
}
