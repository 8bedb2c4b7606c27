import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { readParts, type ReadPart } from '../../db/read-parts.js';
import { withTransaction } from '../../db/transaction.js';
import { notFound } from '../../lib/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
import {
  bookingWindowEnd,
  defaultSettings,
  endOfDay,
  formatLocalDate,
  localDateOf,
  nextAvailableSlot,
  orderingStatus,
  parseLocalDate,
  slotsForDate,
  type ListedSlot,
  type OrderingStatus,
  type Schedule,
  type ScheduleSettings,
  type WeeklyRange,
} from './core.js';
import * as repo from './repo.js';
import { announcePauseChanged } from './hooks.js';

export { onPauseChanged, type PauseChange } from './hooks.js';

export type { ListedSlot, OrderingStatus, Schedule, Slot, RequestedSlotCheck, AsapPlacement, InvalidSlotReason } from './core.js';
export { validateRequestedSlot, placeAsap, describeInvalidSlot, orderingStatus, nextAvailableSlot, endOfDay } from './core.js';
export { reserveSlot, releaseSlot, countsForRange } from './repo.js';

/** What the schedule needs of a restaurant. */
export interface ScheduleRestaurant {
  id: number;
  timezone: string;
}

export interface Hours extends ScheduleSettings {
  weekly: WeeklyRange[];
}

export interface HoursInput {
  weekly: WeeklyRange[];
  lead_time_minutes?: number | undefined;
  slot_minutes?: number | undefined;
  max_orders_per_slot?: number | null | undefined;
  order_ahead_days?: number | undefined;
}

export interface OrderingView {
  accepting_orders: boolean;
  reason: OrderingStatus['reason'];
  paused_until: string | null;
  next_open_at: string | null;
  asap_ready_at: string | null;
}

export interface SlotView {
  starts_at: string;
  ends_at: string;
  available: boolean;
  remaining: number | null;
}

export type Closure = repo.ClosureRow;

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

export function orderingView(status: OrderingStatus): OrderingView {
  return {
    accepting_orders: status.accepting_orders,
    reason: status.reason,
    paused_until: iso(status.paused_until),
    next_open_at: iso(status.next_open_at),
    asap_ready_at: iso(status.asap_ready_at),
  };
}

const slotView = (slot: ListedSlot): SlotView => ({
  starts_at: slot.starts_at.toISOString(),
  ends_at: slot.ends_at.toISOString(),
  available: slot.available,
  remaining: slot.remaining,
});

export async function getHours(db: Queryable, restaurantId: number): Promise<Hours> {
  // One after the other: `db` may be a transaction (checkout's), and a connection runs one query at a time.
  const settings = await repo.selectSettings(db, restaurantId);
  const weekly = await repo.selectRanges(db, restaurantId);
  return { weekly, ...(settings ?? defaultSettings()) };
}

/** PUT semantics: the weekly ranges and every setting are replaced; a setting left out takes its default. */
export async function replaceHours(db: Knex, restaurantId: number, input: HoursInput): Promise<Hours> {
  return withTransaction(db, (trx) => setHours(trx, restaurantId, input));
}

/** `replaceHours` inside the caller's transaction (the demo seed creates a restaurant with its hours). */
export async function setHours(trx: Knex.Transaction, restaurantId: number, input: HoursInput): Promise<Hours> {
  const defaults = defaultSettings();
  const settings: ScheduleSettings = {
    lead_time_minutes: input.lead_time_minutes ?? defaults.lead_time_minutes,
    slot_minutes: input.slot_minutes ?? defaults.slot_minutes,
    max_orders_per_slot: input.max_orders_per_slot === undefined ? defaults.max_orders_per_slot : input.max_orders_per_slot,
    order_ahead_days: input.order_ahead_days ?? defaults.order_ahead_days,
  };
  // The settings row first: its lock orders concurrent replacements, so their ranges never interleave.
  await repo.upsertSettings(trx, restaurantId, settings);
  await repo.replaceRanges(trx, restaurantId, input.weekly);
  return getHours(trx, restaurantId);
}

/**
 * Everything the pure rules need for `restaurant` around `now`: hours, settings, the closures not yet over
 * (from yesterday on, so a range begun yesterday still sees today's closure) and the pause.
 */
export async function loadSchedule(db: Queryable, restaurant: ScheduleRestaurant, now: Date): Promise<Schedule> {
  return (await readParts(db, 'schedule_parts', { schedule: schedulePart(restaurant, now) })).schedule;
}

