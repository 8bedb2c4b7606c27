import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/app.js';
import { settableClock } from './support/clock.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { problem } from './support/catalog.js';
import { signInCustomer, signInStaff, type SignedInUser } from './support/users.js';
import { closurePageSchema, closureSchema, hoursSchema, orderingSchema, slotListSchema } from '../src/modules/schedule/schemas.js';
import { countsForRange, releaseSlot, reserveSlot } from '../src/modules/schedule/service.js';

const errorPaths = (res: request.Response) => ((JSON.parse(res.text) as { errors?: Array<{ path: string }> }).errors ?? []).map((e) => e.path);

// Tuesday to Sunday, lunch and dinner, Friday and Saturday later; Monday closed. Berlin is UTC+2 in June.
const bistroWeek = [
  ...(['tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({ day, opens: '12:00', closes: '14:30' })),
  ...(['tue', 'wed', 'thu', 'sun'] as const).map((day) => ({ day, opens: '18:00', closes: '22:30' })),
  ...(['fri', 'sat'] as const).map((day) => ({ day, opens: '18:00', closes: '23:30' })),
];

describe('service hours, closures, pauses and slots over HTTP', () => {
  const clock = settableClock('2026-06-01T10:00:00Z');
  let t: TestApp;
  let restaurant: RestaurantRow;
  let manager: SignedInUser;
  let kitchen: SignedInUser;
  let customer: SignedInUser;

  const call = (method: 'get' | 'put' | 'post' | 'delete', url: string, user?: SignedInUser, domain = restaurant.domain) => {
    const req = request(t.app)[method](url).set('X-Restaurant-Domain', domain);
    return user === undefined ? req : req.set('Authorization', user.auth);
  };
  const putHours = (body: unknown, user: SignedInUser | null = manager) => call('put', '/v1/restaurant/hours', user ?? undefined).send(body as object);
  const ordering = async () => {
    const res = await call('get', '/v1/restaurant');
    expect(res.status, res.text).toBe(200);
    return orderingSchema.parse(res.body.ordering);
  };
  const slots = async (query = '') => {
    const res = await call('get', `/v1/restaurant/slots${query}`);
    expect(res.status, res.text).toBe(200);
    return slotListSchema.parse(res.body).data;
  };

  beforeAll(async () => {
    t = await createTestApp({ clock });
    restaurant = await createRestaurant(t.db.knex, { domain: 'bistro-hours.example.com', timezone: 'Europe/Berlin' });
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    kitchen = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'kitchen');
    customer = await signInCustomer(t.cognito);
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    clock.set('2026-06-01T10:00:00Z');
    await t.db.knex('ordering_pauses').delete();
    await t.db.knex('restaurant_closures').delete();
  });

  describe('a restaurant that never set hours', () => {
    it('has the default settings and is always open', async () => {
      const res = await call('get', '/v1/restaurant/hours');
      expect(res.status).toBe(200);
      expect(hoursSchema.parse(res.body)).toEqual({ weekly: [], lead_time_minutes: 20, slot_minutes: 15, max_orders_per_slot: null, order_ahead_days: 7 });
      clock.set('2026-06-01T02:07:00Z');
      expect(await ordering()).toEqual({
        accepting_orders: true,
        reason: null,
        paused_until: null,
        next_open_at: null,
        asap_ready_at: '2026-06-01T02:27:00.000Z',
      });
      const today = await slots();
      // 04:07 in Berlin with 20 minutes lead: the first slot is 04:30, the last 23:45.
      expect(today[0]).toEqual({ starts_at: '2026-06-01T02:30:00.000Z', ends_at: '2026-06-01T02:45:00.000Z', available: true, remaining: null });
      expect(today.at(-1)?.ends_at).toBe('2026-06-01T22:00:00.000Z');
      expect(today).toHaveLength(78);
    });
  });

  describe('setting the hours', () => {
    it('is for managers: anonymous 401, kitchen and customers 403', async () => {
      problem(await putHours({ weekly: [] }, null), 401, 'unauthenticated');
      problem(await putHours({ weekly: [] }, kitchen), 403, 'forbidden');
      problem(await putHours({ weekly: [] }, customer), 403, 'forbidden');
    });

    it('replaces the hours and settings, answering them Monday first; left-out settings take their defaults', async () => {
      const res = await putHours({ weekly: [...bistroWeek].reverse(), lead_time_minutes: 30, slot_minutes: 30, max_orders_per_slot: 8, order_ahead_days: 14 });
      expect(res.status, res.text).toBe(200);
      const hours = hoursSchema.parse(res.body);
      expect(hours).toMatchObject({ lead_time_minutes: 30, slot_minutes: 30, max_orders_per_slot: 8, order_ahead_days: 14 });
      expect(hours.weekly.slice(0, 3)).toEqual([
        { day: 'tue', opens: '12:00', closes: '14:30' },
        { day: 'tue', opens: '18:00', closes: '22:30' },
        { day: 'wed', opens: '12:00', closes: '14:30' },
      ]);
      expect(hours.weekly).toHaveLength(bistroWeek.length);
      expect((await call('get', '/v1/restaurant/hours')).body).toEqual(hours);

      const replaced = await putHours({
        weekly: [
          { day: 'sun', opens: '22:00', closes: '24:00' },
          { day: 'mon', opens: '00:00', closes: '03:00' },
        ],
      });
      expect(hoursSchema.parse(replaced.body)).toEqual({
        weekly: [
          { day: 'mon', opens: '00:00', closes: '03:00' },
          { day: 'sun', opens: '22:00', closes: '24:00' },
        ],
        lead_time_minutes: 20,
        slot_minutes: 15,
        max_orders_per_slot: null,
        order_ahead_days: 7,
      });
    });

    it.each([
      ['a closing past 24:00', { weekly: [{ day: 'mon', opens: '12:00', closes: '24:30' }] }, ['weekly.0.closes']],
      ['an opening at 24:00', { weekly: [{ day: 'mon', opens: '24:00', closes: '02:00' }] }, ['weekly.0.opens']],
      ['a time without its leading zero', { weekly: [{ day: 'mon', opens: '9:00', closes: '12:00' }] }, ['weekly.0.opens']],
      ['an unknown day', { weekly: [{ day: 'monday', opens: '09:00', closes: '12:00' }] }, ['weekly.0.day']],
      [
        'overlapping ranges on one day',
        {
          weekly: [
            { day: 'tue', opens: '12:00', closes: '15:00' },
            { day: 'tue', opens: '14:00', closes: '16:00' },
          ],
        },
        ['weekly.1'],
      ],
      [
        'an overnight range spilling into the next day’s range',
        {
          weekly: [
            { day: 'sat', opens: '22:00', closes: '03:00' },
            { day: 'sun', opens: '02:00', closes: '04:00' },
          ],
        },
        ['weekly.1'],
      ],
      [
        'Sunday night spilling into Monday',
        {
          weekly: [
            { day: 'mon', opens: '01:00', closes: '04:00' },
            { day: 'sun', opens: '22:00', closes: '03:00' },
          ],
        },
        ['weekly.1'],
      ],
      ['a slot length not offered', { weekly: [], slot_minutes: 25 }, ['slot_minutes']],
      ['order-ahead over 30 days', { weekly: [], order_ahead_days: 31 }, ['order_ahead_days']],
      ['a negative lead time', { weekly: [], lead_time_minutes: -1 }, ['lead_time_minutes']],
      ['a cap of zero', { weekly: [], max_orders_per_slot: 0 }, ['max_orders_per_slot']],
      ['a fractional cap', { weekly: [], max_orders_per_slot: 2.5 }, ['max_orders_per_slot']],
      ['no weekly at all', { lead_time_minutes: 10 }, ['weekly']],
      ['an unknown field', { weekly: [], timezone: 'UTC' }, ['']],
    ])('refuses %s with 400 validation_failed naming the field, and keeps the hours', async (_name, body, paths) => {
      await putHours({ weekly: bistroWeek });
      const res = await putHours(body);
      problem(res, 400, 'validation_failed');
      expect(errorPaths(res)).toEqual(paths);
      expect(hoursSchema.parse((await call('get', '/v1/restaurant/hours')).body).weekly).toHaveLength(bistroWeek.length);
    });

    it('keeps one restaurant’s hours off another’s domain', async () => {
      await putHours({ weekly: bistroWeek });
      const other = await createRestaurant(t.db.knex, { timezone: 'Europe/Berlin' });
      const res = await call('get', '/v1/restaurant/hours', undefined, other.domain);
      expect(res.body.weekly).toEqual([]);
      const otherManager = await signInStaff(t.cognito, t.db.knex, other.id, 'manager');
      problem(await putHours({ weekly: [] }, otherManager), 403, 'forbidden');
    });
  });

  describe('the ordering status', () => {
    beforeEach(async () => {
      await putHours({ weekly: bistroWeek, max_orders_per_slot: 8 });
    });

    it('on a closed Monday says closed and when ordering opens: Tuesday 12:00 in Berlin', async () => {
      expect(await ordering()).toEqual({
        accepting_orders: false,
        reason: 'closed',
        paused_until: null,
        next_open_at: '2026-06-02T10:00:00.000Z',
        asap_ready_at: null,
      });
      const body = (await call('get', '/v1/restaurant')).body;
      expect(body).toMatchObject({ id: restaurant.id, domain: restaurant.domain, timezone: 'Europe/Berlin' });
    });

    it('after the last orders of lunch points to dinner', async () => {
      clock.set('2026-06-02T12:10:00Z'); // 14:10: an order would be ready at 14:30, the closing
      expect(await ordering()).toMatchObject({ accepting_orders: false, reason: 'closed', next_open_at: '2026-06-02T16:00:00.000Z' });
      clock.set('2026-06-02T12:09:00Z');
      expect(await ordering()).toMatchObject({ accepting_orders: true, asap_ready_at: '2026-06-02T12:29:00.000Z' });
    });

    it('pause then resume: kitchen staff stop ASAP orders and take them again', async () => {
      clock.set('2026-06-02T10:30:00Z');
      const paused = await call('post', '/v1/restaurant/pause', kitchen).send({ minutes: 30, reason: 'Oven down' });
      expect(paused.status, paused.text).toBe(200);
      expect(orderingSchema.parse(paused.body)).toEqual({
        accepting_orders: false,
        reason: 'paused',
        paused_until: '2026-06-02T11:00:00.000Z',
        next_open_at: '2026-06-02T11:00:00.000Z',
        asap_ready_at: null,
      });
      expect(await ordering()).toEqual(paused.body);
      // Booking ahead is untouched: the slot right after the lead time is still offered.
      expect((await slots())[0]?.starts_at).toBe('2026-06-02T11:00:00.000Z');

      const resumed = await call('delete', '/v1/restaurant/pause', kitchen);
      expect(resumed.status).toBe(204);
      expect(resumed.text).toBe('');
      expect(await ordering()).toMatchObject({ accepting_orders: true, reason: null, paused_until: null });
      expect((await call('delete', '/v1/restaurant/pause', manager)).status).toBe(204);
    });

    it('a pause ends by itself when its time is up, and a new pause replaces the old', async () => {
      clock.set('2026-06-02T10:30:00Z');
      expect((await call('post', '/v1/restaurant/pause', manager).send({ minutes: 5 })).status).toBe(200);
      expect((await call('post', '/v1/restaurant/pause', manager).send({ minutes: 10 })).body.paused_until).toBe('2026-06-02T10:40:00.000Z');
      clock.set('2026-06-02T10:39:59Z');
      expect((await ordering()).reason).toBe('paused');
      clock.set('2026-06-02T10:40:00Z');
      expect(await ordering()).toMatchObject({ accepting_orders: true, paused_until: null });
    });

    it.each([
      ['4 minutes', { minutes: 4 }, ['minutes']],
      ['1441 minutes', { minutes: 1441 }, ['minutes']],
      ['a fraction of a minute', { minutes: 10.5 }, ['minutes']],
      ['no minutes', { reason: 'busy' }, ['minutes']],
      ['a reason over 200 characters', { minutes: 10, reason: 'x'.repeat(201) }, ['reason']],
    ])('refuses a pause of %s with 400', async (_name, body, paths) => {
      const res = await call('post', '/v1/restaurant/pause', kitchen).send(body);
      problem(res, 400, 'validation_failed');
      expect(errorPaths(res)).toEqual(paths);
    });

    it('pausing and resuming are for staff only', async () => {
      problem(await call('post', '/v1/restaurant/pause', customer).send({ minutes: 10 }), 403, 'forbidden');
      problem(await call('post', '/v1/restaurant/pause').send({ minutes: 10 }), 401, 'unauthenticated');
      problem(await call('delete', '/v1/restaurant/pause', customer), 403, 'forbidden');
      expect((await ordering()).paused_until).toBeNull();
    });
  });

  describe('slots', () => {
    beforeEach(async () => {
      await putHours({ weekly: bistroWeek, max_orders_per_slot: 2 });
    });

    it('lists today’s slots from the lead time on, as instants; a closed day lists none', async () => {
      clock.set('2026-06-02T09:00:00Z'); // Tuesday 11:00 in Berlin
      const today = await slots();
      expect(today).toHaveLength(10 + 18);
      expect(today[0]).toEqual({ starts_at: '2026-06-02T10:00:00.000Z', ends_at: '2026-06-02T10:15:00.000Z', available: true, remaining: 2 });
      expect(today[9]?.ends_at).toBe('2026-06-02T12:30:00.000Z');
      expect(today.at(-1)?.ends_at).toBe('2026-06-02T20:30:00.000Z');
      expect(await slots('?date=2026-06-08')).toEqual([]);
      expect(await slots('?date=2026-06-09')).toHaveLength(28);
      expect(await slots('?date=2026-06-10')).toEqual([]);
    });

    it('shows what is left in each slot, and a full slot as not available', async () => {
      clock.set('2026-06-02T09:00:00Z');
      const first = new Date('2026-06-02T10:00:00Z');
      const second = new Date('2026-06-02T10:15:00Z');
      await t.db.knex.transaction(async (trx) => {
        expect(await reserveSlot(trx, restaurant.id, first, 2)).toBe(true);
        expect(await reserveSlot(trx, restaurant.id, first, 2)).toBe(true);
        expect(await reserveSlot(trx, restaurant.id, second, 2)).toBe(true);
      });
      const [full, oneLeft, untouched] = await slots();
      expect(full).toMatchObject({ starts_at: first.toISOString(), available: false, remaining: 0 });
      expect(oneLeft).toMatchObject({ available: true, remaining: 1 });
      expect(untouched).toMatchObject({ available: true, remaining: 2 });
      await t.db.knex.transaction(async (trx) => {
        await releaseSlot(trx, restaurant.id, first);
        await releaseSlot(trx, restaurant.id, first);
        await releaseSlot(trx, restaurant.id, second);
      });
    });

    it('lists a Saturday night across the fall-back change as six hours of instants', async () => {
      await putHours({ weekly: [{ day: 'sat', opens: '22:00', closes: '03:00' }] });
      clock.set('2026-10-24T08:00:00Z');
      const night = [...(await slots('?date=2026-10-24')), ...(await slots('?date=2026-10-25'))];
      expect(night).toHaveLength(24);
      expect(night[0]?.starts_at).toBe('2026-10-24T20:00:00.000Z');
      expect(night.at(-1)?.ends_at).toBe('2026-10-25T02:00:00.000Z');
    });

    it.each([['2026-02-30'], ['2026-6-02'], ['tomorrow'], ['']])('refuses the date %j with 400', async (date) => {
      const res = await call('get', `/v1/restaurant/slots?date=${date}`);
      problem(res, 400, 'validation_failed');
      expect(errorPaths(res)).toEqual(['query.date']);
    });
  });

  describe('closures', () => {
    const addClosure = (body: unknown, user: SignedInUser = manager) => call('post', '/v1/restaurant/closures', user).send(body as object);

    beforeEach(async () => {
      await putHours({ weekly: bistroWeek });
    });

    it('a manager closes whole days; the ordering says closure and the days list no slots', async () => {
      clock.set('2026-06-02T10:30:00Z');
      const res = await addClosure({ starts_on: '2026-06-02', ends_on: '2026-06-03', reason: '  Staff outing ' });
      expect(res.status, res.text).toBe(201);
      const closure = closureSchema.parse(res.body);
      expect(closure).toEqual({ id: expect.any(Number), starts_on: '2026-06-02', ends_on: '2026-06-03', reason: 'Staff outing' });

      expect(await ordering()).toEqual({
        accepting_orders: false,
        reason: 'closure',
        paused_until: null,
        next_open_at: '2026-06-04T10:00:00.000Z',
        asap_ready_at: null,
      });
      expect(await slots()).toEqual([]);
      expect(await slots('?date=2026-06-03')).toEqual([]);
      expect(await slots('?date=2026-06-04')).toHaveLength(28);

      const removed = await call('delete', `/v1/restaurant/closures/${closure.id}`, manager);
      expect(removed.status, removed.text).toBe(204);
      expect(await ordering()).toMatchObject({ accepting_orders: true });
      problem(await call('delete', `/v1/restaurant/closures/${closure.id}`, manager), 404, 'not_found');
    });

    it('lists closures by first day, a page at a time, for anyone', async () => {
      const later = closureSchema.parse((await addClosure({ starts_on: '2026-12-24', ends_on: '2026-12-26' })).body);
      const sooner = closureSchema.parse((await addClosure({ starts_on: '2026-08-01', ends_on: '2026-08-01', reason: 'Summer' })).body);
      const first = await call('get', '/v1/restaurant/closures?limit=1');
      expect(first.status).toBe(200);
      const page = closurePageSchema.parse(first.body);
      expect(page.data).toEqual([sooner]);
      expect(page.next_cursor).not.toBeNull();
      const second = closurePageSchema.parse((await call('get', `/v1/restaurant/closures?limit=1&cursor=${page.next_cursor}`)).body);
      expect(second).toEqual({ data: [later], next_cursor: null });
      problem(await call('get', '/v1/restaurant/closures?cursor=bogus'), 400, 'validation_failed');
    });

    it.each([
      ['ends_on before starts_on', { starts_on: '2026-06-10', ends_on: '2026-06-09' }, ['ends_on']],
      ['a date that does not exist', { starts_on: '2026-02-29', ends_on: '2026-03-01' }, ['starts_on']],
      ['no ends_on', { starts_on: '2026-06-10' }, ['ends_on']],
      ['a timestamp for a date', { starts_on: '2026-06-10T00:00:00Z', ends_on: '2026-06-10' }, ['starts_on']],
    ])('refuses %s with 400', async (_name, body, paths) => {
      const res = await addClosure(body);
      problem(res, 400, 'validation_failed');
      expect(errorPaths(res)).toEqual(paths);
    });

    it('adding and removing closures is for managers; another restaurant’s closure is not found', async () => {
      problem(await addClosure({ starts_on: '2026-06-10', ends_on: '2026-06-10' }, kitchen), 403, 'forbidden');
      const closure = closureSchema.parse((await addClosure({ starts_on: '2026-06-10', ends_on: '2026-06-10' })).body);
      problem(await call('delete', `/v1/restaurant/closures/${closure.id}`, kitchen), 403, 'forbidden');
      const other = await createRestaurant(t.db.knex, { timezone: 'Europe/Berlin' });
      const otherManager = await signInStaff(t.cognito, t.db.knex, other.id, 'manager');
      problem(await call('delete', `/v1/restaurant/closures/${closure.id}`, otherManager, other.domain), 404, 'not_found');
      expect(closurePageSchema.parse((await call('get', '/v1/restaurant/closures', undefined, other.domain)).body).data).toEqual([]);
      problem(await call('delete', '/v1/restaurant/closures/abc', manager), 400, 'validation_failed');
    });
  });

  it('describes every schedule route in the OpenAPI document', async () => {
    const paths = Object.keys((await request(t.app).get('/openapi.json')).body.paths as Record<string, unknown>);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/restaurant/hours',
        '/v1/restaurant/closures',
        '/v1/restaurant/closures/{id}',
        '/v1/restaurant/pause',
        '/v1/restaurant/slots',
      ]),
    );
  });
});

