import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { earthRadius } from '@turf/helpers';
import { createTestApp, type TestApp } from './support/app.js';
import { twoRestaurants } from './support/two-restaurants.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import type { SignedInUser } from './support/users.js';
import { problem, type CatalogClient } from './support/catalog.js';
import { AppError, problemOf } from '../src/http/errors.js';
import { distanceMeters, resolveDeliveryZone, shapeContains, type LatLng, type Position, type ZoneShape } from '../src/modules/delivery-zones/geometry.js';
import { zonePageSchema, zoneSchema } from '../src/modules/delivery-zones/schemas.js';
import { deliveryTermsFor, deliveryTermsForOrder, requireDeliveryMinimum } from '../src/modules/delivery-zones/service.js';

const MEAN_EARTH_RADIUS = 6_371_008.8;
const toRadians = (degrees: number) => (degrees * Math.PI) / 180;
const toDegrees = (radians: number) => (radians * 180) / Math.PI;

/** The point `meters` from `from` on the initial bearing `bearing` (degrees), on the sphere of the mean Earth radius. */
function destination(from: LatLng, meters: number, bearing: number): LatLng {
  const delta = meters / MEAN_EARTH_RADIUS;
  const theta = toRadians(bearing);
  const lat1 = toRadians(from.lat);
  const lng1 = toRadians(from.lng);
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(delta) + Math.cos(lat1) * Math.sin(delta) * Math.cos(theta));
  const lng2 = lng1 + Math.atan2(Math.sin(theta) * Math.sin(delta) * Math.cos(lat1), Math.cos(delta) - Math.sin(lat1) * Math.sin(lat2));
  return { lat: toDegrees(lat2), lng: toDegrees(lng2) };
}

const alexanderplatz: LatLng = { lat: 52.5219, lng: 13.4132 };
const square: Position[] = [
  [13.4, 52.5],
  [13.42, 52.5],
  [13.42, 52.52],
  [13.4, 52.52],
  [13.4, 52.5],
];
const squareShape = { type: 'polygon', coordinates: square } as const satisfies ZoneShape;

describe('delivery zone geometry', () => {
  it("measures on Turf's earth radius, which is the mean Earth radius the contract names", () => {
    expect(earthRadius).toBe(MEAN_EARTH_RADIUS);
    // A quarter of a meridian is a quarter of the great circle.
    expect(distanceMeters({ lat: 0, lng: 0 }, { lat: 90, lng: 0 })).toBeCloseTo((Math.PI / 2) * MEAN_EARTH_RADIUS, 6);
  });

  it('counts a point exactly on the circle of a radius as inside, in every direction, and one 1 cm beyond as outside', () => {
    const shape: ZoneShape = { type: 'radius', center: alexanderplatz, meters: 2500 };
    for (let bearing = 0; bearing < 360; bearing += 15) {
      expect(shapeContains(shape, destination(alexanderplatz, 2500, bearing)), `on the edge at ${bearing}°`).toBe(true);
      expect(shapeContains(shape, destination(alexanderplatz, 2500.01, bearing)), `1 cm out at ${bearing}°`).toBe(false);
      expect(shapeContains(shape, destination(alexanderplatz, 2499.99, bearing)), `1 cm in at ${bearing}°`).toBe(true);
    }
    expect(shapeContains(shape, alexanderplatz)).toBe(true);
  });

  it('counts a point on a polygon edge or vertex as inside, and one a hair outside as outside', () => {
    expect(shapeContains(squareShape, { lng: 13.41, lat: 52.5 })).toBe(true); // on the south edge
    expect(shapeContains(squareShape, { lng: 13.42, lat: 52.51 })).toBe(true); // on the east edge
    expect(shapeContains(squareShape, { lng: 13.42, lat: 52.52 })).toBe(true); // a vertex
    expect(shapeContains(squareShape, { lng: 13.41, lat: 52.51 })).toBe(true); // inside
    expect(shapeContains(squareShape, { lng: 13.41, lat: 52.49999999 })).toBe(false);
    expect(shapeContains(squareShape, { lng: 13.42000001, lat: 52.51 })).toBe(false);

    // A slanted edge: the diagonal of a right triangle.
    const triangle: ZoneShape = {
      type: 'polygon',
      coordinates: [
        [0, 0],
        [2, 2],
        [2, 0],
        [0, 0],
      ],
    };
    expect(shapeContains(triangle, { lng: 1, lat: 1 })).toBe(true);
    expect(shapeContains(triangle, { lng: 1.5, lat: 1.5 })).toBe(true);
    expect(shapeContains(triangle, { lng: 1, lat: 1.000000001 })).toBe(false);
  });

  it('resolves overlapping zones by the highest priority, then the lowest fee, then the oldest, whatever their order', () => {
    const everywhere: ZoneShape = { type: 'radius', center: alexanderplatz, meters: 10_000 };
    const cheap = { id: 1, shape: everywhere, fee_cents: 200, priority: 0 };
    const dear = { id: 2, shape: everywhere, fee_cents: 500, priority: 0 };
    const preferred = { id: 3, shape: squareShape, fee_cents: 900, priority: 5 };
    const twin = { id: 4, shape: everywhere, fee_cents: 200, priority: 0 };
    const inSquare = { lng: 13.41, lat: 52.51 };
    const outsideSquare = alexanderplatz;

    for (const zones of [
      [cheap, dear, preferred, twin],
      [twin, preferred, dear, cheap],
    ]) {
      expect(resolveDeliveryZone(zones, inSquare)?.id).toBe(3); // priority beats fee
      expect(resolveDeliveryZone(zones, outsideSquare)?.id).toBe(1); // same priority: lowest fee, then lowest id
    }
    expect(resolveDeliveryZone([dear, twin], outsideSquare)?.id).toBe(4);
    expect(resolveDeliveryZone([cheap, dear], { lat: 48.1, lng: 11.6 })).toBeUndefined();
    expect(resolveDeliveryZone([], alexanderplatz)).toBeUndefined();
  });
});

