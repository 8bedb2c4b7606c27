import { describe, expect, it } from 'vitest';
import {
  bookingWindowEnd,
  defaultSettings,
  describeInvalidSlot,
  endOfDay,
  formatLocalDate,
  localDateOf,
  nextAvailableSlot,
  orderingStatus,
  overlappingRanges,
  parseLocalDate,
  parseTimeOfDay,
  placeAsap,
  slotLengths,
  slotsForDate,
  validateRequestedSlot,
  weekdays,
  type ClosureDays,
  type ListedSlot,
  type Schedule,
  type ScheduleSettings,
  type Weekday,
  type WeeklyRange,
} from '../src/modules/schedule/core.js';

const range = (day: Weekday, opens: string, closes: string): WeeklyRange => ({ day, opens, closes });

/** Slot-shape tests stand well before the day they list, with no lead time and a month of order-ahead. */
const shapeSettings: Partial<ScheduleSettings> = { lead_time_minutes: 0, order_ahead_days: 30 };

function schedule(options: {
  tz?: string;
  weekly?: WeeklyRange[];
  settings?: Partial<ScheduleSettings>;
  closures?: ClosureDays[];
  pausedUntil?: string;
}): Schedule {
  return {
    timezone: options.tz ?? 'UTC',
    weekly: options.weekly ?? [],
    settings: { ...defaultSettings(), ...options.settings },
    closures: options.closures ?? [],
    pausedUntil: options.pausedUntil === undefined ? null : new Date(options.pausedUntil),
  };
}

const at = (iso: string) => new Date(iso);
const none = new Map<number, number>();
const starts = (slots: ReadonlyArray<{ starts_at: Date }>) => slots.map((slot) => slot.starts_at.toISOString());
const countsOf = (entries: Record<string, number>) => new Map(Object.entries(entries).map(([iso, count]) => [Date.parse(iso), count]));
/** By default the slots are looked at from midnight UTC two days before. */
const slotsOn = (s: Schedule, date: string, now?: string, counts: ReadonlyMap<number, number> = none) =>
  slotsForDate(s, date, at(now ?? `${formatLocalDate((parseLocalDate(date) as number) - 2)}T00:00:00Z`), counts);
/** The slots of a night that starts on `first` and runs into the next day, listed as two days. */
const night = (s: Schedule, first: string, second: string) => [...slotsOn(s, first, `${first}T00:00:00Z`), ...slotsOn(s, second, `${first}T00:00:00Z`)];
const hours = (slots: ListedSlot[]) => (slots.length === 0 ? 0 : (slots.at(-1)!.ends_at.getTime() - slots[0]!.starts_at.getTime()) / 3_600_000);

