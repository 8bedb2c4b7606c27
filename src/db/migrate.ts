import type { Knex } from 'knex';
import { migrations, type Migration } from '../../migrations/index.js';
import { sqlState } from './transaction.js';

const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => migrations.map(([, migration]) => migration),
  getMigrationName: (migration) => migrations.find(([, m]) => m === migration)?.[0] ?? 'unknown',
  getMigration: async (migration) => migration,
};

/** For tests and tools that step the schema back (knex.migrate.rollback / down). */
export const migratorConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

// Two `CREATE TABLE IF NOT EXISTS` at the same instant: the second fails on the catalog (unique index,
// table or row type already there) instead of finding the table.
const CREATE_RACE_STATES = new Set(['23505', '42P07', '42710']);
const LOCK_WAIT_MS = 250;
const LOCK_ATTEMPTS = 120;

/**
 * knex creates its two tables, and the lock table's one row, by looking first and writing after: on a
 * fresh database two processes migrating at once (pm2 cluster instances, which migrate at start outside
 * production) both fail to create a table or both write the row, and a lock table of two rows can never
 * be locked again. Written as below, these can race only into "already there"; knex then finds them.
 * The column types are the ones knex gives them.
 */
async function ensureMigrationTables(knex: Knex): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await knex.raw(
        `CREATE TABLE IF NOT EXISTS ${migratorConfig.tableName} (id serial PRIMARY KEY, name varchar(255), batch integer, migration_time timestamptz)`,
      );
      await knex.raw(`CREATE TABLE IF NOT EXISTS ${migratorConfig.tableName}_lock (index serial PRIMARY KEY, is_locked integer)`);
      await knex.raw(`INSERT INTO ${migratorConfig.tableName}_lock (index, is_locked) VALUES (1, 0) ON CONFLICT DO NOTHING`);
      return;
    } catch (error) {
      if (attempt >= 3 || !CREATE_RACE_STATES.has(sqlState(error) ?? '')) throw error;
    }
  }
}

/**
 * Runs every pending migration, all in one transaction; a no-op when the schema is current. Processes
 * migrating at once take turns: the transaction waits on knex's lock row, and one that finds the lock
 * taken outside a transaction (a migration that opts out of one) tries again.
 */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  await ensureMigrationTables(knex);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const [, applied] = (await knex.migrate.latest(migratorConfig)) as [number, string[]];
      return applied;
    } catch (error) {
      if ((error as Error).name !== 'MigrationLocked' || attempt >= LOCK_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, LOCK_WAIT_MS));
    }
  }
}

/** Names of migrations this build knows but the database has not run (empty when current). */
export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const [, pending] = (await knex.migrate.list(migratorConfig)) as [unknown[], Migration[]];
  return pending.map((migration) => migrationSource.getMigrationName(migration));
}