describe('problem extension members', () => {
  it('are rendered beside the standard members and can never replace one', () => {
    const body = problemOf(new AppError('below_minimum', 422, 'Add more', undefined, undefined, { shortfall_cents: 150, code: 'other', status: 200 }));
    expect(body).toEqual({
      type: 'urn:tablekit:problem:below_minimum',
      title: 'Below the minimum order',
      status: 422,
      code: 'below_minimum',
      detail: 'Add more',
      shortfall_cents: 150,
    });
  });
});

describe('delivery zones', () => {
  let t: TestApp;
  let restaurant: RestaurantRow;
  let other: RestaurantRow;
  let a: CatalogClient;
  let b: CatalogClient;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let customer: SignedInUser;
  let otherManager: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    ({ restaurant, other, a, b, manager, kitchen, customer, otherManager } = await twoRestaurants(t, 'zones'));
  });
  afterAll(async () => {
    await t.close();
  });

  const radiusZone = (overrides: Record<string, unknown> = {}) => ({
    name: 'Centre',
    shape: { type: 'radius', center: alexanderplatz, meters: 3000 },
    fee_cents: 250,
    min_subtotal_cents: 1500,
    ...overrides,
  });
  const create = async (body: Record<string, unknown>, client: CatalogClient = a, user: SignedInUser = manager) => {
    const res = await client.post('/v1/delivery-zones', body, user);
    expect(res.status, res.text).toBe(201);
    return zoneSchema.parse(res.body);
  };
  const paths = (res: Parameters<typeof problem>[0]) => (problem(res, 400, 'validation_failed').errors ?? []).map((error) => error.path);

  it('refuses bad shapes with 400 and the path of what is wrong', async () => {
    const polygon = (coordinates: unknown) => radiusZone({ shape: { type: 'polygon', coordinates } });
    const post = (body: unknown) => a.post('/v1/delivery-zones', body, manager);

    const unclosed = square.slice(0, 4).concat([[13.4, 52.501]]);
    expect(paths(await post(polygon(unclosed)))).toEqual(['shape.coordinates.4']);
    // A bow tie: its two middle edges cross.
    expect(
      paths(
        await post(
          polygon([
            [0, 0],
            [1, 1],
            [1, 0],
            [0, 1],
            [0, 0],
          ]),
        ),
      ),
    ).toEqual(['shape.coordinates']);
    // A vertex touching another edge is a self-intersection too.
    expect(
      paths(
        await post(
          polygon([
            [0, 0],
            [4, 0],
            [4, 4],
            [2, 0],
            [0, 4],
            [0, 0],
          ]),
        ),
      ),
    ).toEqual(['shape.coordinates']);
    expect(
      paths(
        await post(
          polygon([
            [0, 0],
            [1, 0],
            [0, 0],
          ]),
        ),
      ),
    ).toEqual(['shape.coordinates']);
    expect(
      paths(
        await post(
          polygon([
            [0, 0],
            [1, 0],
            [2, 0],
            [0, 0],
          ]),
        ),
      ),
    ).toEqual(['shape.coordinates.0', 'shape.coordinates.2']); // on one line: no area
    expect(
      paths(
        await post(
          polygon([
            [0, 0],
            [1, 0],
            [1, 0],
            [1, 1],
            [0, 0],
          ]),
        ),
      ),
    ).toEqual(['shape.coordinates.2']); // repeated position
    expect(
      paths(
        await post(
          polygon([
            [0, 0],
            [2, 0],
            [1, 0],
            [1, 1],
            [0, 1],
            [0, 0],
          ]),
        ),
      ),
    ).toContain('shape.coordinates.1'); // a spike back
    expect(
      paths(
        await post(
          polygon([
            [0, 0],
            [181, 0],
            [1, 1],
            [0, 0],
          ]),
        ),
      ),
    ).toEqual(['shape.coordinates.1.0']);
    expect(
      paths(
        await post(
          polygon([
            [0, 0],
            [1, -91],
            [1, 1],
            [0, 0],
          ]),
        ),
      ),
    ).toEqual(['shape.coordinates.1.1']);
    expect(
      paths(
        await post(
          polygon([
            [0, 0, 5],
            [1, 0, 5],
            [1, 1, 5],
            [0, 0, 5],
          ]),
        ),
      ),
    ).toContain('shape.coordinates.0');
    expect(paths(await post(polygon('nope')))).toEqual(['shape.coordinates']);

    const radius = (shape: Record<string, unknown>) => radiusZone({ shape: { type: 'radius', center: alexanderplatz, meters: 1000, ...shape } });
    expect(paths(await post(radius({ meters: 0 })))).toEqual(['shape.meters']);
    expect(paths(await post(radius({ meters: -5 })))).toEqual(['shape.meters']);
    expect(paths(await post(radius({ meters: 100_001 })))).toEqual(['shape.meters']);
    expect(paths(await post(radius({ center: { lat: 90.5, lng: 0 } })))).toEqual(['shape.center.lat']);
    expect(paths(await post(radius({ center: { lat: 0, lng: -180.1 } })))).toEqual(['shape.center.lng']);
    expect(paths(await post(radiusZone({ shape: { type: 'circle', center: alexanderplatz, meters: 5 } })))).toEqual(['shape.type']);

    expect(paths(await post(radiusZone({ fee_cents: -1 })))).toEqual(['fee_cents']);
    expect(paths(await post(radiusZone({ min_subtotal_cents: 1.5 })))).toEqual(['min_subtotal_cents']);
    expect(paths(await post(radiusZone({ name: '' })))).toEqual(['name']);
    expect(paths(await post({ name: 'No shape', fee_cents: 0, min_subtotal_cents: 0 }))).toEqual(['shape']);
    expect((await a.get('/v1/delivery-zones', manager)).body.data).toEqual([]);
  });

  it('lets a manager draw, list, read, change and remove zones', async () => {
    const centre = await create(radiusZone());
    expect(centre).toMatchObject({ name: 'Centre', fee_cents: 250, min_subtotal_cents: 1500, free_over_cents: null, priority: 0 });
    expect(centre.shape).toEqual({ type: 'radius', center: alexanderplatz, meters: 3000 });
    const district = await create({ name: 'Mitte', shape: squareShape, fee_cents: 400, min_subtotal_cents: 2000, free_over_cents: 5000, priority: 2 });
    expect(district.shape).toEqual(squareShape);

    const listed = zonePageSchema.parse((await a.get('/v1/delivery-zones', manager)).body);
    expect(listed.data.map((zone) => zone.id)).toEqual([centre.id, district.id]);
    const firstPage = zonePageSchema.parse((await a.get('/v1/delivery-zones?limit=1', manager)).body);
    expect(firstPage.data.map((zone) => zone.id)).toEqual([centre.id]);
    const secondPage = zonePageSchema.parse((await a.get(`/v1/delivery-zones?limit=1&cursor=${firstPage.next_cursor}`, manager)).body);
    expect(secondPage).toEqual({ data: [district], next_cursor: null });
    expect(zoneSchema.parse((await a.get(`/v1/delivery-zones/${district.id}`, manager)).body)).toEqual(district);

    const changed = await a.patch(`/v1/delivery-zones/${centre.id}`, { fee_cents: 300, free_over_cents: 4000, priority: -1 }, manager);
    expect(changed.status, changed.text).toBe(200);
    expect(zoneSchema.parse(changed.body)).toMatchObject({ fee_cents: 300, free_over_cents: 4000, priority: -1, min_subtotal_cents: 1500, name: 'Centre' });
    const cleared = await a.patch(
      `/v1/delivery-zones/${centre.id}`,
      { free_over_cents: null, shape: { type: 'radius', center: alexanderplatz, meters: 1500.5 } },
      manager,
    );
    expect(zoneSchema.parse(cleared.body)).toMatchObject({ free_over_cents: null, shape: { type: 'radius', meters: 1500.5 } });
    expect(
      paths(
        await a.patch(
          `/v1/delivery-zones/${centre.id}`,
          {
            shape: {
              type: 'polygon',
              coordinates: [
                [0, 0],
                [1, 1],
                [1, 0],
                [0, 1],
                [0, 0],
              ],
            },
          },
          manager,
        ),
      ),
    ).toEqual(['shape.coordinates']);
    expect(paths(await a.patch(`/v1/delivery-zones/${centre.id}`, { colour: 'red' }, manager))).toEqual(['']);

    expect((await a.delete(`/v1/delivery-zones/${centre.id}`, manager)).status).toBe(204);
    problem(await a.get(`/v1/delivery-zones/${centre.id}`, manager), 404, 'not_found');
    problem(await a.delete(`/v1/delivery-zones/${centre.id}`, manager), 404, 'not_found');
    problem(await a.patch(`/v1/delivery-zones/${centre.id}`, { fee_cents: 1 }, manager), 404, 'not_found');
    expect(zonePageSchema.parse((await a.get('/v1/delivery-zones', manager)).body).data.map((zone) => zone.id)).toEqual([district.id]);
    expect((await a.delete(`/v1/delivery-zones/${district.id}`, manager)).status).toBe(204);
  });

  it('is for managers only: kitchen staff and customers get 403, anonymous callers 401', async () => {
    const zone = await create(radiusZone());
    for (const user of [kitchen, customer]) {
      problem(await a.get('/v1/delivery-zones', user), 403, 'forbidden');
      problem(await a.get(`/v1/delivery-zones/${zone.id}`, user), 403, 'forbidden');
      problem(await a.post('/v1/delivery-zones', radiusZone(), user), 403, 'forbidden');
      problem(await a.patch(`/v1/delivery-zones/${zone.id}`, { fee_cents: 0 }, user), 403, 'forbidden');
      problem(await a.delete(`/v1/delivery-zones/${zone.id}`, user), 403, 'forbidden');
    }
    problem(await a.get('/v1/delivery-zones'), 401, 'unauthenticated');
    problem(await a.post('/v1/delivery-zones', radiusZone()), 401, 'unauthenticated');
    expect((await a.delete(`/v1/delivery-zones/${zone.id}`, manager)).status).toBe(204);
  });

  it("never shows or changes another restaurant's zones", async () => {
    const zone = await create(radiusZone({ name: 'Ours' }));
    problem(await a.get('/v1/delivery-zones', otherManager), 403, 'forbidden');
    expect(zonePageSchema.parse((await b.get('/v1/delivery-zones', otherManager)).body).data).toEqual([]);
    problem(await b.get(`/v1/delivery-zones/${zone.id}`, otherManager), 404, 'not_found');
    problem(await b.patch(`/v1/delivery-zones/${zone.id}`, { fee_cents: 0 }, otherManager), 404, 'not_found');
    problem(await b.delete(`/v1/delivery-zones/${zone.id}`, otherManager), 404, 'not_found');
    expect(zoneSchema.parse((await a.get(`/v1/delivery-zones/${zone.id}`, manager)).body)).toEqual(zone);
    expect(await deliveryTermsFor(t.db.knex, other.id, alexanderplatz)).toEqual({ kind: 'no_zones' });
    expect((await a.delete(`/v1/delivery-zones/${zone.id}`, manager)).status).toBe(204);
  });

  describe('the terms checkout and the quote deliver with', () => {
    const defaults = { fee_cents: 199, min_subtotal_cents: 1000, free_over_cents: null };

    it("are the restaurant's defaults while it has no zones, with or without a location", async () => {
      const bare = await createRestaurant(t.db.knex);
      expect(await deliveryTermsFor(t.db.knex, bare.id, undefined)).toEqual({ kind: 'no_zones' });
      expect(await deliveryTermsForOrder(t.db.knex, bare.id, undefined, defaults)).toEqual({ ...defaults, zone_id: null });
      expect(await deliveryTermsForOrder(t.db.knex, bare.id, { lat: -33.9, lng: 18.4 }, defaults)).toEqual({ ...defaults, zone_id: null });
    });

    it("are the winning zone's once zones exist; without a location 400, outside every zone 422", async () => {
      const broad = await create(radiusZone({ name: 'Broad', fee_cents: 500, min_subtotal_cents: 1000, free_over_cents: 3000 }));
      const inner = await create({ name: 'Inner', shape: squareShape, fee_cents: 150, min_subtotal_cents: 2500, priority: 1 });
      const cheaperTwin = await create(radiusZone({ name: 'Cheaper twin', fee_cents: 450, min_subtotal_cents: 1200 }));

      const inSquare = { lng: 13.41, lat: 52.5 }; // on the square's edge, and inside both radii
      expect(await deliveryTermsForOrder(t.db.knex, restaurant.id, inSquare, defaults)).toEqual({
        fee_cents: 150,
        min_subtotal_cents: 2500,
        free_over_cents: null,
        zone_id: inner.id,
      });
      const onlyInRadius = destination(alexanderplatz, 3000, 0);
      const result = await deliveryTermsFor(t.db.knex, restaurant.id, onlyInRadius);
      expect(result).toMatchObject({ kind: 'zone', fee_cents: 450, min_subtotal_cents: 1200, free_over_cents: null });
      expect(result.kind === 'zone' ? result.zone.id : undefined).toBe(cheaperTwin.id);

      expect(await deliveryTermsFor(t.db.knex, restaurant.id, undefined)).toEqual({ kind: 'location_required' });
      const missing = await deliveryTermsForOrder(t.db.knex, restaurant.id, undefined, defaults).catch((error: unknown) => error);
      expect(missing).toBeInstanceOf(AppError);
      expect(problemOf(missing as AppError)).toMatchObject({ status: 400, code: 'validation_failed', errors: [{ path: 'delivery_location' }] });

      const farAway = destination(alexanderplatz, 3000.01, 0);
      expect(await deliveryTermsFor(t.db.knex, restaurant.id, farAway)).toEqual({ kind: 'outside' });
      const outside = await deliveryTermsForOrder(t.db.knex, restaurant.id, farAway, defaults).catch((error: unknown) => error);
      expect(problemOf(outside as AppError)).toMatchObject({ status: 422, code: 'outside_delivery_area' });

      // Removing the zones brings the defaults back.
      for (const zone of [broad, inner, cheaperTwin]) expect((await a.delete(`/v1/delivery-zones/${zone.id}`, manager)).status).toBe(204);
      expect(await deliveryTermsForOrder(t.db.knex, restaurant.id, farAway, defaults)).toEqual({ ...defaults, zone_id: null });
    });

    it('pass a subtotal that exactly meets the minimum and refuse one a cent short with 422 below_minimum and shortfall_cents', () => {
      const terms = { fee_cents: 300, min_subtotal_cents: 2000, free_over_cents: 5000 };
      expect(() => requireDeliveryMinimum(terms, 2000)).not.toThrow();
      expect(() => requireDeliveryMinimum(terms, 9999)).not.toThrow();
      for (const [subtotal, shortfall] of [
        [1999, 1],
        [0, 2000],
        [1250, 750],
      ] as const) {
        let thrown: unknown;
        try {
          requireDeliveryMinimum(terms, subtotal);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(AppError);
        expect(problemOf(thrown as AppError)).toMatchObject({ status: 422, code: 'below_minimum', shortfall_cents: shortfall });
      }
      expect(() => requireDeliveryMinimum({ ...terms, min_subtotal_cents: 0 }, 0)).not.toThrow();
    });
  });
});
