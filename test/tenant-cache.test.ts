import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Request } from 'express';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signInStaff } from './support/users.js';
import { createTenantResolver } from '../src/http/tenant.js';
import { findRestaurantByDomain } from '../src/modules/restaurants/service.js';

// Requests remember which restaurant a domain is for a few seconds (src/http/tenant.ts); none of that may
// show through the API.
describe('the restaurant a request is for, remembered briefly', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('shows a renamed restaurant at once: through this process, and when another process renamed it', async () => {
    const restaurant = await createRestaurant(t.db.knex, { domain: 'rename.example.com', name: 'Old name' });
    const api = catalogClient(t.app, restaurant.domain);
    const manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    expect((await api.get('/v1/restaurant')).body.name).toBe('Old name');

    expect((await api.patch('/v1/restaurant', { name: 'New name' }, manager)).body.name).toBe('New name');
    expect((await api.get('/v1/restaurant')).body.name).toBe('New name');

    // As another instance would: straight in the database, behind this process's back.
    await t.db.knex('restaurants').where({ id: restaurant.id }).update({ name: 'Renamed elsewhere', timezone: 'Asia/Tokyo' });
    expect((await api.get('/v1/restaurant')).body).toMatchObject({ name: 'Renamed elsewhere', timezone: 'Asia/Tokyo' });
  });

  it('serves a restaurant created after its domain was asked for (unknown domains are not remembered)', async () => {
    const api = catalogClient(t.app, 'late.example.com');
    expect((await api.get('/v1/restaurant')).status).toBe(404);
    await createRestaurant(t.db.knex, { domain: 'late.example.com', name: 'Late' });
    expect((await api.get('/v1/restaurant')).body.name).toBe('Late');
  });

  it('looks a domain up again once its time is up, and keeps a bounded number of domains', async () => {
    const a = await createRestaurant(t.db.knex, { domain: 'ttl-a.example.com' });
    await createRestaurant(t.db.knex, { domain: 'ttl-b.example.com' });
    let lookups = 0;
    const count = () => {
      lookups += 1;
    };
    t.db.knex.on('query', count);
    try {
      const resolver = createTenantResolver((domain) => findRestaurantByDomain(t.db.knex, domain), { ttlMs: 50, maxEntries: 1 });
      const req = (domain: string) => ({ get: (name: string) => (name.toLowerCase() === 'x-restaurant-domain' ? domain : undefined) }) as unknown as Request;
      expect((await resolver.resolve(req(a.domain))).id).toBe(a.id);
      await resolver.resolve(req(a.domain));
      expect(lookups).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 60));
      await resolver.resolve(req(a.domain));
      expect(lookups).toBe(2);
      // One entry at most: b pushes a out, so a is looked up again.
      await resolver.resolve(req('ttl-b.example.com'));
      await resolver.resolve(req(a.domain));
      expect(lookups).toBe(4);
      resolver.forget(a.domain);
      await resolver.resolve(req(a.domain));
      expect(lookups).toBe(5);
    } finally {
      t.db.knex.off('query', count);
    }
  });
});