describe('the vocabulary', () => {
  it('names the days Monday first, the allowed slot lengths and the defaults of the contract', () => {
    expect(weekdays()).toEqual(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
    expect(slotLengths()).toEqual([5, 10, 15, 20, 30, 60]);
    expect(defaultSettings()).toEqual({ lead_time_minutes: 20, slot_minutes: 15, max_orders_per_slot: null, order_ahead_days: 7 });
  });

  it.each([
    ['00:00', false, 0],
    ['00:01', false, 1],
    ['09:59', false, 599],
    ['19:59', false, 1199],
    ['20:00', false, 1200],
    ['23:59', false, 1439],
    ['24:00', true, 1440],
    ['23:59', true, 1439],
    ['24:00', false, undefined],
    ['24:01', true, undefined],
    ['25:00', true, undefined],
    ['12:60', false, undefined],
    ['7:00', false, undefined],
    ['07:0', false, undefined],
    ['07:000', false, undefined],
    [' 07:00', false, undefined],
    ['07:00 ', false, undefined],
    ['07-00', false, undefined],
    ['', true, undefined],
  ] as const)('reads the time of day %j (24:00 allowed: %s) as %s minutes', (text, endOfDay, minutes) => {
    expect(parseTimeOfDay(text, endOfDay)).toBe(minutes);
  });

  it.each([
    ['1970-01-01', 0],
    ['1970-01-02', 1],
    ['1969-12-31', -1],
    ['2028-02-29', 21_243],
    ['2026-12-31', 20_818],
    ['2027-02-29', undefined],
    ['2026-02-30', undefined],
    ['2026-04-31', undefined],
    ['2026-13-01', undefined],
    ['2026-00-10', undefined],
    ['2026-01-00', undefined],
    ['2026-1-01', undefined],
    ['2026-01-01T00:00', undefined],
    ['x2026-01-01', undefined],
    ['0050-01-01', undefined],
  ] as const)('reads the calendar date %j as day %s', (text, day) => {
    expect(parseLocalDate(text)).toBe(day);
    if (day !== undefined) expect(formatLocalDate(day)).toBe(text);
  });

  it('tells the local date of an instant in the restaurant zone', () => {
    expect(localDateOf('Europe/Berlin', at('2026-06-01T21:59:59.999Z'))).toBe('2026-06-01');
    expect(localDateOf('Europe/Berlin', at('2026-06-01T22:00:00Z'))).toBe('2026-06-02');
    expect(localDateOf('Pacific/Auckland', at('2026-06-01T11:59:59Z'))).toBe('2026-06-01');
    expect(localDateOf('Pacific/Auckland', at('2026-06-01T12:00:00Z'))).toBe('2026-06-02');
    expect(localDateOf('America/New_York', at('2026-06-02T03:59:00Z'))).toBe('2026-06-01');
    expect(() => localDateOf('Mars/Olympus', at('2026-06-01T00:00:00Z'))).toThrow('unknown time zone "Mars/Olympus"');
  });
});

describe('overlapping weekly ranges', () => {
  it.each([
    ['disjoint ranges on one day', [range('mon', '12:00', '14:30'), range('mon', '18:00', '22:30')], []],
    ['ranges that only touch', [range('mon', '12:00', '14:30'), range('mon', '14:30', '18:00')], []],
    ['ranges that only touch, later range listed first', [range('mon', '14:30', '18:00'), range('mon', '12:00', '14:30')], []],
    ['a range to "24:00" and one inside its last hour', [range('mon', '18:00', '24:00'), range('mon', '23:00', '23:30')], [[0, 1]]],
    ['one minute of overlap', [range('mon', '12:00', '14:31'), range('mon', '14:30', '18:00')], [[0, 1]]],
    ['one minute of overlap, later range listed first', [range('mon', '14:30', '18:00'), range('mon', '12:00', '14:31')], [[0, 1]]],
    ['a range inside another', [range('tue', '12:00', '22:00'), range('tue', '13:00', '14:00')], [[0, 1]]],
    ['the same range twice', [range('wed', '12:00', '14:00'), range('wed', '12:00', '14:00')], [[0, 1]]],
    ['the same times on different days', [range('wed', '12:00', '14:00'), range('thu', '12:00', '14:00')], []],
    ['an overnight range spilling into the next day', [range('mon', '22:00', '03:00'), range('tue', '02:00', '05:00')], [[0, 1]]],
    ['an overnight range touching the next day', [range('mon', '22:00', '03:00'), range('tue', '03:00', '05:00')], []],
    ['an overnight range and the same day earlier', [range('mon', '22:00', '03:00'), range('mon', '01:00', '05:00')], []],
    ['Sunday night into Monday', [range('sun', '22:00', '03:00'), range('mon', '01:00', '05:00')], [[0, 1]]],
    ['Monday listed before Sunday night', [range('mon', '01:00', '05:00'), range('sun', '22:00', '03:00')], [[0, 1]]],
    ['Sunday night touching Monday', [range('sun', '22:00', '03:00'), range('mon', '03:00', '05:00')], []],
    ['"24:00" touching the next midnight', [range('mon', '18:00', '24:00'), range('tue', '00:00', '02:00')], []],
    ['"00:00" as closing touches the next midnight', [range('mon', '18:00', '00:00'), range('tue', '00:00', '01:00')], []],
    ['a whole day (closes = opens) into the next', [range('mon', '10:00', '10:00'), range('tue', '09:00', '11:00')], [[0, 1]]],
    ['a whole day touching the next', [range('mon', '10:00', '10:00'), range('tue', '10:00', '12:00')], []],
    [
      'several pairs',
      [range('fri', '12:00', '15:00'), range('sat', '12:00', '13:00'), range('fri', '14:00', '16:00'), range('fri', '15:30', '17:00')],
      [
        [0, 2],
        [2, 3],
      ],
    ],
    ['an opening at "24:00" is malformed, not midnight', [range('mon', '24:00', '02:00'), range('tue', '00:30', '01:00')], []],
    ['a malformed range is left to the time validation', [range('mon', 'xx', '14:00'), range('mon', '12:00', '14:00'), range('mon', '12:00', '25:00')], []],
  ])('%s', (_name, weekly, pairs) => {
    expect(overlappingRanges(weekly)).toEqual(pairs);
  });
});

describe('the slots of a day', () => {
  it('start at the opening and every slot_minutes after; the last one ends at the closing', () => {
    const slots = slotsOn(schedule({ weekly: [range('mon', '12:00', '14:30')], settings: shapeSettings }), '2026-06-01');
    expect(slots).toHaveLength(10);
    expect(slots[0]).toEqual({ starts_at: at('2026-06-01T12:00:00Z'), ends_at: at('2026-06-01T12:15:00Z'), available: true, remaining: null });
    expect(slots.at(-1)).toEqual({ starts_at: at('2026-06-01T14:15:00Z'), ends_at: at('2026-06-01T14:30:00Z'), available: true, remaining: null });
  });

  it.each([
    ['a closing off the grid ends the last slot before it', '12:00', '13:10', 30, ['12:00', '12:30']],
    ['one slot that exactly fits', '12:00', '13:00', 60, ['12:00']],
    ['a range shorter than a slot has none', '12:00', '12:59', 60, []],
    ['an opening off the hour sets the grid', '12:10', '13:00', 15, ['12:10', '12:25', '12:40']],
    ['five-minute slots', '12:00', '12:20', 5, ['12:00', '12:05', '12:10', '12:15']],
    ['twenty-minute slots', '12:00', '13:00', 20, ['12:00', '12:20', '12:40']],
    ['"24:00" closes at the end of the day', '22:00', '24:00', 30, ['22:00', '22:30', '23:00', '23:30']],
  ])('%s', (_name, opens, closes, slotMinutes, times) => {
    const slots = slotsOn(schedule({ weekly: [range('mon', opens, closes)], settings: { ...shapeSettings, slot_minutes: slotMinutes } }), '2026-06-01');
    expect(starts(slots)).toEqual(times.map((time) => `2026-06-01T${time}:00.000Z`));
  });

  it('lists the ranges of a day with two, each on its own grid', () => {
    const s = schedule({ weekly: [range('tue', '18:00', '20:00'), range('tue', '12:00', '13:00')], settings: { ...shapeSettings, slot_minutes: 30 } });
    expect(starts(slotsOn(s, '2026-06-02'))).toEqual(['12:00', '12:30', '18:00', '18:30', '19:00', '19:30'].map((time) => `2026-06-02T${time}:00.000Z`));
  });

  it('a range closing at its opening time lasts a whole day', () => {
    const s = schedule({ weekly: [range('mon', '10:00', '10:00')], settings: { ...shapeSettings, slot_minutes: 60 } });
    expect(slotsOn(s, '2026-06-01')).toHaveLength(14);
    expect(starts(slotsOn(s, '2026-06-02'))).toEqual(['00', '01', '02', '03', '04', '05', '06', '07', '08', '09'].map((h) => `2026-06-02T${h}:00:00.000Z`));
  });

  it('lists a day without hours as empty, and picks each range by its weekday', () => {
    const weekly = weekdays().map((day, i) => range(day, `0${i + 1}:00`, `0${i + 1}:30`));
    const s = schedule({ weekly, settings: { ...shapeSettings, slot_minutes: 30 } });
    // 2026-06-01 is a Monday.
    const firstSlots = ['01', '02', '03', '04', '05', '06', '07'].map((day) => starts(slotsOn(s, `2026-06-${day}`)));
    expect(firstSlots).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => [`2026-06-0${n}T0${n}:00:00.000Z`]));
    expect(slotsOn(schedule({ weekly: [range('mon', '12:00', '14:00')], settings: shapeSettings }), '2026-06-02')).toEqual([]);
  });

  it('lists the slots after midnight of an overnight range under the day they start on', () => {
    const s = schedule({ weekly: [range('mon', '22:00', '02:00')], settings: { ...shapeSettings, slot_minutes: 30 } });
    expect(starts(slotsOn(s, '2026-06-01'))).toEqual(['22:00', '22:30', '23:00', '23:30'].map((time) => `2026-06-01T${time}:00.000Z`));
    expect(starts(slotsOn(s, '2026-06-02'))).toEqual(['00:00', '00:30', '01:00', '01:30'].map((time) => `2026-06-02T${time}:00.000Z`));
    expect(slotsOn(s, '2026-06-03')).toEqual([]);
  });

  it('offers every slot of the day when the weekly hours are empty (always open), from local midnight', () => {
    const utc = slotsOn(schedule({ settings: { ...shapeSettings, slot_minutes: 60 } }), '2026-06-01');
    expect(utc).toHaveLength(24);
    expect(utc[0]?.starts_at).toEqual(at('2026-06-01T00:00:00Z'));
    expect(utc.at(-1)?.ends_at).toEqual(at('2026-06-02T00:00:00Z'));
    // India is 5:30 ahead: the grid follows local midnight, not UTC's.
    const kolkata = slotsOn(schedule({ tz: 'Asia/Kolkata', settings: { ...shapeSettings, slot_minutes: 60 } }), '2026-06-01');
    expect(kolkata[0]?.starts_at).toEqual(at('2026-05-31T18:30:00Z'));
    expect(kolkata).toHaveLength(24);
  });

  it('throws on a date that is not one (the route validates it first)', () => {
    expect(() => slotsOn(schedule({}), '2026-02-30', '2026-02-01T00:00:00Z')).toThrow('not a calendar date: 2026-02-30');
  });

  it('throws on malformed stored hours or closures rather than guessing', () => {
    expect(() => slotsOn(schedule({ weekly: [range('mon', '12:00', '25:00')] }), '2026-06-01')).toThrow('malformed opening range mon 12:00-25:00');
    expect(() => slotsOn(schedule({ weekly: [range('mon', '24:00', '02:00')] }), '2026-06-01')).toThrow('malformed opening range');
    expect(() => slotsOn(schedule({ closures: [{ starts_on: '2026-06-01', ends_on: '2026-06-31' }] }), '2026-06-01')).toThrow(
      'malformed closure 2026-06-01..2026-06-31',
    );
    expect(() => slotsOn(schedule({ closures: [{ starts_on: 'soon', ends_on: '2026-06-30' }] }), '2026-06-01')).toThrow('malformed closure');
    expect(() => slotsOn(schedule({ tz: 'Not/AZone' }), '2026-06-01')).toThrow('unknown time zone');
  });
});

