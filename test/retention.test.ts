import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createTestApp, type TestApp } from './support/app.js';
import { createRestaurant, type RestaurantRow } from './support/factories.js';
import { signInStaff, type SignedInUser } from './support/users.js';
import { catalogClient, type CatalogClient } from './support/catalog.js';
import { fixedClock } from '../src/lib/clock.js';
import { sweepRetention } from '../src/retention.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

describe('the retention sweep', () => {
  let t: TestApp;
  let restaurant: RestaurantRow;
  let api: CatalogClient;
  let manager: SignedInUser;
  let endpointId: number;

  const outbox = async (values: { sent_at: Date | null; created_at: Date }) => {
    const [row] = await t.db
      .knex('outbox')
      .insert({ restaurant_id: restaurant.id, type: 'order.confirmation_requested', payload: JSON.stringify({ order_id: 1 }), ...values })
      .returning('id');
    return Number(row.id);
  };
  const event = async (createdAt: Date) => {
    const [row] = await t.db
      .knex('webhook_events')
      .insert({ restaurant_id: restaurant.id, type: 'restaurant.paused', data: JSON.stringify({}), created_at: createdAt })
      .returning('id');
    return Number(row.id);
  };
  const delivery = async (eventId: number, status: 'pending' | 'succeeded' | 'failed', updatedAt: Date) => {
    const [row] = await t.db
      .knex('webhook_deliveries')
      .insert({
        restaurant_id: restaurant.id,
        endpoint_id: endpointId,
        event_id: eventId,
        status,
        attempts: 1,
        next_attempt_at: status === 'pending' ? updatedAt : null,
        created_at: updatedAt,
        updated_at: updatedAt,
      })
      .returning('id');
    return Number(row.id);
  };
  const ids = async (table: string) => (await t.db.knex(table).where({ restaurant_id: restaurant.id }).select('id')).map((row) => Number(row.id));
  const slotStarts = async () =>
    (await t.db.knex('slot_bookings').where({ restaurant_id: restaurant.id }).orderBy('slot_starts_at').select('slot_starts_at')).map((row) =>
      new Date(row.slot_starts_at).toISOString(),
    );

  beforeAll(async () => {
    t = await createTestApp();
    restaurant = await createRestaurant(t.db.knex, { domain: 'retention.example.com' });
    api = catalogClient(t.app, restaurant.domain);
    manager = await signInStaff(t.cognito, t.db.knex, restaurant.id, 'manager');
    const [endpoint] = await t.db
      .knex('webhook_endpoints')
      .insert({
        restaurant_id: restaurant.id,
        url: 'https://hooks.example.com/tablekit',
        events: ['restaurant.paused'],
        secret: randomBytes(24).toString('hex'),
      })
      .returning('id');
    endpointId = Number(endpoint.id);
  });
  afterAll(async () => {
    await t.close();
  });

  it('removes outbox rows sent over a week ago, and keeps recent ones and every unsent one, however old', async () => {
    const oldSent = await outbox({ sent_at: daysAgo(8), created_at: daysAgo(8) });
    const recentSent = await outbox({ sent_at: daysAgo(6), created_at: daysAgo(8) });
    const oldUnsent = await outbox({ sent_at: null, created_at: daysAgo(90) });
    const swept = await sweepRetention(t.db.knex, fixedClock(NOW));
    expect(swept.outbox).toBe(1);
    expect(await ids('outbox')).not.toContain(oldSent);
    expect(await ids('outbox')).toEqual(expect.arrayContaining([recentSent, oldUnsent]));
  });

  it('removes webhook deliveries settled over 30 days ago and their events, and keeps what is still being delivered', async () => {
    const oldEvent = await event(daysAgo(40));
    const settledOld = await delivery(oldEvent, 'succeeded', daysAgo(35));
    const stuckEvent = await event(daysAgo(40));
    const pendingOld = await delivery(stuckEvent, 'pending', daysAgo(31));
    const failedEvent = await event(daysAgo(40));
    const failedOld = await delivery(failedEvent, 'failed', daysAgo(31));
    const recentEvent = await event(daysAgo(40));
    const settledRecent = await delivery(recentEvent, 'failed', daysAgo(29));
    const undeliveredOld = await event(daysAgo(31));
    const undeliveredRecent = await event(daysAgo(1));

    const listed = await api.get(`/v1/webhook-endpoints/${endpointId}/deliveries?limit=100`, manager);
    expect(listed.status, listed.text).toBe(200);
    expect((listed.body as Array<{ id: number }>).map((d) => d.id)).toEqual(expect.arrayContaining([settledOld, pendingOld, failedOld, settledRecent]));

    const swept = await sweepRetention(t.db.knex, fixedClock(NOW));
    expect(swept).toMatchObject({ webhookDeliveries: 2, webhookEvents: 3 });
    expect((await ids('webhook_deliveries')).sort((a, b) => a - b)).toEqual([pendingOld, settledRecent].sort((a, b) => a - b));
    expect((await ids('webhook_events')).sort((a, b) => a - b)).toEqual([stuckEvent, recentEvent, undeliveredRecent].sort((a, b) => a - b));
    expect(await ids('webhook_events')).not.toContain(undeliveredOld);

    // The manager's list shows what is left, and redelivering a swept delivery is a plain 404.
    const after = await api.get(`/v1/webhook-endpoints/${endpointId}/deliveries?limit=100`, manager);
    expect((after.body as Array<{ id: number }>).map((d) => d.id).sort((a, b) => a - b)).toEqual([pendingOld, settledRecent].sort((a, b) => a - b));
    expect((await api.post(`/v1/webhook-deliveries/${settledOld}/redeliver`, {}, manager)).status).toBe(404);
  });

  it('removes the counts of slots that began over a week ago, and keeps this week’s and the future’s', async () => {
    await t.db.knex('slot_bookings').insert([
      { restaurant_id: restaurant.id, slot_starts_at: daysAgo(8), orders_count: 4 },
      { restaurant_id: restaurant.id, slot_starts_at: daysAgo(6), orders_count: 2 },
      { restaurant_id: restaurant.id, slot_starts_at: new Date(NOW.getTime() + 3_600_000), orders_count: 1 },
    ]);
    const swept = await sweepRetention(t.db.knex, fixedClock(NOW));
    expect(swept.slotBookings).toBe(1);
    expect(await slotStarts()).toEqual([daysAgo(6).toISOString(), new Date(NOW.getTime() + 3_600_000).toISOString()]);
  });

  it('sweeps a backlog bigger than one batch, and finds nothing the second time', async () => {
    await t.db
      .knex('outbox')
      .insert(
        Array.from({ length: 2_500 }, () => ({ restaurant_id: restaurant.id, type: 'order.confirmation_requested', payload: '{}', sent_at: daysAgo(10) })),
      );
    expect((await sweepRetention(t.db.knex, fixedClock(NOW))).outbox).toBe(2_500);
    expect(await sweepRetention(t.db.knex, fixedClock(NOW))).toEqual({ outbox: 0, webhookDeliveries: 0, webhookEvents: 0, slotBookings: 0 });
  });
});