describe('the slot counter', () => {
  let t: TestApp;
  let restaurantId: number;
  const slot = new Date('2026-06-02T10:00:00Z');

  beforeAll(async () => {
    t = await createTestApp();
    restaurantId = (await createRestaurant(t.db.knex)).id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('takes places up to the cap, gives them back, and never goes below zero', async () => {
    const knex = t.db.knex;
    expect(await reserveSlot(knex, restaurantId, slot, 2)).toBe(true);
    expect(await reserveSlot(knex, restaurantId, slot, 2)).toBe(true);
    expect(await reserveSlot(knex, restaurantId, slot, 2)).toBe(false);
    expect(await reserveSlot(knex, restaurantId, slot, 3)).toBe(true);
    expect((await countsForRange(knex, restaurantId, slot, new Date(slot.getTime() + 1))).get(slot.getTime())).toBe(3);
    expect(await releaseSlot(knex, restaurantId, slot)).toBe(true);
    expect(await reserveSlot(knex, restaurantId, slot, 3)).toBe(true);
    for (let i = 0; i < 3; i += 1) expect(await releaseSlot(knex, restaurantId, slot)).toBe(true);
    expect(await releaseSlot(knex, restaurantId, slot)).toBe(false);
    expect(await releaseSlot(knex, restaurantId, new Date('2030-01-01T00:00:00Z'))).toBe(false);
    expect((await countsForRange(knex, restaurantId, slot, new Date(slot.getTime() + 1))).get(slot.getTime())).toBe(0);
  });

  it('counts without a cap too, and refuses everything under a cap below one', async () => {
    const other = new Date('2026-06-02T10:15:00Z');
    for (let i = 0; i < 5; i += 1) expect(await reserveSlot(t.db.knex, restaurantId, other, null)).toBe(true);
    expect(await reserveSlot(t.db.knex, restaurantId, other, 0)).toBe(false);
    expect(await reserveSlot(t.db.knex, restaurantId, new Date('2026-06-02T10:30:00Z'), 0)).toBe(false);
    const counts = await countsForRange(t.db.knex, restaurantId, slot, new Date('2026-06-02T10:30:00Z'));
    expect([...counts.entries()]).toEqual(expect.arrayContaining([[other.getTime(), 5]]));
    expect(counts.has(new Date('2026-06-02T10:30:00Z').getTime())).toBe(false);
  });

  it.each([
    [
      'a negative count',
      (id: number) => t.db.knex('slot_bookings').insert({ restaurant_id: id, slot_starts_at: new Date('2026-07-01T10:00:00Z'), orders_count: -1 }),
    ],
    [
      'a slot length not offered',
      (id: number) => t.db.knex('schedule_settings').insert({ restaurant_id: id, lead_time_minutes: 20, slot_minutes: 7, order_ahead_days: 7 }),
    ],
    [
      'order-ahead over 30 days',
      (id: number) => t.db.knex('schedule_settings').insert({ restaurant_id: id, lead_time_minutes: 20, slot_minutes: 15, order_ahead_days: 31 }),
    ],
    [
      'a cap of zero',
      (id: number) =>
        t.db.knex('schedule_settings').insert({ restaurant_id: id, lead_time_minutes: 20, slot_minutes: 15, order_ahead_days: 7, max_orders_per_slot: 0 }),
    ],
    [
      'a closure ending before it starts',
      (id: number) => t.db.knex('restaurant_closures').insert({ restaurant_id: id, starts_on: '2026-06-10', ends_on: '2026-06-09' }),
    ],
    [
      'an empty pause reason',
      (id: number) => t.db.knex('ordering_pauses').insert({ restaurant_id: id, paused_until: new Date(), reason: '', paused_by: 'sub' }),
    ],
    [
      'opening hours of a restaurant without settings',
      (id: number) => t.db.knex('opening_ranges').insert({ restaurant_id: id, iso_weekday: 1, opens_minute: 600, closes_minute: 900 }),
    ],
  ])('the database refuses %s', async (_name, insert) => {
    const fresh = await createRestaurant(t.db.knex);
    await expect(insert(fresh.id)).rejects.toMatchObject({ code: expect.stringMatching(/^23(514|503)$/) });
  });

  it('the database refuses opening minutes out of the day', async () => {
    const fresh = await createRestaurant(t.db.knex);
    await t.db.knex('schedule_settings').insert({ restaurant_id: fresh.id, lead_time_minutes: 20, slot_minutes: 15, order_ahead_days: 7 });
    await expect(t.db.knex('opening_ranges').insert({ restaurant_id: fresh.id, iso_weekday: 8, opens_minute: 600, closes_minute: 900 })).rejects.toMatchObject({
      code: '23514',
    });
    await expect(t.db.knex('opening_ranges').insert({ restaurant_id: fresh.id, iso_weekday: 1, opens_minute: 1440, closes_minute: 900 })).rejects.toMatchObject(
      { code: '23514' },
    );
    await expect(t.db.knex('opening_ranges').insert({ restaurant_id: fresh.id, iso_weekday: 1, opens_minute: 600, closes_minute: 1441 })).rejects.toMatchObject(
      { code: '23514' },
    );
  });

  it('counts per restaurant', async () => {
    const other = await createRestaurant(t.db.knex);
    const lonely = new Date('2026-06-03T10:00:00Z');
    expect(await reserveSlot(t.db.knex, restaurantId, lonely, 1)).toBe(true);
    expect(await reserveSlot(t.db.knex, other.id, lonely, 1)).toBe(true);
    expect((await countsForRange(t.db.knex, other.id, lonely, new Date(lonely.getTime() + 1))).get(lonely.getTime())).toBe(1);
  });
});