describe('which slots can be booked at a moment', () => {
  const lunch = (settings: Partial<ScheduleSettings>) => schedule({ weekly: [range('mon', '12:00', '14:30')], settings: { order_ahead_days: 7, ...settings } });

  it.each([
    ['lead time reaching a slot start exactly lists it', '2026-06-01T11:55:00Z', 20, '2026-06-01T12:15:00.000Z'],
    ['a millisecond later it is too soon', '2026-06-01T11:55:00.001Z', 20, '2026-06-01T12:30:00.000Z'],
    ['without a lead time a slot starting now is listed', '2026-06-01T13:00:00Z', 0, '2026-06-01T13:00:00.000Z'],
    ['without a lead time a slot begun a millisecond ago is past', '2026-06-01T13:00:00.001Z', 0, '2026-06-01T13:15:00.000Z'],
    ['a lead time longer than the rest of the range leaves nothing', '2026-06-01T13:00:00Z', 90, undefined],
  ])('%s', (_name, now, lead, first) => {
    expect(slotsOn(lunch({ lead_time_minutes: lead }), '2026-06-01', now)[0]?.starts_at.toISOString()).toBe(first);
  });

  it('lists days up to today + order_ahead_days, in local dates', () => {
    const s = lunch({ lead_time_minutes: 0 });
    // Monday 2026-06-01 10:00: Monday 2026-06-08 is 7 days ahead, so listed; the 15th is not.
    expect(slotsOn(s, '2026-06-08', '2026-06-01T10:00:00Z')).toHaveLength(10);
    expect(slotsOn(s, '2026-06-15', '2026-06-01T10:00:00Z')).toEqual([]);
    expect(slotsOn({ ...s, settings: { ...s.settings, order_ahead_days: 6 } }, '2026-06-08', '2026-06-01T10:00:00Z')).toEqual([]);
    const always = schedule({ settings: { lead_time_minutes: 0, slot_minutes: 60, order_ahead_days: 1 } });
    expect(slotsOn(always, '2026-06-02', '2026-06-01T10:00:00Z')).toHaveLength(24);
    expect(slotsOn(always, '2026-06-03', '2026-06-01T10:00:00Z')).toEqual([]);
    const todayOnly = { ...always, settings: { ...always.settings, order_ahead_days: 0 } };
    expect(slotsOn(todayOnly, '2026-06-01', '2026-06-01T10:00:00Z')).toHaveLength(14);
    expect(slotsOn(todayOnly, '2026-06-02', '2026-06-01T10:00:00Z')).toEqual([]);
  });

  it('counts the order-ahead days from the local date, not from UTC (Auckland, 12 h ahead)', () => {
    const s = schedule({ tz: 'Pacific/Auckland', settings: { lead_time_minutes: 0, slot_minutes: 60, order_ahead_days: 0 } });
    // 2026-06-01 23:30 in Auckland: only the last half hour of the local day is left, and tomorrow is too far.
    expect(slotsOn(s, '2026-06-01', '2026-06-01T11:30:00Z')).toEqual([]);
    expect(slotsOn(s, '2026-06-02', '2026-06-01T11:30:00Z')).toEqual([]);
    expect(starts(slotsOn(s, '2026-06-01', '2026-06-01T10:30:00Z'))).toEqual(['2026-06-01T11:00:00.000Z']);
    // At local midnight the new day is today.
    expect(slotsOn(s, '2026-06-02', '2026-06-01T12:00:00Z')).toHaveLength(24);
  });

  it('lists a past day as empty', () => {
    expect(slotsOn(lunch({ lead_time_minutes: 0 }), '2026-06-01', '2026-06-02T09:00:00Z')).toEqual([]);
  });

  it('shows what is left of the cap, and a full slot as not available', () => {
    const s = lunch({ lead_time_minutes: 0, max_orders_per_slot: 3 });
    const counts = countsOf({ '2026-06-01T12:00:00Z': 3, '2026-06-01T12:15:00Z': 2, '2026-06-01T12:30:00Z': 5 });
    const [full, oneLeft, overfull, empty] = slotsOn(s, '2026-06-01', '2026-06-01T09:00:00Z', counts);
    expect(full).toMatchObject({ available: false, remaining: 0 });
    expect(oneLeft).toMatchObject({ available: true, remaining: 1 });
    // A cap lowered below what a slot already holds.
    expect(overfull).toMatchObject({ available: false, remaining: 0 });
    expect(empty).toMatchObject({ available: true, remaining: 3 });
    const uncapped = slotsOn(lunch({ lead_time_minutes: 0 }), '2026-06-01', '2026-06-01T09:00:00Z', counts);
    expect(uncapped[0]).toMatchObject({ available: true, remaining: null });
  });
});

