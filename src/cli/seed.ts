import { ConfigError, loadConfig } from '../config/config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { pino } from 'pino';
import { DEMO_DOMAIN, DEMO_MENU, seedDemoRestaurant } from '../../seeds/demo-restaurant.js';
import { BISTRO_DOMAIN, BISTRO_MENU, seedBistroRestaurant } from '../../seeds/bistro-restaurant.js';
import { seedDemoPictures } from '../../seeds/demo-pictures.js';
import { startMediaStore } from '../modules/media/start.js';

/**
 * `npm run seed`: the demo restaurants (demo.localhost, and bistro.localhost with opening hours) and their
 * drawn pictures, for a real database in development. It names no manager: with real Cognito, add one with `PUT /v1/staff/{user_sub}`
 * as a platform admin.
 */
try {
  const config = loadConfig(process.env);
  if (config.env === 'production') throw new ConfigError('the demo seed is not for production');
  const database = await createDatabase(config.database);
  try {
    await migrateToLatest(database.knex);
    const media = await startMediaStore(config.media, config.queue.region);
    try {
      for (const [domain, seed, menu] of [
        [DEMO_DOMAIN, seedDemoRestaurant, DEMO_MENU],
        [BISTRO_DOMAIN, seedBistroRestaurant, BISTRO_MENU],
      ] as const) {
        const result = await seed(database.knex);
        process.stdout.write(result.created ? `Seeded ${domain} (restaurant ${result.restaurantId}).\n` : `${domain} already exists; its menu is kept.\n`);
        const drawn = await seedDemoPictures({ db: database.knex, media: media.store, logger: pino({ level: 'warn' }) }, domain, menu);
        if (drawn > 0) process.stdout.write(`Drew ${drawn} pictures for ${domain}.\n`);
      }
    } finally {
      await media.stop();
    }
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(`tablekit seed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
