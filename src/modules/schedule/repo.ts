import type { Queryable } from '../../db/database.js';
import type { ReadPart } from '../../db/read-parts.js';
import type { RestaurantClosureRecord } from '../../db/tables.js';
import { parseTimeOfDay, weekdays, type ClosureDays, type ScheduleSettings, type WeeklyRange } from './core.js';
import { runPrepared } from '../../db/prepared.js';

export interface ClosureRow extends ClosureDays {
  id: number;
  reason: string | null;
}

export interface PauseRow {
  paused_until: Date;
  reason: string | null;
}

function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function minutesOf(time: string, endOfDay: boolean): number {
  const minutes = parseTimeOfDay(time, endOfDay);
  if (minutes === undefined) throw new Error(`not a time of day: ${time}`);
  return minutes;
}

export async function selectSettings(db: Queryable, restaurantId: number): Promise<ScheduleSettings | undefined> {
  const row = await db('schedule_settings')
    .select('lead_time_minutes', 'slot_minutes', 'max_orders_per_slot', 'order_ahead_days')
    .where({ restaurant_id: restaurantId })
    .first();
  if (row === undefined) return undefined;
  return row;
}

/** What deciding an order's timing reads, as the separate selects below would answer it. */
export interface ScheduleParts {
  settings: ScheduleSettings | undefined;
  weekly: WeeklyRange[];
  closures: ClosureRow[];
  pause: PauseRow | undefined;
}

/**
 * The settings, the weekly ranges, the closures ending on `fromDate` or later and the pause, as one part
 * of a composed read (checkout reads them with its other settings in one statement of its transaction,
 * where each statement is a round trip).
 */
export function schedulePartsRead(restaurantId: number, fromDate: string): ReadPart<ScheduleParts> {
  return {
    columns: `(SELECT json_build_object('lead_time_minutes', lead_time_minutes, 'slot_minutes', slot_minutes,
                                 'max_orders_per_slot', max_orders_per_slot, 'order_ahead_days', order_ahead_days)
          FROM schedule_settings WHERE restaurant_id = :restaurant) AS schedule_settings,
       coalesce((SELECT json_agg(json_build_object('iso_weekday', iso_weekday, 'opens_minute', opens_minute, 'closes_minute', closes_minute)
                                 ORDER BY iso_weekday, opens_minute)
                   FROM opening_ranges WHERE restaurant_id = :restaurant), '[]'::json) AS schedule_ranges,
       coalesce((SELECT json_agg(json_build_object('id', id, 'reason', reason, 'starts_on', to_char(starts_on, 'YYYY-MM-DD'),
                                                   'ends_on', to_char(ends_on, 'YYYY-MM-DD')) ORDER BY starts_on)
                   FROM restaurant_closures WHERE restaurant_id = :restaurant AND ends_on >= :scheduleFrom::date), '[]'::json) AS schedule_closures,
       (SELECT json_build_object('paused_until_ms', extract(epoch FROM paused_until) * 1000, 'reason', reason)
          FROM ordering_pauses WHERE restaurant_id = :restaurant) AS schedule_pause`,
    bindings: { restaurant: restaurantId, scheduleFrom: fromDate },
    read: toScheduleParts,
  };
}

function toScheduleParts(row: Readonly<Record<string, unknown>>): ScheduleParts {
  const settings = row.schedule_settings as Record<string, unknown> | null;
  const pause = row.schedule_pause as { paused_until_ms: number; reason: string | null } | null;
  return {
    settings:
      settings === null || settings === undefined
        ? undefined
        : {
            lead_time_minutes: Number(settings.lead_time_minutes),
            slot_minutes: Number(settings.slot_minutes),
            max_orders_per_slot: settings.max_orders_per_slot === null ? null : Number(settings.max_orders_per_slot),
            order_ahead_days: Number(settings.order_ahead_days),
          },
    weekly: (row.schedule_ranges as Array<Record<string, unknown>>).map(toRange),
    closures: (row.schedule_closures as StoredClosure[]).map(toClosure),
    pause: pause === null || pause === undefined ? undefined : { paused_until: new Date(Number(pause.paused_until_ms)), reason: pause.reason ?? null },
  };
}

function toRange(row: Record<string, unknown>): WeeklyRange {
  return {
    day: weekdays()[Number(row.iso_weekday) - 1] as WeeklyRange['day'],
    opens: formatMinutes(Number(row.opens_minute)),
    closes: formatMinutes(Number(row.closes_minute)),
  };
}

/** Monday first, then by opening time. */
export async function selectRanges(db: Queryable, restaurantId: number): Promise<WeeklyRange[]> {
  const rows = await db('opening_ranges')
    .select('iso_weekday', 'opens_minute', 'closes_minute')
    .where({ restaurant_id: restaurantId })
    .orderBy([{ column: 'iso_weekday' }, { column: 'opens_minute' }]);
  return rows.map(toRange);
}

/** Also locks the restaurant's settings row, so two replacements of the hours run one after the other. */
export async function upsertSettings(db: Queryable, restaurantId: number, settings: ScheduleSettings): Promise<void> {
  await db('schedule_settings')
    .insert({ restaurant_id: restaurantId, ...settings })
    .onConflict('restaurant_id')
    .merge({ ...settings, updated_at: db.fn.now() });
}

