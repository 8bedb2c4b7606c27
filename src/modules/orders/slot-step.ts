import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { AppError } from '../../lib/errors.js';
import * as schedule from '../schedule/service.js';

/** When an order is for, as checkout decided it (API.md "Service hours, order-ahead times, kitchen capacity"). */
export interface OrderTiming {
  /** What the customer asked for; null: as soon as possible. */
  requestedAt: Date | null;
  /** The slot the order counts in. */
  slotStartsAt: Date;
  /** When it is due: ASAP, now + lead time; scheduled, the slot's start. */
  promisedAt: Date;
}

/** The schedule and the timing decided from it, so the count is taken against the same settings. */
export interface TimingDecision {
  schedule: schedule.Schedule;
  timing: OrderTiming;
}

/**
 * The slot an order placed at `now` would take, for the quote and the order alike: ASAP while the
 * restaurant is not accepting orders is `409 restaurant_closed` (with `next_open_at`); a `requestedAt`
 * that is not the start of a bookable slot is `422 invalid_slot`. Capacity is not looked at here.
 */
export async function decideTiming(db: Queryable, restaurant: schedule.ScheduleRestaurant, requestedAt: Date | null, now: Date): Promise<TimingDecision> {
  return decideTimingFrom(await schedule.loadSchedule(db, restaurant, now), requestedAt, now);
}

/** `decideTiming` on a schedule already read (checkout reads it with its other settings in one statement). Pure. */
export function decideTimingFrom(loaded: schedule.Schedule, requestedAt: Date | null, now: Date): TimingDecision {
  if (requestedAt === null) {
    const asap = schedule.placeAsap(loaded, now);
    if (asap.kind === 'not_accepting') {
      const nextOpen = asap.status.next_open_at;
      throw new AppError(
        'restaurant_closed',
        409,
        nextOpen === null
          ? 'The restaurant is not taking orders now'
          : `The restaurant is not taking orders now; it takes them again from ${nextOpen.toISOString()}`,
        undefined,
        undefined,
        { next_open_at: nextOpen === null ? null : nextOpen.toISOString() },
      );
    }
    return { schedule: loaded, timing: { requestedAt: null, slotStartsAt: asap.slot.starts_at, promisedAt: asap.promised_at } };
  }
  const check = schedule.validateRequestedSlot(loaded, requestedAt, now);
  if (check.kind === 'invalid') {
    throw new AppError('invalid_slot', 422, schedule.describeInvalidSlot(check.reason), [{ path: 'requested_at', message: check.reason }]);
  }
  return { schedule: loaded, timing: { requestedAt, slotStartsAt: check.slot.starts_at, promisedAt: check.slot.starts_at } };
}

/**
 * Counts the order in its slot with the schedule's one guarded statement, in the order's transaction: a
 * slot holding `max_orders_per_slot` orders is `409 slot_full` with the earliest slot still free after it.
 * Without a cap the order is counted all the same, so the counts are right when a cap is set later.
 */
export async function takeSlotPlace(trx: Knex.Transaction, restaurantId: number, decision: TimingDecision, now: Date): Promise<void> {
  const { schedule: loaded, timing } = decision;
  if (await schedule.reserveSlot(trx, restaurantId, timing.slotStartsAt, loaded.settings.max_orders_per_slot)) return;
  throw await slotFull(trx, loaded, restaurantId, timing.slotStartsAt, now);
}

/** The quote's view of capacity: the same `409 slot_full` as the order would meet, with nothing counted. */
export async function requireSlotRoom(db: Queryable, restaurantId: number, decision: TimingDecision, now: Date): Promise<void> {
  const { schedule: loaded, timing } = decision;
  const cap = loaded.settings.max_orders_per_slot;
  if (cap === null) return;
  const start = timing.slotStartsAt;
  const counted = (await schedule.countsForRange(db, restaurantId, start, new Date(start.getTime() + 1))).get(start.getTime()) ?? 0;
  if (counted < cap) return;
  throw await slotFull(db, loaded, restaurantId, start, now);
}

async function slotFull(db: Queryable, loaded: schedule.Schedule, restaurantId: number, slotStartsAt: Date, now: Date): Promise<AppError> {
  const next = await schedule.findNextAvailableSlot(db, loaded, restaurantId, slotStartsAt, now);
  return new AppError(
    'slot_full',
    409,
    next === null
      ? 'That slot is full and no later slot has room within the order-ahead window'
      : `That slot is full; the next one with room starts at ${next.starts_at.toISOString()}`,
    undefined,
    undefined,
    { next_available_slot: next === null ? null : next.starts_at.toISOString() },
  );
}

/**
 * Gives back the order's place in its slot, once: the flag is cleared by the same statement that reads
 * the slot, so a second call finds nothing to give back.
 */
export async function releaseOrderSlot(trx: Knex.Transaction, restaurantId: number, orderId: number): Promise<void> {
  const rows: Array<{ slot_starts_at: Date | string }> = await trx('orders')
    .where({ restaurant_id: restaurantId, id: orderId, slot_counted: true })
    .update({ slot_counted: false })
    .returning('slot_starts_at');
  const row = rows[0];
  if (row !== undefined) await schedule.releaseSlot(trx, restaurantId, new Date(row.slot_starts_at));
}