describe('closures', () => {
  const daily = (closures: ClosureDays[]) =>
    schedule({ weekly: weekdays().map((day) => range(day, '12:00', '13:00')), settings: { ...shapeSettings, slot_minutes: 60 }, closures });

  it('take whole local days, ends_on included', () => {
    const s = daily([{ starts_on: '2026-06-10', ends_on: '2026-06-11' }]);
    expect(slotsOn(s, '2026-06-09')).toHaveLength(1);
    expect(slotsOn(s, '2026-06-10')).toEqual([]);
    expect(slotsOn(s, '2026-06-11')).toEqual([]);
    expect(slotsOn(s, '2026-06-12')).toHaveLength(1);
  });

  it('a one-day closure has starts_on = ends_on', () => {
    const s = daily([{ starts_on: '2026-06-10', ends_on: '2026-06-10' }]);
    expect([slotsOn(s, '2026-06-09').length, slotsOn(s, '2026-06-10').length, slotsOn(s, '2026-06-11').length]).toEqual([1, 0, 1]);
  });

  it('a closure the day after an overnight range cuts the range at midnight', () => {
    const s = schedule({
      weekly: [range('sat', '22:00', '03:00')],
      settings: { ...shapeSettings, slot_minutes: 60 },
      closures: [{ starts_on: '2026-06-07', ends_on: '2026-06-07' }],
    });
    expect(starts(slotsOn(s, '2026-06-06'))).toEqual(['2026-06-06T22:00:00.000Z', '2026-06-06T23:00:00.000Z']);
    expect(slotsOn(s, '2026-06-07')).toEqual([]);
  });

  it('a closure on the day an overnight range opens leaves its hours after midnight', () => {
    const s = schedule({
      weekly: [range('sat', '22:00', '03:00')],
      settings: { ...shapeSettings, slot_minutes: 60 },
      closures: [{ starts_on: '2026-06-06', ends_on: '2026-06-06' }],
    });
    expect(slotsOn(s, '2026-06-06')).toEqual([]);
    expect(starts(slotsOn(s, '2026-06-07'))).toEqual(['2026-06-07T00:00:00.000Z', '2026-06-07T01:00:00.000Z', '2026-06-07T02:00:00.000Z']);
  });

  it('a slot running into a closure is not offered', () => {
    const s = schedule({
      weekly: [range('sat', '22:10', '03:00')],
      settings: { ...shapeSettings, slot_minutes: 15 },
      closures: [{ starts_on: '2026-06-07', ends_on: '2026-06-07' }],
    });
    expect(slotsOn(s, '2026-06-06').at(-1)?.starts_at).toEqual(at('2026-06-06T23:40:00Z'));
  });

  it('a closure in local days of the zone (Berlin, 2 h ahead in summer)', () => {
    const s = schedule({
      tz: 'Europe/Berlin',
      weekly: [range('sat', '23:00', '01:00')],
      settings: { ...shapeSettings, slot_minutes: 60 },
      closures: [{ starts_on: '2026-06-07', ends_on: '2026-06-07' }],
    });
    // 23:00 Saturday in Berlin is 21:00 UTC; Sunday starts at 22:00 UTC.
    expect(starts(slotsOn(s, '2026-06-06'))).toEqual(['2026-06-06T21:00:00.000Z']);
    expect(slotsOn(s, '2026-06-07')).toEqual([]);
  });
});

describe('daylight saving, by instants', () => {
  const saturdayNight = (tz: string) => schedule({ tz, weekly: [range('sat', '22:00', '03:00')], settings: shapeSettings });

  it.each([
    ['Europe/Berlin, spring forward', 'Europe/Berlin', '2026-03-28', '2026-03-29', 4, '2026-03-28T21:00:00.000Z', '2026-03-29T01:00:00.000Z'],
    ['Europe/Berlin, fall back', 'Europe/Berlin', '2026-10-24', '2026-10-25', 6, '2026-10-24T20:00:00.000Z', '2026-10-25T02:00:00.000Z'],
    ['Europe/Berlin, an ordinary Saturday', 'Europe/Berlin', '2026-06-06', '2026-06-07', 5, '2026-06-06T20:00:00.000Z', '2026-06-07T01:00:00.000Z'],
    ['America/New_York, spring forward', 'America/New_York', '2026-03-07', '2026-03-08', 4, '2026-03-08T03:00:00.000Z', '2026-03-08T07:00:00.000Z'],
    ['America/New_York, fall back', 'America/New_York', '2026-10-31', '2026-11-01', 6, '2026-11-01T02:00:00.000Z', '2026-11-01T08:00:00.000Z'],
    ['Pacific/Auckland, fall back in April', 'Pacific/Auckland', '2026-04-04', '2026-04-05', 6, '2026-04-04T09:00:00.000Z', '2026-04-04T15:00:00.000Z'],
    [
      'Pacific/Auckland, spring forward in September',
      'Pacific/Auckland',
      '2026-09-26',
      '2026-09-27',
      4,
      '2026-09-26T10:00:00.000Z',
      '2026-09-26T14:00:00.000Z',
    ],
  ])('Saturday 22:00-03:00 in %s', (_name, tz, saturday, sunday, length, opens, closes) => {
    const slots = night(saturdayNight(tz), saturday, sunday);
    expect(hours(slots)).toBe(length);
    expect(slots).toHaveLength(length * 4);
    expect(slots[0]?.starts_at.toISOString()).toBe(opens);
    expect(slots.at(-1)?.ends_at.toISOString()).toBe(closes);
    // Every slot follows the one before it, with no instant counted twice.
    slots.slice(1).forEach((slot, i) => {
      expect(slot.starts_at).toEqual(slots[i]?.ends_at);
    });
  });

  it('lists the repeated hour of a fall-back night twice, as two hours of instants', () => {
    const slots = slotsOn(saturdayNight('Europe/Berlin'), '2026-10-25');
    // 02:00-02:45 local comes first in summer time (UTC+2), then again in winter time (UTC+1).
    expect(starts(slots).slice(8, 16)).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:15:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T00:45:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:15:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T01:45:00.000Z',
    ]);
  });

  it.each([
    [
      'an opening the clocks skip opens at the jump (Berlin)',
      'Europe/Berlin',
      range('sun', '02:30', '05:00'),
      '2026-03-29',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T03:00:00.000Z',
    ],
    [
      'an opening the clocks skip opens at the jump (New York)',
      'America/New_York',
      range('sun', '02:30', '04:00'),
      '2026-03-08',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T08:00:00.000Z',
    ],
    [
      'a closing the clocks skip closes at the jump',
      'Europe/Berlin',
      range('sun', '00:00', '02:30'),
      '2026-03-29',
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
    ],
    [
      'an opening in the repeated hour opens at its first occurrence',
      'America/New_York',
      range('sun', '01:30', '04:00'),
      '2026-11-01',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T09:00:00.000Z',
    ],
    [
      'a closing in the repeated hour closes at its first occurrence',
      'America/New_York',
      range('sun', '00:00', '01:30'),
      '2026-11-01',
      '2026-11-01T04:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
    ],
    [
      'a whole day is 23 hours in spring (Auckland)',
      'Pacific/Auckland',
      range('sun', '00:00', '24:00'),
      '2026-09-27',
      '2026-09-26T12:00:00.000Z',
      '2026-09-27T11:00:00.000Z',
    ],
  ])('%s', (_name, tz, hoursRange, date, opens, closes) => {
    const slots = slotsOn(schedule({ tz, weekly: [hoursRange], settings: shapeSettings }), date);
    expect(slots[0]?.starts_at.toISOString()).toBe(opens);
    expect(slots.at(-1)?.ends_at.toISOString()).toBe(closes);
  });

  it('a range lying wholly in the skipped hour has no slots', () => {
    const s = schedule({ tz: 'Europe/Berlin', weekly: [range('sun', '02:00', '02:45')], settings: shapeSettings });
    expect(slotsOn(s, '2026-03-29')).toEqual([]);
    expect(slotsOn(s, '2026-04-05')).toHaveLength(3);
  });

  it.each([
    ['Europe/Berlin', '2026-03-29', 23],
    ['Europe/Berlin', '2026-10-25', 25],
    ['Europe/Berlin', '2026-06-07', 24],
    ['America/New_York', '2026-03-08', 23],
    ['America/New_York', '2026-11-01', 25],
  ])('an always-open restaurant in %s has as many hourly slots on %s as the day has hours (%i)', (tz, date, count) => {
    expect(slotsOn(schedule({ tz, settings: { ...shapeSettings, slot_minutes: 60 } }), date)).toHaveLength(count);
  });
});

