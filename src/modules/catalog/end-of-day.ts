import { DateTime } from 'luxon';

/**
 * When an ingredient 86'd "until the end of the day" comes back: local midnight at the end of the
 * restaurant's current day, in its time zone (DST-safe: the start of the next local day).
 *
 * API.md asks for the end of today's last opening range, or local midnight without hours. The opening
 * hours live in the schedule module; until it is on main this is the "without hours" answer, and this
 * one function is where the schedule's end-of-day will be plugged in.
 */
export function endOfDayFor(restaurant: { timezone: string }, now: Date): Date {
  const local = DateTime.fromJSDate(now, { zone: restaurant.timezone });
  if (!local.isValid) throw new Error(`unknown time zone ${restaurant.timezone}`);
  return local.plus({ days: 1 }).startOf('day').toJSDate();
}
