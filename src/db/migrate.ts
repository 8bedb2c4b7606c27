import type { Knex } from 'knex';
import { migrations, type Migration } from '../../migrations/index.js';

const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => migrations.map(([, migration]) => migration),
  getMigrationName: (migration) => migrations.find(([, m]) => m === migration)?.[0] ?? 'unknown',
  getMigration: async (migration) => migration,
};

/** For tests and tools that step the schema back (knex.migrate.rollback / down). */
export const migratorConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/** Runs every pending migration, each in its own transaction; a no-op when the schema is current. */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(migratorConfig)) as [number, string[]];
  return applied;
}

/** Names of migrations this build knows but the database has not run (empty when current). */
export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const [, pending] = (await knex.migrate.list(migratorConfig)) as [unknown[], Migration[]];
  return pending.map((migration) => migrationSource.getMigrationName(migration));
}
