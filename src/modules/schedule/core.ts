// The schedule's rules, pure: hours, closures, a pause and the settings, plus an instant, give whether the
// restaurant takes orders and which slots it offers. No I/O, no clock: "now" is always an argument.
//
// Everything is computed on instants (epoch milliseconds) in the restaurant's IANA zone, so daylight saving
// needs no special case beyond one rule, `instantAt`: a local wall time means the earliest instant whose local
// time is at or after it. A time the clocks skip (spring forward) thus means the instant of the jump, and a
// time they show twice (fall back) means its first occurrence. The mapping never goes backwards, so ranges
// that do not overlap on the wall clock never overlap as instants, and a range spanning the repeated hour
// holds every instant of it once ("22:00"–"03:00" in Europe/Berlin is 4 h on the last Saturday of March and
// 6 h on the last Saturday of October).
//
// Settled details (API.md, "Service hours, order-ahead times, kitchen capacity"):
// - A range whose `closes` is not after `opens` ends on the next day; "24:00" is the end of its own day.
// - Empty weekly hours mean always open; each local day is then one range from midnight to midnight, so the
//   slot grid of an always-open restaurant starts at every local midnight.
// - Slots start at a range's opening and every `slot_minutes` of elapsed time after it; the last one ends at
//   or before the closing. A slot belongs to the local date on which it starts (a slot at 01:00 after a
//   Saturday-night range is listed under Sunday).
// - A closure takes whole local days, `ends_on` inclusive: the instants from local midnight of `starts_on`
//   to local midnight after `ends_on`. A slot overlapping a closure is not offered, even when its range began
//   the day before.
// - A slot can be booked ahead when it starts at least the lead time from now and on a local date no later
//   than today + `order_ahead_days`. A pause does not touch booking ahead: it stops ASAP orders only.
// - An ASAP order is promised for now + lead time and counts in the slot containing that instant
//   (start <= promised < end), found on the grid of the range containing it. The restaurant accepts ASAP
//   orders at `now` when `now` is inside its hours, outside closures and pauses, and that slot exists and is
//   outside closures: near closing, once now + lead time falls past the last slot, ASAP ordering stops.

import { IANAZone } from 'luxon';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** One opening range on the wall clock, `"HH:MM"`; `closes` may be `"24:00"` or at/before `opens` (overnight). */
export interface WeeklyRange {
  day: Weekday;
  opens: string;
  closes: string;
}

export interface ScheduleSettings {
  lead_time_minutes: number;
  slot_minutes: number;
  /** Null: no cap. */
  max_orders_per_slot: number | null;
  order_ahead_days: number;
}

/** Whole local days, `"YYYY-MM-DD"`, both ends included. */
export interface ClosureDays {
  starts_on: string;
  ends_on: string;
}

export interface Schedule {
  /** The restaurant's IANA zone, e.g. Europe/Berlin. */
  timezone: string;
  weekly: readonly WeeklyRange[];
  settings: ScheduleSettings;
  closures: readonly ClosureDays[];
  /** ASAP orders are refused before this instant; null or past: not paused. */
  pausedUntil: Date | null;
}

export interface Slot {
  starts_at: Date;
  ends_at: Date;
}

export interface ListedSlot extends Slot {
  available: boolean;
  /** Null without a cap. */
  remaining: number | null;
}

/** Orders already counted per slot, keyed by the slot's start in epoch milliseconds; absent means none. */
export type SlotCounts = ReadonlyMap<number, number>;

export type NotAcceptingReason = 'closed' | 'closure' | 'paused';

export interface OrderingStatus {
  accepting_orders: boolean;
  reason: NotAcceptingReason | null;
  paused_until: Date | null;
  /** Null while accepting, or when nothing opens within a year. */
  next_open_at: Date | null;
  /** When an ASAP order placed now would be ready (now + lead time); null while not accepting. */
  asap_ready_at: Date | null;
}

export type InvalidSlotReason = 'too_soon' | 'too_far' | 'closure' | 'outside_hours' | 'not_a_slot_start';

export type RequestedSlotCheck = { kind: 'valid'; slot: Slot } | { kind: 'invalid'; reason: InvalidSlotReason };

export type AsapPlacement = { kind: 'accepted'; promised_at: Date; slot: Slot } | { kind: 'not_accepting'; status: OrderingStatus };

// ---- vocabulary -------------------------------------------------------------------------------------------

export function weekdays(): readonly Weekday[] {
  return ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
}

export function slotLengths(): readonly number[] {
  return [5, 10, 15, 20, 30, 60];
}

