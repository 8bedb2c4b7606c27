import type { Knex } from 'knex';
import { runSql } from './sql.js';

/**
 * Tenant ids: how a row of a tenant table gets its `id`.
 *
 *   id = n × 2^20 + restaurant_id
 *
 * where n counts that restaurant's rows of that table (1, 2, 3 …, from a Postgres SEQUENCE of its own,
 * `<table>_id_r<restaurant_id>`). So an id says nothing about any other restaurant: another restaurant's
 * orders do not move this one's numbers. Within a restaurant ids grow in insertion order (newest-first
 * keyset lists keep working); across restaurants they never collide (the low 20 bits differ), so they
 * stay unique per table. Restaurants are limited to ids below 2^20 (a CHECK on `restaurants`) and n to
 * 2^33 − 1 (the sequence's MAXVALUE), so every id is at most 2^53 − 1: exact in JavaScript.
 *
 * A sequence hands out numbers without a lock held to commit, so two checkouts of one restaurant never
 * wait for each other here (a counter row would serialise them). Each counter is created the first time
 * its restaurant inserts into its table (the only insert that may wait: for another transaction creating
 * the same counter), starts above the ids that restaurant already has, and is OWNED BY the table's `id`
 * column, so dropping the table drops its counters. The role that inserts must be the one that owns the
 * tables (as here: the service and `npm run migrate` use the same DATABASE_URL).
 *
 * A new tenant table (one with `restaurant_id` and `id bigint NOT NULL`, the primary key being
 * `(restaurant_id, id)`) gets this in one line of its migration: `await assignTenantIds(knex, 'table')`,
 * and `await removeTenantIds(knex, 'table')` in its `down` (before the table is dropped, or not at all
 * when the table is dropped). test/tenant-ids.test.ts fails for a tenant table that has no tenant ids.
 */
export const TENANT_ID_SHIFT = 2 ** 20;

/** The trigger function and the counter factory it calls; created once by 20261201110000_tenant_ids. */
export const tenantIdFunctions = `
  CREATE FUNCTION tenant_id_counter(table_schema text, table_name text, restaurant bigint, floor bigint)
    RETURNS regclass LANGUAGE plpgsql AS $fn$
  DECLARE
    counter text := quote_ident(table_schema) || '.' || quote_ident(table_name || '_id_r' || restaurant);
    start_at bigint;
  BEGIN
    -- Above the restaurant's existing ids, and above every id the table had when tenant ids came to it.
    EXECUTE format('SELECT coalesce(max(id) / ${TENANT_ID_SHIFT}, 0) + 1 FROM %I.%I WHERE restaurant_id = $1', table_schema, table_name)
      INTO start_at USING restaurant;
    BEGIN
      EXECUTE format('CREATE SEQUENCE %s AS bigint MINVALUE 1 MAXVALUE 8589934591 START %s OWNED BY %I.%I.id',
        counter, greatest(start_at, floor), table_schema, table_name);
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      -- Another transaction created it first (we waited for it to commit): use that one.
      NULL;
    END;
    RETURN counter::regclass;
  END
  $fn$;

  -- TG_ARGV[0]: the table's floor, 1 + (its largest id when tenant ids came to it) / 2^20.
  CREATE FUNCTION tenant_id_assign() RETURNS trigger LANGUAGE plpgsql AS $fn$
  DECLARE
    counter regclass;
  BEGIN
    IF NEW.restaurant_id IS NULL THEN
      RAISE EXCEPTION 'null value in column "restaurant_id" of relation "%"', TG_TABLE_NAME USING ERRCODE = 'not_null_violation';
    END IF;
    IF NEW.restaurant_id NOT BETWEEN 1 AND ${TENANT_ID_SHIFT - 1} THEN
      RAISE EXCEPTION 'restaurant_id % does not fit in a tenant id', NEW.restaurant_id USING ERRCODE = 'check_violation';
    END IF;
    counter := to_regclass(quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME || '_id_r' || NEW.restaurant_id));
    IF counter IS NULL THEN
      counter := tenant_id_counter(TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW.restaurant_id, TG_ARGV[0]::bigint);
    END IF;
    NEW.id := nextval(counter) * ${TENANT_ID_SHIFT} + NEW.restaurant_id;
    RETURN NEW;
  END
  $fn$;
`;

const MAX_TABLE_NAME = 50; // counters are named <table>_id_r<up to 7 digits>, within Postgres' 63 bytes

function checkTableName(table: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(table) || table.length > MAX_TABLE_NAME) {
    throw new Error(`tenant ids need a plain lower-case table name of at most ${MAX_TABLE_NAME} characters, not ${JSON.stringify(table)}`);
  }
}

/**
 * Gives `table` tenant ids from now on: its `id` loses any identity default and a BEFORE INSERT trigger
 * assigns every new row's id (an id given in the INSERT is replaced). Existing rows keep theirs.
 */
export async function assignTenantIds(knex: Knex, table: string): Promise<void> {
  checkTableName(table);
  const row = (await knex.raw(`SELECT coalesce(max(id), 0) AS max FROM ${table}`)) as { rows: Array<{ max: number | string }> };
  const floor = Math.floor(Number(row.rows[0]?.max ?? 0) / TENANT_ID_SHIFT) + 1;
  await runSql(
    knex,
    `
    ALTER TABLE ${table} ALTER COLUMN id DROP IDENTITY IF EXISTS;
    CREATE TRIGGER assign_tenant_id BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION tenant_id_assign('${floor}');
  `,
  );
}

/**
 * Undoes `assignTenantIds`: drops the trigger and the table's counters, and gives `id` back an identity
 * that continues above the largest id, so ids stay unique.
 */
export async function removeTenantIds(knex: Knex, table: string): Promise<void> {
  checkTableName(table);
  await knex.raw(`DROP TRIGGER assign_tenant_id ON ${table}`);
  const counters = (await knex.raw(
    `SELECT d.objid::regclass::text AS name FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = '${table}'::regclass
        AND d.deptype = 'a' AND s.relkind = 'S'`,
  )) as { rows: Array<{ name: string }> };
  for (const { name } of counters.rows) await knex.raw(`DROP SEQUENCE ${name}`);
  await runSql(
    knex,
    `
    ALTER TABLE ${table} ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
    SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce(max(id), 0) + 1, false) FROM ${table};
  `,
  );
}