describe('leap day', () => {
  const tuesdays = (closures: ClosureDays[] = []) =>
    schedule({
      tz: 'Europe/Berlin',
      weekly: [range('tue', '12:00', '14:00')],
      settings: { lead_time_minutes: 0, slot_minutes: 60, order_ahead_days: 7 },
      closures,
    });

  it('2028-02-29 is a Tuesday with slots, bookable from 7 days before and not 8', () => {
    expect(starts(slotsOn(tuesdays(), '2028-02-29', '2028-02-22T08:00:00Z'))).toEqual(['2028-02-29T11:00:00.000Z', '2028-02-29T12:00:00.000Z']);
    expect(slotsOn(tuesdays(), '2028-02-29', '2028-02-21T08:00:00Z')).toEqual([]);
  });

  it('a closure over the end of February takes the leap day', () => {
    expect(slotsOn(tuesdays([{ starts_on: '2028-02-28', ends_on: '2028-03-01' }]), '2028-02-29', '2028-02-22T08:00:00Z')).toEqual([]);
    expect(slotsOn(tuesdays([{ starts_on: '2028-02-28', ends_on: '2028-02-28' }]), '2028-02-29', '2028-02-22T08:00:00Z')).toHaveLength(2);
  });

  it('a requested slot on the leap day is valid', () => {
    expect(validateRequestedSlot(tuesdays(), at('2028-02-29T12:00:00Z'), at('2028-02-25T08:00:00Z'))).toEqual({
      kind: 'valid',
      slot: { starts_at: at('2028-02-29T12:00:00Z'), ends_at: at('2028-02-29T13:00:00Z') },
    });
  });
});