export function defaultSettings(): ScheduleSettings {
  return { lead_time_minutes: 20, slot_minutes: 15, max_orders_per_slot: null, order_ahead_days: 7 };
}

/** How far ahead `next_open_at` is looked for. */
function searchHorizonDays(): number {
  return 366;
}

const minutesMs = (minutes: number) => minutes * 60_000;
const daysMs = (days: number) => days * 86_400_000;

/**
 * Minutes after local midnight of `"HH:MM"` (00:00–23:59), or 1440 for `"24:00"` when `endOfDay` allows it;
 * undefined when the text is no such time.
 */
export function parseTimeOfDay(text: string, endOfDay: boolean): number | undefined {
  if (endOfDay && text === '24:00') return 1440;
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Days since 1970-01-01 of a `"YYYY-MM-DD"` calendar date; undefined when there is no such date (2027-02-29). */
export function parseLocalDate(text: string): number | undefined {
  const match = /(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (match === null) return undefined;
  const dayNumber = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / daysMs(1);
  // Only text that is exactly the date read back passes: not "2027-02-29" (Date.UTC rolls it over to
  // 1 March), not years below 100 (read as 19xx), not anything around the date.
  return formatLocalDate(dayNumber) === text ? dayNumber : undefined;
}

export function formatLocalDate(dayNumber: number): string {
  return new Date(daysMs(dayNumber)).toISOString().slice(0, 10);
}

/** 0 for Monday … 6 for Sunday (1970-01-01, day 0, was a Thursday). */
function weekdayIndex(dayNumber: number): number {
  return (((dayNumber + 3) % 7) + 7) % 7;
}

// ---- the zone ---------------------------------------------------------------------------------------------

function zoneOf(name: string): IANAZone {
  const zone = IANAZone.create(name);
  if (!zone.isValid) throw new Error(`unknown time zone "${name}"`);
  return zone;
}

function offsetMs(zone: IANAZone, instant: number): number {
  return minutesMs(zone.offset(instant));
}

/** The local calendar date (day number) of an instant. */
function localDayOf(zone: IANAZone, instant: number): number {
  return Math.floor((instant + offsetMs(zone, instant)) / daysMs(1));
}

/**
 * The earliest instant whose local wall time is at or after `minute` minutes past local midnight of `day`
 * (1440 is the next midnight). See the top of the file for why.
 */
function instantAt(zone: IANAZone, day: number, minute: number): number {
  // Every request of a restaurant asks for the same few days' opening and closing instants, and each costs
  // Intl several offset readings: remembered per zone (the answer depends on the zone's rules only).
  let known = instantsOf.get(zone);
  if (known === undefined || known.size >= MAX_INSTANTS_PER_ZONE) {
    known = new Map();
    instantsOf.set(zone, known);
  }
  const key = day * MINUTES_PER_DAY_AND_ONE + minute;
  const remembered = known.get(key);
  if (remembered !== undefined) return remembered;
  const instant = computeInstantAt(zone, day, minute);
  known.set(key, instant);
  return instant;
}

/** Minutes 0 … 1440 of a day: 1441 keys a day. */
const MINUTES_PER_DAY_AND_ONE = 1441;
/** A year of a restaurant's opening and closing times, several times over; past it the zone's memory starts afresh. */
const MAX_INSTANTS_PER_ZONE = 4096;
const instantsOf = new WeakMap<IANAZone, Map<number, number>>();

function computeInstantAt(zone: IANAZone, day: number, minute: number): number {
  const wall = daysMs(day) + minutesMs(minute);
  // The offsets a day either side: no zone changes its offset twice within two days.
  const offsetBefore = offsetMs(zone, wall - daysMs(1));
  const offsetAfter = offsetMs(zone, wall + daysMs(1));
  const candidates = [wall - offsetBefore, wall - offsetAfter].filter((instant) => instant + offsetMs(zone, instant) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  // Skipped by the clocks: the jump lies between the two readings; find its instant to the millisecond.
  let skippedTo = wall - offsetBefore;
  let before = wall - offsetAfter;
  while (skippedTo - before > 1) {
    const middle = Math.floor((before + skippedTo) / 2);
    if (offsetMs(zone, middle) === offsetAfter) skippedTo = middle;
    else before = middle;
  }
  return skippedTo;
}

/** Today's local date of the zone, `"YYYY-MM-DD"`. */
export function localDateOf(timezone: string, now: Date): string {
  return formatLocalDate(localDayOf(zoneOf(timezone), now.getTime()));
}

// ---- the compiled schedule --------------------------------------------------------------------------------

interface Span {
  start: number;
  end: number;
}

interface CompiledRange {
  weekday: number;
  opens: number;
  closes: number;
}

interface Compiled {
  zone: IANAZone;
  /** Null: always open. */
  ranges: readonly CompiledRange[] | null;
  slotMs: number;
  leadMs: number;
  cap: number | null;
  aheadDays: number;
  closures: readonly Span[];
  /** -Infinity when there is no pause. */
  pausedUntil: number;
}

function compile(schedule: Schedule): Compiled {
  const zone = zoneOf(schedule.timezone);
  const ranges = schedule.weekly.map((range): CompiledRange => {
    const opens = parseTimeOfDay(range.opens, false);
    const closes = parseTimeOfDay(range.closes, true);
    if (opens === undefined || closes === undefined) throw new Error(`malformed opening range ${range.day} ${range.opens}-${range.closes}`);
    return { weekday: weekdays().indexOf(range.day), opens, closes };
  });
  const closures = schedule.closures.map((closure): Span => {
    const first = parseLocalDate(closure.starts_on);
    const last = parseLocalDate(closure.ends_on);
    if (first === undefined || last === undefined) throw new Error(`malformed closure ${closure.starts_on}..${closure.ends_on}`);
    return { start: instantAt(zone, first, 0), end: instantAt(zone, last + 1, 0) };
  });
  return {
    zone,
    ranges: ranges.length === 0 ? null : ranges,
    slotMs: minutesMs(schedule.settings.slot_minutes),
    leadMs: minutesMs(schedule.settings.lead_time_minutes),
    cap: schedule.settings.max_orders_per_slot,
    aheadDays: schedule.settings.order_ahead_days,
    closures,
    pausedUntil: schedule.pausedUntil?.getTime() ?? Number.NEGATIVE_INFINITY,
  };
}

/** The opening intervals of the ranges that open on local date `day` (a service day), in order. */
function openingIntervals(c: Compiled, day: number): Span[] {
  if (c.ranges === null) return [{ start: instantAt(c.zone, day, 0), end: instantAt(c.zone, day + 1, 0) }];
  const weekday = weekdayIndex(day);
  const spans: Span[] = [];
  for (const range of c.ranges) {
    if (range.weekday !== weekday) continue;
    const start = instantAt(c.zone, day, range.opens);
    // A range lying wholly in skipped wall time comes out empty (start = end) and so holds no slot.
    const end = range.closes > range.opens ? instantAt(c.zone, day, range.closes) : instantAt(c.zone, day + 1, range.closes);
    spans.push({ start, end });
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** Every interval that can hold an instant of local date `day`: ranges are at most a day long. */
function intervalsAround(c: Compiled, day: number): Span[] {
  return [...openingIntervals(c, day - 1), ...openingIntervals(c, day)];
}

function slotsIn(c: Compiled, span: Span): Span[] {
  const slots: Span[] = [];
  for (let start = span.start; start + c.slotMs <= span.end; start += c.slotMs) slots.push({ start, end: start + c.slotMs });
  return slots;
}

const contains = (span: Span, instant: number) => span.start <= instant && instant < span.end;

function inClosure(c: Compiled, instant: number): boolean {
  return c.closures.some((closure) => contains(closure, instant));
}

function overlapsClosure(c: Compiled, slot: Span): boolean {
  return c.closures.some((closure) => slot.start < closure.end && closure.start < slot.end);
}

function isPaused(c: Compiled, instant: number): boolean {
  return instant < c.pausedUntil;
}

function isOpenAt(c: Compiled, instant: number): boolean {
  return intervalsAround(c, localDayOf(c.zone, instant)).some((span) => contains(span, instant));
}

/** The slot an ASAP order placed at `now` counts in, if there is one (see the top of the file). */
function asapSlotAt(c: Compiled, now: number): Span | undefined {
  const promised = now + c.leadMs;
  const span = intervalsAround(c, localDayOf(c.zone, promised)).find((candidate) => contains(candidate, promised));
  if (span === undefined) return undefined;
  const start = span.start + Math.floor((promised - span.start) / c.slotMs) * c.slotMs;
  const slot = { start, end: start + c.slotMs };
  return slot.end > span.end || overlapsClosure(c, slot) ? undefined : slot;
}

function acceptsAsapAt(c: Compiled, instant: number): boolean {
  return !isPaused(c, instant) && !inClosure(c, instant) && isOpenAt(c, instant) && asapSlotAt(c, instant) !== undefined;
}

/**
 * The earliest instant at or after `from` that accepts ASAP orders. Acceptance only ever begins at `from`, at
 * a range's opening, at the end of a closure or of the pause, or lead time before a slot starts, so only those
 * instants are tried, day by day and in order.
 */
function firstAcceptingInstant(c: Compiled, from: number): number | null {
  const pending = [from, c.pausedUntil, ...c.closures.map((closure) => closure.end)];
  const firstDay = localDayOf(c.zone, from) - 1;
  for (let day = firstDay; day <= firstDay + searchHorizonDays(); day += 1) {
    for (const span of openingIntervals(c, day)) {
      pending.push(span.start, ...slotsIn(c, span).map((slot) => slot.start - c.leadMs));
    }
    // Every instant a later service day adds is at or after this one, so those before it can be tried now.
    const settled = instantAt(c.zone, day + 1, 0) - c.leadMs;
    pending.sort((a, b) => a - b);
    while ((pending[0] ?? Number.POSITIVE_INFINITY) < settled) {
      const candidate = pending.shift() as number;
      if (candidate >= from && acceptsAsapAt(c, candidate)) return candidate;
    }
  }
  return null;
}

function isBookable(c: Compiled, slot: Span, now: number): boolean {
  return slot.start >= now + c.leadMs && localDayOf(c.zone, slot.start) <= localDayOf(c.zone, now) + c.aheadDays && !overlapsClosure(c, slot);
}

/** The slots starting on local date `day` that can be booked ahead at `now`, in order. */
function bookableSlotsOn(c: Compiled, day: number, now: number): Span[] {
  return intervalsAround(c, day)
    .flatMap((span) => slotsIn(c, span))
    .filter((slot) => localDayOf(c.zone, slot.start) === day && isBookable(c, slot, now));
}

function listed(c: Compiled, slot: Span, counts: SlotCounts): ListedSlot {
  const count = counts.get(slot.start) ?? 0;
  return {
    starts_at: new Date(slot.start),
    ends_at: new Date(slot.end),
    available: c.cap === null || count < c.cap,
    remaining: c.cap === null ? null : Math.max(0, c.cap - count),
  };
}

const toSlot = (span: Span): Slot => ({ starts_at: new Date(span.start), ends_at: new Date(span.end) });

// ---- what the service and checkout ask ---------------------------------------------------------------------

/** `GET /v1/restaurant`'s `ordering`: whether ASAP orders are taken at `now`, and if not why and from when. */
export function orderingStatus(schedule: Schedule, now: Date): OrderingStatus {
  const c = compile(schedule);
  const at = now.getTime();
  const accepting = acceptsAsapAt(c, at);
  let reason: NotAcceptingReason | null = null;
  if (!accepting) {
    if (inClosure(c, at)) reason = 'closure';
    else if (!isOpenAt(c, at)) reason = 'closed';
    // Open, but an order now could not be ready in time: before a closure, or past the last slot.
    else if (asapSlotAt(c, at) === undefined) reason = inClosure(c, at + c.leadMs) ? 'closure' : 'closed';
    else reason = 'paused';
  }
  const nextOpen = accepting ? null : firstAcceptingInstant(c, at);
  return {
    accepting_orders: accepting,
    reason,
    paused_until: isPaused(c, at) ? new Date(c.pausedUntil) : null,
    next_open_at: nextOpen === null ? null : new Date(nextOpen),
    asap_ready_at: accepting ? new Date(at + c.leadMs) : null,
  };
}

/** An ASAP order at `now`: its promised time and the slot it counts in, or why it is refused. */
export function placeAsap(schedule: Schedule, now: Date): AsapPlacement {
  const c = compile(schedule);
  const at = now.getTime();
  const slot = acceptsAsapAt(c, at) ? asapSlotAt(c, at) : undefined;
  if (slot === undefined) return { kind: 'not_accepting', status: orderingStatus(schedule, now) };
  return { kind: 'accepted', promised_at: new Date(at + c.leadMs), slot: toSlot(slot) };
}

/**
 * `GET /v1/restaurant/slots`: the bookable slots starting on local date `date` (`"YYYY-MM-DD"`), with what
 * `counts` says is left of the cap. Past, too soon, too far ahead or in a closure: not listed.
 */
export function slotsForDate(schedule: Schedule, date: string, now: Date, counts: SlotCounts): ListedSlot[] {
  const day = parseLocalDate(date);
  if (day === undefined) throw new Error(`not a calendar date: ${date}`);
  const c = compile(schedule);
  return bookableSlotsOn(c, day, now.getTime()).map((slot) => listed(c, slot, counts));
}

/** Whether `requestedAt` is the start of a slot that can be booked at `now` (capacity aside). */
export function validateRequestedSlot(schedule: Schedule, requestedAt: Date, now: Date): RequestedSlotCheck {
  const c = compile(schedule);
  const at = requestedAt.getTime();
  const nowMs = now.getTime();
  const invalid = (reason: InvalidSlotReason): RequestedSlotCheck => ({ kind: 'invalid', reason });
  if (at < nowMs + c.leadMs) return invalid('too_soon');
  const day = localDayOf(c.zone, at);
  if (day > localDayOf(c.zone, nowMs) + c.aheadDays) return invalid('too_far');
  if (inClosure(c, at)) return invalid('closure');
  const span = intervalsAround(c, day).find((candidate) => contains(candidate, at));
  if (span === undefined) return invalid('outside_hours');
  const slot = { start: at, end: at + c.slotMs };
  if ((at - span.start) % c.slotMs !== 0 || slot.end > span.end) return invalid('not_a_slot_start');
  if (overlapsClosure(c, slot)) return invalid('closure');
  return { kind: 'valid', slot: toSlot(slot) };
}

/** A sentence for a customer saying why a requested time is not a slot. */
export function describeInvalidSlot(reason: InvalidSlotReason): string {
  switch (reason) {
    case 'too_soon':
      return 'The requested time is sooner than the kitchen can have the order ready';
    case 'too_far':
      return 'The requested time is further ahead than orders are taken';
    case 'closure':
      return 'The restaurant is closed on the requested day';
    case 'outside_hours':
      return 'The requested time is outside the opening hours';
    case 'not_a_slot_start':
      return 'The requested time is not the start of a slot: list them with GET /v1/restaurant/slots';
  }
}

/**
 * The earliest bookable slot starting after `after` (typically a full slot's start) with room left by
 * `counts`, or null when none is left within the order-ahead window.
 */
export function nextAvailableSlot(schedule: Schedule, after: Date, now: Date, counts: SlotCounts): ListedSlot | null {
  const c = compile(schedule);
  const afterMs = after.getTime();
  const nowMs = now.getTime();
  const lastDay = localDayOf(c.zone, nowMs) + c.aheadDays;
  for (let day = localDayOf(c.zone, afterMs); day <= lastDay; day += 1) {
    for (const slot of bookableSlotsOn(c, day, nowMs)) {
      const candidate = listed(c, slot, counts);
      if (slot.start > afterMs && candidate.available) return candidate;
    }
  }
  return null;
}

/** The end (exclusive) of the order-ahead window at `now`: local midnight after today + `order_ahead_days`. */
export function bookingWindowEnd(schedule: Schedule, now: Date): Date {
  const c = compile(schedule);
  return new Date(instantAt(c.zone, localDayOf(c.zone, now.getTime()) + c.aheadDays + 1, 0));
}

/**
 * The end of the current service day: when the last range of the day `now` is served in closes (for a
 * Saturday-night range, that may be 03:00 on Sunday), or the next local midnight when that day has no range
 * still to close. Always-open restaurants therefore end their day at local midnight.
 */
export function endOfDay(schedule: Schedule, now: Date): Date {
  const c = compile(schedule);
  const at = now.getTime();
  const today = localDayOf(c.zone, at);
  const servedIn = openingIntervals(c, today - 1).some((span) => contains(span, at)) ? today - 1 : today;
  const lastClose = Math.max(...openingIntervals(c, servedIn).map((span) => span.end), at);
  return new Date(lastClose > at ? lastClose : instantAt(c.zone, today + 1, 0));
}

/**
 * Pairs of weekly ranges `[earlier index, later index]` that share some time of the week, a range that runs
 * past midnight counting on the next day too (Sunday's into Monday's). Ranges that only touch do not overlap.
 */
export function overlappingRanges(weekly: readonly WeeklyRange[]): Array<[number, number]> {
  const week = 7 * 1440;
  // A malformed time gives its range NaN bounds, which overlap nothing: the time validation reports it.
  const spans = weekly.map((range) => {
    const opens = parseTimeOfDay(range.opens, false) ?? Number.NaN;
    const closes = parseTimeOfDay(range.closes, true) ?? Number.NaN;
    const dayStart = weekdays().indexOf(range.day) * 1440;
    return { start: dayStart + opens, end: dayStart + (closes > opens ? closes : closes + 1440) };
  });
  const pairs: Array<[number, number]> = [];
  spans.forEach((a, i) => {
    spans.slice(i + 1).forEach((b, offset) => {
      if ([-week, 0, week].some((shift) => a.start < b.end + shift && b.start + shift < a.end)) pairs.push([i, i + 1 + offset]);
    });
  });
  return pairs;
}
