import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import sharp from 'sharp';
import { DEMO_DOMAIN, DEMO_MENU, seedDemoRestaurant } from '../seeds/demo-restaurant.js';
import { BISTRO_DOMAIN, BISTRO_MENU, seedBistroRestaurant } from '../seeds/bistro-restaurant.js';
import { demoPictureSvg, seedDemoPictures } from '../seeds/demo-pictures.js';
import { createTestApp, silentLogger, type TestApp } from './support/app.js';
import { signInStaff } from './support/users.js';
import { captureLog, type CapturedLog } from './support/log-capture.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { loadConfig } from '../src/config/config.js';
import { startService } from '../src/service.js';

interface MenuRecipe {
  id: number;
  name: string;
  image: { url: string; width: number; height: number; variants: { thumb: string; medium: string; large: string } } | null;
}

describe('the demo menu’s pictures', () => {
  let t: TestApp;
  let restaurantId: number;
  const deps = () => ({ db: t.db.knex, media: t.media, logger: silentLogger });
  const menu = async (): Promise<MenuRecipe[]> => {
    const res = await request(t.app).get('/v1/recipes?limit=100').set('X-Restaurant-Domain', DEMO_DOMAIN);
    expect(res.status, res.text).toBe(200);
    return res.body.data as MenuRecipe[];
  };
  const fetchImage = async (url: string) => {
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    return sharp(Buffer.from(await res.arrayBuffer())).metadata();
  };

  beforeAll(async () => {
    t = await createTestApp();
    restaurantId = (await seedDemoRestaurant(t.db.knex)).restaurantId;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('gives every demo dish a picture a browser can load, in every size the contract names', async () => {
    expect(await seedDemoPictures(deps(), DEMO_DOMAIN, DEMO_MENU)).toBe(DEMO_MENU.recipes.length);
    const recipes = await menu();
    expect(recipes).toHaveLength(DEMO_MENU.recipes.length);
    for (const recipe of recipes) expect(recipe.image, recipe.name).toMatchObject({ width: 1200, height: 900 });
    const burger = recipes.find((recipe) => recipe.name === 'Classic Cheeseburger');
    const image = burger?.image;
    if (image === undefined || image === null) throw new Error('the cheeseburger has no picture');
    expect(await fetchImage(image.url)).toMatchObject({ format: 'webp', width: 1200, height: 900 });
    expect(await fetchImage(image.variants.thumb)).toMatchObject({ width: 200, height: 150 });
    expect(await fetchImage(image.variants.medium)).toMatchObject({ width: 600, height: 450 });
  });

  it('draws each dish from what it is made of, so two dishes never share a picture', () => {
    const drawings = new Set(DEMO_MENU.recipes.map((recipe) => demoPictureSvg(recipe)));
    expect(drawings.size).toBe(DEMO_MENU.recipes.length);
    const margherita = DEMO_MENU.recipes.find((recipe) => recipe.name === 'Pizza Margherita');
    if (margherita === undefined) throw new Error('no margherita on the demo menu');
    const withoutBasil = { ...margherita, ingredients: margherita.ingredients.filter((line) => line.ingredient !== 'Fresh basil') };
    expect(demoPictureSvg(withoutBasil)).not.toBe(demoPictureSvg(margherita));
  });

  it('draws nothing on a later start, and never replaces a picture a manager uploaded or touches a dish staff added', async () => {
    const before = await menu();
    const manager = await signInStaff(t.cognito, t.db.knex, restaurantId, 'manager');
    const fries = before.find((recipe) => recipe.name === 'Fries');
    if (fries === undefined) throw new Error('no fries on the demo menu');
    const photo = await sharp({ create: { width: 800, height: 800, channels: 3, background: '#ffcc00' } })
      .jpeg()
      .toBuffer();
    const uploaded = await request(t.app)
      .put(`/v1/recipes/${fries.id}/image`)
      .set('X-Restaurant-Domain', DEMO_DOMAIN)
      .set('Authorization', manager.auth)
      .set('Content-Type', 'image/jpeg')
      .send(photo);
    expect(uploaded.status, uploaded.text).toBe(200);
    // A dish of the staff's own, without a picture.
    const [added] = await t.db
      .knex('recipes')
      .insert({ restaurant_id: restaurantId, name: 'Chef’s special', description: '', category: 'Specials' })
      .returning('id');

    expect(await seedDemoPictures(deps(), DEMO_DOMAIN, DEMO_MENU)).toBe(0);
    const after = await menu();
    expect(after.find((recipe) => recipe.name === 'Fries')?.image).toMatchObject({ width: 800, height: 800 });
    const unchanged = (list: MenuRecipe[]) =>
      list.filter((recipe) => recipe.name !== 'Fries' && recipe.image !== null).map((recipe) => [recipe.id, recipe.image?.url]);
    expect(unchanged(after)).toEqual(unchanged(before));
    expect(await t.db.knex('recipes').where({ restaurant_id: restaurantId, id: added.id }).first('image_id')).toEqual({ image_id: null });
  });

  it('stops drawing once the service stops', async () => {
    const bistro = await seedBistroRestaurant(t.db.knex);
    const stopping = new AbortController();
    stopping.abort();
    expect(await seedDemoPictures(deps(), BISTRO_DOMAIN, BISTRO_MENU, stopping.signal)).toBe(0);
    const drawn = await t.db.knex('recipes').where({ restaurant_id: bistro.restaurantId }).whereNotNull('image_id');
    expect(drawn).toHaveLength(0);
  });

  it('draws nothing for a restaurant that was never seeded', async () => {
    expect(await seedDemoPictures(deps(), 'nowhere.example.com', DEMO_MENU)).toBe(0);
  });
});

describe('the demo pictures at the service’s start', () => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-demo-pictures-'));
    env = { PORT: '0', METRICS_PORT: 'off', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '2000' };
    db = await createTestDatabase();
    if (db.url !== undefined) env.DATABASE_URL = db.url;
    else {
      // PGlite allows one user of a data directory: the service gets its own, fresh one.
      await db.destroy();
      db = undefined;
    }
  });
  afterAll(async () => {
    await db?.destroy();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const picturedCount = async (port: number, domain: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/recipes?limit=100`, { headers: { 'X-Restaurant-Domain': domain } });
    const body = (await res.json()) as { data: MenuRecipe[] };
    return body.data.filter((recipe) => recipe.image !== null).length;
  };

  it('answers at once, shows every demo dish with a picture soon after, and draws none on the next start', async () => {
    const firstLog = captureLog('info');
    const first = await startService(loadConfig(env), firstLog.logger);
    try {
      expect((await fetch(`http://127.0.0.1:${first.port}/healthz`)).status).toBe(200);
      const deadline = Date.now() + 90_000;
      while (
        (await picturedCount(first.port, DEMO_DOMAIN)) + (await picturedCount(first.port, BISTRO_DOMAIN)) <
        DEMO_MENU.recipes.length + BISTRO_MENU.recipes.length
      ) {
        if (Date.now() > deadline) throw new Error('the demo pictures were not drawn within 90 s');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      await first.stop();
    }
    const drawnLog = (log: CapturedLog) => log.records().filter((record) => record.msg === 'demo pictures drawn');
    expect(drawnLog(firstLog).map((record) => record.pictures)).toEqual([DEMO_MENU.recipes.length + BISTRO_MENU.recipes.length]);

    const secondLog = captureLog('info');
    const second = await startService(loadConfig(env), secondLog.logger);
    try {
      expect(await picturedCount(second.port, DEMO_DOMAIN)).toBe(DEMO_MENU.recipes.length);
    } finally {
      await second.stop();
    }
    expect(drawnLog(secondLog)).toEqual([]);
  }, 180_000);
});
