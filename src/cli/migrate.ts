import { ConfigError, loadDatabaseConfig } from '../config/config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

/** `npm run migrate`: the deploy step that brings the schema current before new instances start. */
try {
  const database = await createDatabase(loadDatabaseConfig(process.env));
  try {
    const applied = await migrateToLatest(database.knex);
    process.stdout.write(applied.length === 0 ? 'The schema is current.\n' : `Applied: ${applied.join(', ')}\n`);
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(`tablekit migrate: ${error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
