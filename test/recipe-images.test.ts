import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import sharp from 'sharp';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { catalogClient, type CatalogClient } from './support/catalog.js';
import { recipeSchema } from '../src/modules/catalog/recipes-schemas.js';

const photo = (format: 'png' | 'jpeg' | 'webp', width = 900, height = 600) =>
  sharp({ create: { width, height, channels: 3, background: { r: 180, g: 120, b: 60 } } })
    .withExif({ IFD0: { Copyright: 'GPS 52.52N 13.40E', Artist: 'phone owner' } })
    [format]()
    .toBuffer();

describe('recipe pictures', () => {
  let t: TestApp;
  let restaurant: RestaurantRow;
  let other: RestaurantRow;
  let a: CatalogClient;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let customer: SignedInUser;
  let otherManager: SignedInUser;
  let recipeId: number;

  const upload = (id: number, body: Buffer | string, type: string, user: SignedInUser = manager, domain = restaurant.domain) =>
    request(t.app).put(`/v1/recipes/${id}/image`).set('X-Restaurant-Domain', domain).set('Authorization', user.auth).set('Content-Type', type).send(body);

  beforeAll(async () => {
    t = await createTestApp();
    restaurant = await createRestaurant(t.db.knex, { domain: 'pictures-a.test' });
    other = await createRestaurant(t.db.knex, { domain: 'pictures-b.test' });
    a = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
    customer = await signInCustomer(t.cognito);
    otherManager = await signInStaff(t.cognito, t.db.knex, other.id, 'manager');
    const ingredient = await a.post('/v1/ingredients', { name: 'Dough', unit: 'piece', price_cents: 300, stock: 10 }, manager);
    expect(ingredient.status, ingredient.text).toBe(201);
    const recipe = await a.post('/v1/recipes', { name: 'Margherita', ingredients: [{ ingredient_id: ingredient.body.id, quantity: 1 }] }, manager);
    expect(recipe.status, recipe.text).toBe(201);
    expect(recipe.body.image).toBeNull();
    recipeId = recipe.body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('takes a PNG with EXIF and serves it back as metadata-free WebP in every size, on the menu too', async () => {
    const res = await upload(recipeId, await photo('png'), 'image/png');
    expect(res.status, res.text).toBe(200);
    const recipe = recipeSchema.parse(res.body);
    expect(recipe.image).toMatchObject({ width: 900, height: 600 });
    const urls = [recipe.image!.url, recipe.image!.variants.thumb, recipe.image!.variants.medium, recipe.image!.variants.large];
    const sizes = [];
    for (const url of urls) {
      const served = await fetch(url);
      expect(served.status, url).toBe(200);
      expect(served.headers.get('content-type')).toBe('image/webp');
      const bytes = Buffer.from(await served.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe('webp');
      expect(meta.exif).toBeUndefined();
      expect(bytes.includes('GPS 52.52N')).toBe(false);
      sizes.push([meta.width, meta.height]);
    }
    expect(sizes).toEqual([
      [900, 600],
      [200, 133],
      [600, 400],
      [900, 600],
    ]);

    const menu = await a.get(`/v1/recipes/${recipeId}`);
    expect(menu.body.image).toEqual(recipe.image);
  });

  it('replaces a picture with new URLs and deletes the old objects', async () => {
    const before = (await a.get(`/v1/recipes/${recipeId}`)).body.image;
    const res = await upload(recipeId, await photo('jpeg', 400, 400), 'image/jpeg');
    expect(res.status, res.text).toBe(200);
    expect(res.body.image.url).not.toBe(before.url);
    expect((await fetch(res.body.image.url)).status).toBe(200);
    expect((await fetch(before.url)).status).toBe(404);
  });

  it('refuses a text file called .png (400), another type (415) and a 6 MB image (413), leaving the picture as it was', async () => {
    const before = (await a.get(`/v1/recipes/${recipeId}`)).body.image;

    const text = await upload(recipeId, 'just some text, not a picture', 'image/png');
    expect([text.status, text.body.code]).toEqual([400, 'validation_failed']);
    const gif = await upload(recipeId, Buffer.from('GIF89a'), 'image/gif');
    expect([gif.status, gif.body.code]).toEqual([415, 'unsupported_media_type']);
    const json = await upload(recipeId, '{"a":1}', 'application/json');
    expect(json.status).toBe(415);
    const big = await upload(recipeId, Buffer.alloc(6 * 1024 * 1024, 1), 'image/png');
    expect([big.status, big.body.code]).toEqual([413, 'payload_too_large']);
    expect(big.body.detail).toMatch(/5 MB/);

    expect((await a.get(`/v1/recipes/${recipeId}`)).body.image).toEqual(before);
  });

  it('lets only this restaurant’s managers change pictures', async () => {
    const png = await photo('png', 50, 50);
    expect((await upload(recipeId, png, 'image/png', kitchen)).status).toBe(403);
    expect((await upload(recipeId, png, 'image/png', customer)).status).toBe(403);
    expect((await upload(recipeId, png, 'image/png', otherManager, other.domain)).status).toBe(404);
    const anonymous = await request(t.app)
      .put(`/v1/recipes/${recipeId}/image`)
      .set('X-Restaurant-Domain', restaurant.domain)
      .set('Content-Type', 'image/png')
      .send(png);
    expect(anonymous.status).toBe(401);
    expect((await upload(999_999, png, 'image/png')).status).toBe(404);
  });

  it('removes a picture: the recipe shows none and its objects are gone; removing again is fine', async () => {
    const before = (await a.get(`/v1/recipes/${recipeId}`)).body.image;
    const removed = await request(t.app)
      .delete(`/v1/recipes/${recipeId}/image`)
      .set('X-Restaurant-Domain', restaurant.domain)
      .set('Authorization', manager.auth);
    expect(removed.status).toBe(204);
    expect((await a.get(`/v1/recipes/${recipeId}`)).body.image).toBeNull();
    expect((await fetch(before.variants.thumb)).status).toBe(404);
    const again = await request(t.app).delete(`/v1/recipes/${recipeId}/image`).set('X-Restaurant-Domain', restaurant.domain).set('Authorization', manager.auth);
    expect(again.status).toBe(204);
  });
});