describe('the ordering status', () => {
  const lunchAndDinner = (settings: Partial<ScheduleSettings> = {}, extra: { closures?: ClosureDays[]; pausedUntil?: string } = {}) =>
    schedule({ weekly: [range('mon', '12:00', '14:30'), range('mon', '18:00', '22:30'), range('tue', '12:00', '14:30')], settings, ...extra });

  it('an always-open restaurant accepts, ready after the lead time', () => {
    expect(orderingStatus(schedule({}), at('2026-06-01T03:00:00Z'))).toEqual({
      accepting_orders: true,
      reason: null,
      paused_until: null,
      next_open_at: null,
      asap_ready_at: at('2026-06-01T03:20:00Z'),
    });
  });

  it.each([
    ['before opening: closed until the opening', '2026-06-01T11:59:59.999Z', false, 'closed', '2026-06-01T12:00:00.000Z'],
    ['at the opening: accepting', '2026-06-01T12:00:00Z', true, null, null],
    ['the last instant whose promise fits a slot', '2026-06-01T14:09:59.999Z', true, null, null],
    ['lead time crossing the closing: last orders are over', '2026-06-01T14:10:00Z', false, 'closed', '2026-06-01T18:00:00.000Z'],
    ['at the closing', '2026-06-01T14:30:00Z', false, 'closed', '2026-06-01T18:00:00.000Z'],
    ['after the last range of the day: the next day', '2026-06-01T22:15:00Z', false, 'closed', '2026-06-02T12:00:00.000Z'],
    ['after Tuesday: the next Monday', '2026-06-02T15:00:00Z', false, 'closed', '2026-06-08T12:00:00.000Z'],
  ])('%s', (_name, now, accepting, reason, nextOpen) => {
    const status = orderingStatus(lunchAndDinner(), at(now));
    expect(status.accepting_orders).toBe(accepting);
    expect(status.reason).toBe(reason);
    expect(status.next_open_at?.toISOString() ?? null).toBe(nextOpen);
    expect(status.asap_ready_at?.getTime() ?? null).toBe(accepting ? Date.parse(now) + 20 * 60_000 : null);
  });

  it('a short gap between ranges: ordering starts again lead time before the next range opens', () => {
    const s = schedule({ weekly: [range('mon', '12:00', '14:30'), range('mon', '14:40', '18:00')] });
    expect(orderingStatus(s, at('2026-06-01T14:15:00Z'))).toMatchObject({
      accepting_orders: false,
      reason: 'closed',
      next_open_at: at('2026-06-01T14:20:00Z'),
    });
    expect(orderingStatus(s, at('2026-06-01T14:20:00Z'))).toMatchObject({ accepting_orders: true, asap_ready_at: at('2026-06-01T14:40:00Z') });
    // In the gap itself the restaurant is closed, even though an order would be ready inside the next range.
    expect(orderingStatus(s, at('2026-06-01T14:35:00Z'))).toMatchObject({
      accepting_orders: false,
      reason: 'closed',
      next_open_at: at('2026-06-01T14:40:00Z'),
    });
  });

  it('a closing off the slot grid ends ASAP ordering when the promise falls past the last whole slot', () => {
    const s = schedule({ weekly: [range('mon', '12:00', '13:10')], settings: { slot_minutes: 30, lead_time_minutes: 0 } });
    expect(orderingStatus(s, at('2026-06-01T12:59:59.999Z'))).toMatchObject({ accepting_orders: true });
    expect(orderingStatus(s, at('2026-06-01T13:00:00Z'))).toMatchObject({
      accepting_orders: false,
      reason: 'closed',
      next_open_at: at('2026-06-08T12:00:00Z'),
    });
  });

  it('with a lead time off the slot grid, ordering starts exactly lead time before the next range', () => {
    const s = schedule({ weekly: [range('mon', '12:00', '14:30'), range('mon', '14:40', '18:00')], settings: { lead_time_minutes: 25 } });
    expect(orderingStatus(s, at('2026-06-01T14:10:00Z'))).toMatchObject({ accepting_orders: false, next_open_at: at('2026-06-01T14:15:00Z') });
  });

  it('the earliest opening may come from the next day’s first slot, before a later range of today', () => {
    // Monday 23:00-23:45 and a 10-minute range 23:50-24:00 (too short for a slot), Tuesday from 00:05; 30 minutes lead.
    const s = schedule({
      weekly: [range('mon', '23:00', '23:45'), range('mon', '23:50', '24:00'), range('tue', '00:05', '02:00')],
      settings: { lead_time_minutes: 30 },
    });
    expect(orderingStatus(s, at('2026-06-01T23:20:00Z'))).toMatchObject({
      accepting_orders: false,
      reason: 'closed',
      next_open_at: at('2026-06-01T23:35:00Z'),
    });
  });

  it('a closure ending at midnight inside an overnight range: open again at midnight', () => {
    const s = schedule({ weekly: [range('sat', '22:00', '03:00')], closures: [{ starts_on: '2026-06-06', ends_on: '2026-06-06' }] });
    expect(orderingStatus(s, at('2026-06-06T23:00:00Z'))).toMatchObject({ reason: 'closure', next_open_at: at('2026-06-07T00:00:00Z') });
  });

  it('accepts in the small hours of an overnight range', () => {
    const s = schedule({ tz: 'Europe/Berlin', weekly: [range('sat', '22:00', '03:00')] });
    expect(orderingStatus(s, at('2026-06-06T23:00:00Z'))).toMatchObject({ accepting_orders: true });
    expect(orderingStatus(s, at('2026-06-07T00:39:59Z'))).toMatchObject({ accepting_orders: true });
    expect(orderingStatus(s, at('2026-06-07T00:40:00Z'))).toMatchObject({ accepting_orders: false, next_open_at: at('2026-06-13T20:00:00Z') });
  });

  it('finds the next opening across a fall-back night in Berlin', () => {
    const s = schedule({ tz: 'Europe/Berlin', weekly: [range('sun', '12:00', '14:00')] });
    expect(orderingStatus(s, at('2026-10-24T22:00:00Z')).next_open_at).toEqual(at('2026-10-25T11:00:00Z'));
    expect(orderingStatus(s, at('2026-03-28T22:00:00Z')).next_open_at).toEqual(at('2026-03-29T10:00:00Z'));
  });

  it('in a closure: reason closure, open again on the first day after it', () => {
    const s = lunchAndDinner({}, { closures: [{ starts_on: '2026-06-01', ends_on: '2026-06-02' }] });
    expect(orderingStatus(s, at('2026-06-01T13:00:00Z'))).toEqual({
      accepting_orders: false,
      reason: 'closure',
      paused_until: null,
      next_open_at: at('2026-06-08T12:00:00Z'),
      asap_ready_at: null,
    });
  });

  it('an always-open restaurant stops lead time before a closure and starts again at its end', () => {
    const s = schedule({ closures: [{ starts_on: '2026-06-02', ends_on: '2026-06-02' }] });
    expect(orderingStatus(s, at('2026-06-01T23:39:59Z'))).toMatchObject({ accepting_orders: true });
    expect(orderingStatus(s, at('2026-06-01T23:40:00Z'))).toMatchObject({
      accepting_orders: false,
      reason: 'closure',
      next_open_at: at('2026-06-03T00:00:00Z'),
    });
    expect(orderingStatus(s, at('2026-06-02T23:59:59Z'))).toMatchObject({ reason: 'closure', next_open_at: at('2026-06-03T00:00:00Z') });
    expect(orderingStatus(s, at('2026-06-03T00:00:00Z'))).toMatchObject({ accepting_orders: true });
  });

  it('a long closure: the next opening is found after it', () => {
    const s = lunchAndDinner({}, { closures: [{ starts_on: '2026-06-01', ends_on: '2026-09-30' }] });
    expect(orderingStatus(s, at('2026-06-01T13:00:00Z')).next_open_at).toEqual(at('2026-10-05T12:00:00Z'));
  });

  it('an opening 365 days ahead is still found', () => {
    const s = schedule({ closures: [{ starts_on: '2026-06-01', ends_on: '2027-05-31' }] });
    expect(orderingStatus(s, at('2026-06-01T13:00:00Z')).next_open_at).toEqual(at('2027-06-01T00:00:00Z'));
  });

  it('an opening right after the year searched is not reported, even with no lead time to count back', () => {
    // The search covers yesterday and the 366 days after it; this closure ends at the first instant past them.
    const s = schedule({ settings: { lead_time_minutes: 0 }, closures: [{ starts_on: '2026-06-01', ends_on: '2027-06-01' }] });
    expect(orderingStatus(s, at('2026-06-01T13:00:00Z'))).toMatchObject({ accepting_orders: false, reason: 'closure', next_open_at: null });
    const dayShorter = schedule({ settings: { lead_time_minutes: 0 }, closures: [{ starts_on: '2026-06-01', ends_on: '2027-05-31' }] });
    expect(orderingStatus(dayShorter, at('2026-06-01T13:00:00Z')).next_open_at).toEqual(at('2027-06-01T00:00:00Z'));
  });

  it('nothing opens within a year: next_open_at is null', () => {
    const s = lunchAndDinner({}, { closures: [{ starts_on: '2026-06-01', ends_on: '2027-12-31' }] });
    expect(orderingStatus(s, at('2026-06-01T13:00:00Z'))).toMatchObject({ accepting_orders: false, reason: 'closure', next_open_at: null });
  });

  it('paused: reason paused until the pause ends, then accepting', () => {
    const s = schedule({ pausedUntil: '2026-06-01T12:30:00Z' });
    expect(orderingStatus(s, at('2026-06-01T12:00:00Z'))).toEqual({
      accepting_orders: false,
      reason: 'paused',
      paused_until: at('2026-06-01T12:30:00Z'),
      next_open_at: at('2026-06-01T12:30:00Z'),
      asap_ready_at: null,
    });
    expect(orderingStatus(s, at('2026-06-01T12:29:59.999Z')).reason).toBe('paused');
    expect(orderingStatus(s, at('2026-06-01T12:30:00Z'))).toMatchObject({ accepting_orders: true, paused_until: null, reason: null });
  });

  it('paused past the closing: reason paused, open again at the next range', () => {
    const s = lunchAndDinner({}, { pausedUntil: '2026-06-01T15:00:00Z' });
    expect(orderingStatus(s, at('2026-06-01T13:00:00Z'))).toMatchObject({ reason: 'paused', next_open_at: at('2026-06-01T18:00:00Z') });
  });

  it('paused while closed: reason closed, the pause still shown', () => {
    const s = lunchAndDinner({}, { pausedUntil: '2026-06-01T12:30:00Z' });
    expect(orderingStatus(s, at('2026-06-01T11:00:00Z'))).toMatchObject({
      reason: 'closed',
      paused_until: at('2026-06-01T12:30:00Z'),
      next_open_at: at('2026-06-01T12:30:00Z'),
    });
  });

  it('paused near the closing: reason closed once no slot is left anyway', () => {
    const s = lunchAndDinner({}, { pausedUntil: '2026-06-01T16:00:00Z' });
    expect(orderingStatus(s, at('2026-06-01T14:20:00Z')).reason).toBe('closed');
  });

  it('a long lead time: ordering opens when the first promise fits a slot', () => {
    const s = schedule({ weekly: [range('mon', '12:00', '13:20'), range('mon', '13:30', '15:00')], settings: { lead_time_minutes: 120 } });
    // At 12:00 an order would be ready at 14:00, inside the second range.
    expect(orderingStatus(s, at('2026-06-01T11:00:00Z'))).toMatchObject({ reason: 'closed', next_open_at: at('2026-06-01T12:00:00Z') });
    expect(orderingStatus(s, at('2026-06-01T12:59:59.999Z'))).toMatchObject({ accepting_orders: true, asap_ready_at: at('2026-06-01T14:59:59.999Z') });
    // From 13:00 an order would be ready after the last slot: nothing until next Monday.
    expect(orderingStatus(s, at('2026-06-01T13:00:00Z'))).toMatchObject({
      accepting_orders: false,
      reason: 'closed',
      next_open_at: at('2026-06-08T12:00:00Z'),
    });
  });
});

