import { ConfigError, loadConfig } from '../config/config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { DEMO_DOMAIN, seedDemoRestaurant } from '../../seeds/demo-restaurant.js';
import { BISTRO_DOMAIN, seedBistroRestaurant } from '../../seeds/bistro-restaurant.js';

/**
 * `npm run seed`: the demo restaurants (demo.localhost, and bistro.localhost with opening hours), for a real
 * database in development. It names no manager: with real Cognito, add one with `PUT /v1/staff/{user_sub}`
 * as a platform admin.
 */
try {
  const config = loadConfig(process.env);
  if (config.env === 'production') throw new ConfigError('the demo seed is not for production');
  const database = await createDatabase(config.database);
  try {
    await migrateToLatest(database.knex);
    for (const [domain, seed] of [
      [DEMO_DOMAIN, seedDemoRestaurant],
      [BISTRO_DOMAIN, seedBistroRestaurant],
    ] as const) {
      const result = await seed(database.knex);
      process.stdout.write(result.created ? `Seeded ${domain} (restaurant ${result.restaurantId}).\n` : `${domain} already exists; nothing changed.\n`);
    }
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(`tablekit seed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
