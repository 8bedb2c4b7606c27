import { ConfigError, loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { seedDemoRestaurant } from '../../seeds/demo-restaurant.js';

/**
 * `npm run seed`: the demo restaurant, for a real database in development. It names no manager: with
 * real Cognito, add one with `PUT /v1/staff/{user_sub}` as a platform admin.
 */
try {
  const config = loadConfig(process.env);
  if (config.env === 'production') throw new ConfigError('the demo seed is not for production');
  const database = await createDatabase(config.database);
  try {
    await migrateToLatest(database.knex);
    const result = await seedDemoRestaurant(database.knex);
    process.stdout.write(result.created ? `Seeded demo restaurant ${result.restaurantId}.\n` : 'The demo restaurant already exists; nothing changed.\n');
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(`tablekit seed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