export async function replaceRanges(db: Queryable, restaurantId: number, ranges: readonly WeeklyRange[]): Promise<void> {
  await db('opening_ranges').where({ restaurant_id: restaurantId }).delete();
  if (ranges.length === 0) return;
  await db('opening_ranges').insert(
    ranges.map((range) => ({
      restaurant_id: restaurantId,
      iso_weekday: weekdays().indexOf(range.day) + 1,
      opens_minute: minutesOf(range.opens, false),
      closes_minute: minutesOf(range.closes, true),
    })),
  );
}

type StoredClosure = Pick<RestaurantClosureRecord, 'id' | 'reason'> & ClosureDays;

// `date` columns are read as text: node-postgres would turn them into Dates at local midnight of the process.
function selectClosures(db: Queryable, restaurantId: number) {
  return db('restaurant_closures')
    .select('id', 'reason')
    .select<StoredClosure[]>(db.raw(`to_char(starts_on, 'YYYY-MM-DD') AS starts_on`), db.raw(`to_char(ends_on, 'YYYY-MM-DD') AS ends_on`))
    .where({ restaurant_id: restaurantId });
}

function toClosure(row: StoredClosure): ClosureRow {
  return { id: Number(row.id), starts_on: row.starts_on, ends_on: row.ends_on, reason: row.reason };
}

/** Ordered by start, then id (the keyset). */
export async function selectClosurePage(
  db: Queryable,
  restaurantId: number,
  options: { after: [string, number] | undefined; limit: number },
): Promise<ClosureRow[]> {
  const query = selectClosures(db, restaurantId);
  if (options.after !== undefined) query.andWhereRaw('(starts_on, id) > (?::date, ?)', options.after);
  const rows = await query.orderBy([{ column: 'starts_on' }, { column: 'id' }]).limit(options.limit);
  return rows.map(toClosure);
}

/** `starts_on` and `ends_on` as validated calendar dates, so they are stored and answered as given. */
export async function insertClosure(db: Queryable, restaurantId: number, closure: Omit<ClosureRow, 'id'>): Promise<ClosureRow> {
  const [row] = await db('restaurant_closures')
    .insert({ restaurant_id: restaurantId, ...closure })
    .returning('id');
  if (row === undefined) throw new Error('insert into restaurant_closures returned no row');
  return { id: Number(row.id), ...closure };
}

export async function deleteClosure(db: Queryable, restaurantId: number, id: number): Promise<boolean> {
  // Counted from RETURNING: PGlite's driver answers a bare DELETE with its raw result, not a row count.
  const deleted: unknown[] = await db('restaurant_closures').where({ restaurant_id: restaurantId, id }).delete().returning('id');
  return deleted.length > 0;
}

export async function upsertPause(db: Queryable, restaurantId: number, pause: PauseRow & { paused_by: string }): Promise<void> {
  await db('ordering_pauses')
    .insert({ restaurant_id: restaurantId, ...pause })
    .onConflict('restaurant_id')
    .merge({ ...pause, created_at: db.fn.now() });
}

/** Whether there was a pause to end. */
export async function deletePause(db: Queryable, restaurantId: number): Promise<boolean> {
  const deleted: unknown[] = await db('ordering_pauses').where({ restaurant_id: restaurantId }).delete().returning('restaurant_id');
  return deleted.length > 0;
}

/**
 * Counts one order into a slot unless it already holds `cap`: one statement, so however many transactions
 * race for the last place, the row lock decides and the count never passes the cap. Without a cap the order
 * is still counted, so a cap set later sees the orders already taken. False: the slot is full.
 */
export async function reserveSlot(db: Queryable, restaurantId: number, slotStartsAt: Date, cap: number | null): Promise<boolean> {
  if (cap !== null && cap < 1) return false;
  const result: { rows: unknown[] } = await runPrepared(db, {
    // Fixed text, run by every checkout: planned once per connection.
    name: 'slot_reserve',
    sql: `INSERT INTO slot_bookings (restaurant_id, slot_starts_at, orders_count) VALUES (?, ?, 1)
     ON CONFLICT (restaurant_id, slot_starts_at) DO UPDATE SET orders_count = slot_bookings.orders_count + 1
     WHERE ?::integer IS NULL OR slot_bookings.orders_count < ?::integer
     RETURNING orders_count`,
    bindings: [restaurantId, slotStartsAt, cap, cap],
  });
  return result.rows.length === 1;
}

/** Gives one place back; never below zero. False when the slot held no order. */
export async function releaseSlot(db: Queryable, restaurantId: number, slotStartsAt: Date): Promise<boolean> {
  const released: unknown[] = await db('slot_bookings')
    .where({ restaurant_id: restaurantId, slot_starts_at: slotStartsAt })
    .andWhere('orders_count', '>', 0)
    .decrement('orders_count', 1)
    .returning('orders_count');
  return released.length > 0;
}

/** Orders counted per slot starting in [from, to), keyed by the slot's start in epoch milliseconds. */
export async function countsForRange(db: Queryable, restaurantId: number, from: Date, to: Date): Promise<Map<number, number>> {
  const rows = await db('slot_bookings')
    .select('slot_starts_at', 'orders_count')
    .where({ restaurant_id: restaurantId })
    .andWhere('slot_starts_at', '>=', from)
    .andWhere('slot_starts_at', '<', to);
  return new Map(rows.map((row) => [row.slot_starts_at.getTime(), row.orders_count]));
}
