import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Request } from 'express';
import { createTestApp, type TestApp } from './support/app.js';
import { catalogClient } from './support/catalog.js';
import { createRestaurant } from './support/factories.js';
import { signInStaff } from './support/users.js';
import { createTenantResolver, type Tenant } from '../src/http/tenant.js';
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
      let at = Date.parse('2026-12-01T18:00:00Z');
      const resolver = createTenantResolver((domain) => findRestaurantByDomain(t.db.knex, domain), {
        ttlMs: 5_000,
        maxEntries: 1,
        clock: () => new Date(at),
      });
      expect((await resolver.resolve(requestFor(a.domain))).id).toBe(a.id);
      await resolver.resolve(requestFor(a.domain));
      expect(lookups).toBe(1);
      at += 10_001; // past its time and past the grace after it: looked up before answering
      await resolver.resolve(requestFor(a.domain));
      expect(lookups).toBe(2);
      // One entry at most: b pushes a out, so a is looked up again.
      await resolver.resolve(requestFor('ttl-b.example.com'));
      await resolver.resolve(requestFor(a.domain));
      expect(lookups).toBe(4);
      resolver.forget(a.domain);
      await resolver.resolve(requestFor(a.domain));
      expect(lookups).toBe(5);
    } finally {
      t.db.knex.off('query', count);
    }
  });
});

const requestFor = (domain: string) => ({ get: (name: string) => (name.toLowerCase() === 'x-restaurant-domain' ? domain : undefined) }) as unknown as Request;

/** A lookup the test answers by hand, counting the queries it was asked for. */
function manualLookup() {
  const asked: Array<{ domain: string; answer: (tenant: Tenant | undefined) => void; fail: (error: Error) => void }> = [];
  const lookup = (domain: string) =>
    new Promise<Tenant | undefined>((resolve, reject) => {
      asked.push({ domain, answer: resolve, fail: reject });
    });
  return { asked, lookup };
}

const tenant = (name: string): Tenant => ({ id: 7, domain: 'herd.example.com', name, currency: 'EUR', timezone: 'Europe/Paris' });
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A resolver on a clock the test moves, that has already looked the domain up once and remembers `name`. */
async function resolverRemembering(name: string) {
  const { asked, lookup } = manualLookup();
  const clock = { at: Date.parse('2026-12-01T18:00:00Z') };
  const resolver = createTenantResolver(lookup, { ttlMs: 5_000, clock: () => new Date(clock.at) });
  const first = resolver.resolve(requestFor('herd.example.com'));
  await settle();
  asked[0]?.answer(tenant(name));
  await first;
  return { asked, clock, resolver };
}

describe('the tenant resolver under many requests at once', () => {
  it('looks a domain up once for all the requests waiting for it', async () => {
    const { asked, lookup } = manualLookup();
    const resolver = createTenantResolver(lookup);
    const waiting = Array.from({ length: 50 }, () => resolver.resolve(requestFor('herd.example.com')));
    await settle();
    expect(asked).toHaveLength(1);
    asked[0]?.answer(tenant('Herd'));
    expect((await Promise.all(waiting)).map((t) => t.name)).toEqual(Array(50).fill('Herd'));
    await resolver.resolve(requestFor('herd.example.com'));
    expect(asked).toHaveLength(1);
  });

  it('once its time is up, answers at once from memory while one query refreshes it, then with what that read', async () => {
    const { asked, clock, resolver } = await resolverRemembering('Old name');

    clock.at += 6_000;
    const during = await Promise.all(Array.from({ length: 20 }, () => resolver.resolve(requestFor('herd.example.com'))));
    expect(during.map((t) => t.name)).toEqual(Array(20).fill('Old name'));
    expect(asked).toHaveLength(2);
    asked[1]?.answer(tenant('New name'));
    await settle();
    expect((await resolver.resolve(requestFor('herd.example.com'))).name).toBe('New name');
    expect(asked).toHaveLength(2);
  });

  it('a refresh that fails leaves the remembered tenant, and the next request tries again', async () => {
    const { asked, clock, resolver } = await resolverRemembering('Herd');
    clock.at += 6_000;
    expect((await resolver.resolve(requestFor('herd.example.com'))).name).toBe('Herd');
    asked[1]?.fail(new Error('connection reset'));
    await settle();
    expect((await resolver.resolve(requestFor('herd.example.com'))).name).toBe('Herd');
    expect(asked).toHaveLength(3);
  });

  it('past twice its time, waits for the query rather than answer from memory', async () => {
    const { asked, clock, resolver } = await resolverRemembering('Old name');
    clock.at += 10_001;
    const late = resolver.resolve(requestFor('herd.example.com'));
    await settle();
    expect(asked).toHaveLength(2);
    asked[1]?.answer(tenant('New name'));
    expect((await late).name).toBe('New name');
  });

  it('a lookup that was under way when the domain was forgotten is not remembered', async () => {
    const { asked, lookup } = manualLookup();
    const resolver = createTenantResolver(lookup);
    const before = resolver.resolve(requestFor('herd.example.com'));
    await settle();
    resolver.forget('herd.example.com'); // the restaurant changed while the query read it
    asked[0]?.answer(tenant('Read before the change'));
    expect((await before).name).toBe('Read before the change');
    const after = resolver.resolve(requestFor('herd.example.com'));
    await settle();
    expect(asked).toHaveLength(2);
    asked[1]?.answer(tenant('After the change'));
    expect((await after).name).toBe('After the change');
  });

  it('an unknown domain is 404 for every request waiting, and not remembered', async () => {
    const { asked, lookup } = manualLookup();
    const resolver = createTenantResolver(lookup);
    const waiting = Array.from({ length: 3 }, () => resolver.resolve(requestFor('nobody.example.com')).catch((error: unknown) => error));
    await settle();
    asked[0]?.answer(undefined);
    for (const outcome of await Promise.all(waiting)) expect(outcome).toMatchObject({ status: 404, code: 'restaurant_not_found' });
    const again = resolver.resolve(requestFor('nobody.example.com')).catch((error: unknown) => error);
    await settle();
    expect(asked).toHaveLength(2);
    asked[1]?.answer(undefined);
    await again;
  });
});