describe('an ASAP order', () => {
  it('is promised now + lead time and counts in the slot containing that instant', () => {
    const s = schedule({ weekly: [range('mon', '12:00', '14:30')] });
    expect(placeAsap(s, at('2026-06-01T12:03:00Z'))).toEqual({
      kind: 'accepted',
      promised_at: at('2026-06-01T12:23:00Z'),
      slot: { starts_at: at('2026-06-01T12:15:00Z'), ends_at: at('2026-06-01T12:30:00Z') },
    });
    expect(placeAsap(s, at('2026-06-01T12:10:00Z'))).toMatchObject({ slot: { starts_at: at('2026-06-01T12:30:00Z') } });
    expect(placeAsap(s, at('2026-06-01T12:09:59.999Z'))).toMatchObject({ slot: { starts_at: at('2026-06-01T12:15:00Z') } });
  });

  it('in an always-open restaurant counts on the grid from local midnight', () => {
    const s = schedule({ tz: 'Asia/Kolkata', settings: { slot_minutes: 60, lead_time_minutes: 0 } });
    expect(placeAsap(s, at('2026-06-01T10:00:00Z'))).toMatchObject({ slot: { starts_at: at('2026-06-01T09:30:00Z'), ends_at: at('2026-06-01T10:30:00Z') } });
  });

  it('in the small hours of an overnight range counts on the grid of its opening', () => {
    const s = schedule({ weekly: [range('sat', '22:10', '03:00')], settings: { slot_minutes: 30 } });
    expect(placeAsap(s, at('2026-06-07T01:00:00Z'))).toMatchObject({ slot: { starts_at: at('2026-06-07T01:10:00Z') } });
  });

  it('is refused while not accepting, with the status', () => {
    const s = schedule({ weekly: [range('mon', '12:00', '14:30')] });
    expect(placeAsap(s, at('2026-06-01T11:00:00Z'))).toEqual({ kind: 'not_accepting', status: orderingStatus(s, at('2026-06-01T11:00:00Z')) });
    expect(placeAsap(schedule({ pausedUntil: '2026-06-01T12:00:00Z' }), at('2026-06-01T11:00:00Z'))).toMatchObject({
      kind: 'not_accepting',
      status: { reason: 'paused' },
    });
  });
});

describe('a requested slot', () => {
  const s = schedule({
    weekly: [range('mon', '12:00', '13:10'), range('mon', '18:00', '22:00'), range('sat', '22:00', '02:00')],
    settings: { slot_minutes: 30, lead_time_minutes: 20, order_ahead_days: 7 },
    closures: [{ starts_on: '2026-06-14', ends_on: '2026-06-14' }],
  });
  const now = at('2026-06-01T11:00:00Z');

  it.each([
    ['a slot start', '2026-06-01T12:00:00Z', 'valid'],
    ['before the opening', '2026-06-01T11:20:00Z', 'outside_hours'],
    ['the last slot before a closing off the grid', '2026-06-01T12:30:00Z', 'valid'],
    ['a grid point whose slot would end after the closing', '2026-06-01T13:00:00Z', 'not_a_slot_start'],
    ['a minute off the grid', '2026-06-01T18:31:00Z', 'not_a_slot_start'],
    ['a millisecond off the grid', '2026-06-01T18:30:00.001Z', 'not_a_slot_start'],
    ['between the ranges', '2026-06-01T15:00:00Z', 'outside_hours'],
    ['at a closing', '2026-06-01T22:00:00Z', 'outside_hours'],
    ['after midnight in an overnight range', '2026-06-07T01:30:00Z', 'valid'],
    ['in a closure beyond order-ahead: too far', '2026-06-14T00:00:00Z', 'too_far'],
    ['the last day of order-ahead', '2026-06-08T21:30:00Z', 'valid'],
    ['a day beyond order-ahead', '2026-06-13T22:00:00Z', 'too_far'],
    ['in the past', '2026-05-25T12:00:00Z', 'too_soon'],
  ])('%s (%s): %s', (_name, requested, verdict) => {
    const check = validateRequestedSlot(s, at(requested), now);
    expect(check.kind === 'valid' ? 'valid' : check.reason).toBe(verdict);
  });

  it('sooner than the lead time: too soon, down to the millisecond', () => {
    expect(validateRequestedSlot(s, at('2026-06-01T12:00:00Z'), at('2026-06-01T11:40:00.001Z'))).toEqual({ kind: 'invalid', reason: 'too_soon' });
    expect(validateRequestedSlot(s, at('2026-06-01T12:00:00Z'), at('2026-06-01T11:40:00Z'))).toMatchObject({ kind: 'valid' });
  });

  it('in a closure, or running into one', () => {
    const closedSunday = { ...s, closures: [{ starts_on: '2026-06-07', ends_on: '2026-06-07' }] };
    expect(validateRequestedSlot(closedSunday, at('2026-06-07T01:00:00Z'), now)).toEqual({ kind: 'invalid', reason: 'closure' });
    expect(validateRequestedSlot(closedSunday, at('2026-06-06T23:30:00Z'), now)).toMatchObject({ kind: 'valid' });
    // Outside the hours as well: the closure is the reason given.
    expect(validateRequestedSlot(closedSunday, at('2026-06-07T10:00:00Z'), now)).toEqual({ kind: 'invalid', reason: 'closure' });
    const offGrid = schedule({
      weekly: [range('sat', '22:10', '03:00')],
      settings: { slot_minutes: 30, order_ahead_days: 7 },
      closures: [{ starts_on: '2026-06-07', ends_on: '2026-06-07' }],
    });
    expect(validateRequestedSlot(offGrid, at('2026-06-06T23:40:00Z'), now)).toEqual({ kind: 'invalid', reason: 'closure' });
    expect(validateRequestedSlot(offGrid, at('2026-06-06T23:10:00Z'), now)).toMatchObject({ kind: 'valid' });
  });

  it('both copies of the repeated hour are slots of their own (Berlin, fall back)', () => {
    const berlin = schedule({ tz: 'Europe/Berlin', weekly: [range('sat', '22:00', '03:00')], settings: { order_ahead_days: 7 } });
    const evening = at('2026-10-24T10:00:00Z');
    expect(validateRequestedSlot(berlin, at('2026-10-25T00:00:00Z'), evening)).toMatchObject({ kind: 'valid', slot: { ends_at: at('2026-10-25T00:15:00Z') } });
    expect(validateRequestedSlot(berlin, at('2026-10-25T01:00:00Z'), evening)).toMatchObject({ kind: 'valid', slot: { ends_at: at('2026-10-25T01:15:00Z') } });
    expect(validateRequestedSlot(berlin, at('2026-10-25T02:00:00Z'), evening)).toEqual({ kind: 'invalid', reason: 'outside_hours' });
  });

  it('each reason has a sentence for the customer', () => {
    const reasons = ['too_soon', 'too_far', 'closure', 'outside_hours', 'not_a_slot_start'] as const;
    const sentences = reasons.map(describeInvalidSlot);
    expect(new Set(sentences).size).toBe(reasons.length);
    expect(describeInvalidSlot('not_a_slot_start')).toContain('GET /v1/restaurant/slots');
    expect(describeInvalidSlot('too_soon')).toContain('sooner');
    expect(describeInvalidSlot('too_far')).toContain('further ahead');
    expect(describeInvalidSlot('closure')).toContain('closed');
    expect(describeInvalidSlot('outside_hours')).toContain('opening hours');
  });
});