/** What `loadSchedule` reads, as a part of a composed read (checkout reads it with its other settings). */
export function schedulePart(restaurant: ScheduleRestaurant, now: Date): ReadPart<Schedule> {
  const today = parseLocalDate(localDateOf(restaurant.timezone, now)) as number;
  const part = repo.schedulePartsRead(restaurant.id, formatLocalDate(today - 1));
  return {
    ...part,
    read: (row) => {
      const parts = part.read(row);
      return {
        timezone: restaurant.timezone,
        weekly: parts.weekly,
        settings: parts.settings ?? defaultSettings(),
        closures: parts.closures,
        pausedUntil: parts.pause?.paused_until ?? null,
      };
    },
  };
}

export async function orderingFor(db: Queryable, restaurant: ScheduleRestaurant, now: Date): Promise<OrderingView> {
  return orderingView(orderingStatus(await loadSchedule(db, restaurant, now), now));
}

export async function listClosures(db: Queryable, restaurantId: number, options: { limit: number; cursor: string | undefined }): Promise<Page<Closure>> {
  const after = decodeCursor(options.cursor, ['string', 'number']) as [string, number] | undefined;
  const rows = await repo.selectClosurePage(db, restaurantId, { after, limit: options.limit + 1 });
  return pageFrom(
    rows,
    options.limit,
    (row) => [row.starts_on, row.id],
    (row) => row,
  );
}

export async function addClosure(
  db: Queryable,
  restaurantId: number,
  input: { starts_on: string; ends_on: string; reason?: string | undefined },
): Promise<Closure> {
  const reason = input.reason === undefined || input.reason === '' ? null : input.reason;
  return repo.insertClosure(db, restaurantId, { starts_on: input.starts_on, ends_on: input.ends_on, reason });
}

export async function removeClosure(db: Queryable, restaurantId: number, id: number): Promise<void> {
  if (!(await repo.deleteClosure(db, restaurantId, id))) throw notFound('The closure');
}

/** Stops ASAP orders for `minutes` from `now` (replacing any pause); answers the ordering status it leaves. */
export async function pauseOrdering(
  db: Knex,
  restaurant: ScheduleRestaurant,
  now: Date,
  input: { minutes: number; reason?: string | undefined; pausedBy: string },
): Promise<OrderingView> {
  const reason = input.reason === undefined || input.reason === '' ? null : input.reason;
  const pausedUntil = new Date(now.getTime() + input.minutes * 60_000);
  await withTransaction(db, async (trx) => {
    await repo.upsertPause(trx, restaurant.id, { paused_until: pausedUntil, reason, paused_by: input.pausedBy });
    await announcePauseChanged(trx, { kind: 'paused', restaurantId: restaurant.id, pausedUntil, reason });
  });
  return orderingFor(db, restaurant, now);
}

export async function resumeOrdering(db: Knex, restaurantId: number): Promise<void> {
  await withTransaction(db, async (trx) => {
    if (await repo.deletePause(trx, restaurantId)) await announcePauseChanged(trx, { kind: 'resumed', restaurantId });
  });
}

/** The bookable slots starting on local `date` (default: today there), with their remaining capacity. */
export async function listSlots(db: Queryable, restaurant: ScheduleRestaurant, date: string | undefined, now: Date): Promise<SlotView[]> {
  const schedule = await loadSchedule(db, restaurant, now);
  const day = date ?? localDateOf(restaurant.timezone, now);
  const slots = slotsForDate(schedule, day, now, new Map());
  const first = slots[0];
  const last = slots[slots.length - 1];
  if (first === undefined || last === undefined) return [];
  const counts = await repo.countsForRange(db, restaurant.id, first.starts_at, last.ends_at);
  return slotsForDate(schedule, day, now, counts).map(slotView);
}

/**
 * For a `409 slot_full`: the earliest slot after `after` (the full slot's start) that still has room, or
 * null. Reads the counts in `db`, the order's transaction.
 */
export async function findNextAvailableSlot(db: Queryable, schedule: Schedule, restaurantId: number, after: Date, now: Date): Promise<ListedSlot | null> {
  const counts = await repo.countsForRange(db, restaurantId, after, bookingWindowEnd(schedule, now));
  return nextAvailableSlot(schedule, after, now, counts);
}

/** When "until the end of the day" ends for `restaurant` at `now` (see `endOfDay`). */
export async function endOfServiceDay(db: Queryable, restaurant: ScheduleRestaurant, now: Date): Promise<Date> {
  return endOfDay(await loadSchedule(db, restaurant, now), now);
}
