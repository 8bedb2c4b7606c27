import type { Knex } from 'knex';
import { runSql } from './sql.js';

export async function up(knex: Knex): Promise<void> {
  await runSql(
    knex,
    `
    CREATE TABLE customers (
      restaurant_id bigint NOT NULL REFERENCES restaurants (id),
      id            bigint GENERATED ALWAYS AS IDENTITY,
      user_sub      text NOT NULL CHECK (length(user_sub) BETWEEN 1 AND 128),
      email         text CHECK (length(email) <= 80),
      name          text CHECK (length(name) <= 30),
      phone         text CHECK (phone ~ '^\\+[1-9][0-9]{1,14}$'),
      address       text CHECK (length(address) <= 200),
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (restaurant_id, id),
      CONSTRAINT customers_one_per_user UNIQUE (restaurant_id, user_sub)
    );
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, 'DROP TABLE customers;');
}