describe('the next available slot', () => {
  const s = schedule({ weekly: [range('mon', '12:00', '13:00'), range('tue', '12:00', '13:00')], settings: { max_orders_per_slot: 2, order_ahead_days: 1 } });
  const now = at('2026-06-01T11:00:00Z');

  it('is the first slot after the full one with room left', () => {
    const counts = countsOf({ '2026-06-01T12:00:00Z': 2, '2026-06-01T12:15:00Z': 2, '2026-06-01T12:30:00Z': 1 });
    expect(nextAvailableSlot(s, at('2026-06-01T12:00:00Z'), now, counts)).toEqual({
      starts_at: at('2026-06-01T12:30:00Z'),
      ends_at: at('2026-06-01T12:45:00Z'),
      available: true,
      remaining: 1,
    });
  });

  it('moves to the next day when the rest of the day is full, and is null past order-ahead', () => {
    const fullMonday = countsOf({ '2026-06-01T12:15:00Z': 2, '2026-06-01T12:30:00Z': 2, '2026-06-01T12:45:00Z': 2 });
    expect(nextAvailableSlot(s, at('2026-06-01T12:00:00Z'), now, fullMonday)?.starts_at).toEqual(at('2026-06-02T12:00:00Z'));
    expect(nextAvailableSlot(s, at('2026-06-02T12:45:00Z'), now, none)).toBeNull();
  });

  it('without a cap is simply the next bookable slot; for a full ASAP slot, the first one far enough ahead', () => {
    const uncapped = { ...s, settings: { ...s.settings, max_orders_per_slot: null } };
    expect(nextAvailableSlot(uncapped, at('2026-06-01T12:00:00Z'), now, countsOf({ '2026-06-01T12:15:00Z': 50 }))?.starts_at).toEqual(
      at('2026-06-01T12:15:00Z'),
    );
    // At 12:00 with a 20-minute lead the ASAP order counts in 12:15; the next that can be booked is 12:30.
    expect(nextAvailableSlot(s, at('2026-06-01T12:15:00Z'), at('2026-06-01T12:00:00Z'), none)?.starts_at).toEqual(at('2026-06-01T12:30:00Z'));
    expect(nextAvailableSlot(s, at('2026-06-01T12:15:00Z'), at('2026-06-01T12:10:00.001Z'), none)?.starts_at).toEqual(at('2026-06-01T12:45:00Z'));
  });

  it('starts looking on the local date of the full slot, overnight ranges included', () => {
    const late = schedule({ tz: 'Europe/Berlin', weekly: [range('sat', '23:00', '02:00')], settings: { max_orders_per_slot: 1, slot_minutes: 60 } });
    const counts = countsOf({ '2026-06-06T21:00:00Z': 1, '2026-06-06T22:00:00Z': 1 });
    expect(nextAvailableSlot(late, at('2026-06-06T21:00:00Z'), at('2026-06-06T12:00:00Z'), counts)?.starts_at).toEqual(at('2026-06-06T23:00:00Z'));
  });

  it('the order-ahead window ends at local midnight after its last day', () => {
    const berlin = schedule({ tz: 'Europe/Berlin', settings: { order_ahead_days: 7 } });
    expect(bookingWindowEnd(berlin, at('2026-06-01T10:00:00Z'))).toEqual(at('2026-06-08T22:00:00Z'));
    expect(bookingWindowEnd({ ...berlin, settings: { ...berlin.settings, order_ahead_days: 0 } }, at('2026-06-01T22:00:00Z'))).toEqual(
      at('2026-06-02T22:00:00Z'),
    );
  });
});

describe('the end of the day', () => {
  const s = schedule({ weekly: [range('tue', '12:00', '14:30'), range('tue', '18:00', '22:30'), range('sat', '22:00', '03:00')] });

  it.each([
    ['before the first range: the last closing of the day', '2026-06-02T10:00:00Z', '2026-06-02T22:30:00.000Z'],
    ['between the ranges', '2026-06-02T15:00:00Z', '2026-06-02T22:30:00.000Z'],
    ['the last instant of the last range', '2026-06-02T22:29:59.999Z', '2026-06-02T22:30:00.000Z'],
    ['at the closing: the next midnight', '2026-06-02T22:30:00Z', '2026-06-03T00:00:00.000Z'],
    ['a day without hours: the next midnight', '2026-06-01T09:00:00Z', '2026-06-02T00:00:00.000Z'],
    ['before an overnight range: its closing after midnight', '2026-06-06T20:00:00Z', '2026-06-07T03:00:00.000Z'],
    ['in the small hours of an overnight range: its closing', '2026-06-07T01:00:00Z', '2026-06-07T03:00:00.000Z'],
    ['after the overnight range closed: the next midnight', '2026-06-07T04:00:00Z', '2026-06-08T00:00:00.000Z'],
  ])('%s', (_name, now, end) => {
    expect(endOfDay(s, at(now)).toISOString()).toBe(end);
  });

  it('is local midnight for an always-open restaurant, on a short day too', () => {
    expect(endOfDay(schedule({ tz: 'Europe/Berlin' }), at('2026-06-01T10:00:00Z'))).toEqual(at('2026-06-01T22:00:00Z'));
    expect(endOfDay(schedule({ tz: 'Europe/Berlin' }), at('2026-03-28T23:30:00Z'))).toEqual(at('2026-03-29T22:00:00Z'));
    expect(endOfDay(schedule({ tz: 'Europe/Berlin' }), at('2026-03-28T22:59:59Z'))).toEqual(at('2026-03-28T23:00:00Z'));
  });
});
