import { z } from '../../http/zod.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { overlappingRanges, parseLocalDate, parseTimeOfDay, slotLengths, weekdays, type Weekday } from './core.js';

const instant = z.string().openapi({ description: 'RFC 3339 UTC instant', example: '2026-12-05T18:30:00.000Z' });

export const localDateField = z
  .string()
  .refine((text) => parseLocalDate(text) !== undefined, 'must be a calendar date YYYY-MM-DD')
  .openapi({ example: '2026-12-24', description: "A date in the restaurant's time zone" });

const opensField = z
  .string()
  .refine((text) => parseTimeOfDay(text, false) !== undefined, 'must be a time HH:MM from 00:00 to 23:59')
  .openapi({ example: '18:00' });
const closesField = z
  .string()
  .refine((text) => parseTimeOfDay(text, true) !== undefined, 'must be a time HH:MM from 00:00 to 24:00')
  .openapi({ example: '22:30', description: 'Not after `opens`: the range runs past midnight into the next day. "24:00": the end of the day' });

const weekdayField = z.enum(weekdays() as [Weekday, ...Weekday[]]);

const weeklyRangeSchema = z.object({ day: weekdayField, opens: opensField, closes: closesField }).strict().openapi('OpeningRange');

const weeklyField = z
  .array(weeklyRangeSchema)
  .max(70)
  .superRefine((ranges, ctx) => {
    for (const [earlier, later] of overlappingRanges(ranges)) {
      const other = ranges[earlier];
      ctx.addIssue({
        code: 'custom',
        path: [later],
        message: `overlaps weekly.${earlier} (${other?.day} ${other?.opens}-${other?.closes}); a range past midnight counts on the next day too`,
      });
    }
  })
  .openapi({ description: "Opening ranges in the restaurant's wall-clock time; several per day allowed. Empty: always open" });

const leadTimeField = z.number().int().min(0).max(1440).openapi({ description: 'Minutes from ordering to ready (ASAP) and the least notice for a slot' });
const slotMinutesField = z
  .number()
  .int()
  .refine((minutes) => slotLengths().includes(minutes), `must be one of ${slotLengths().join(', ')}`)
  .openapi({ description: 'Length of a slot in minutes: 5, 10, 15, 20, 30 or 60' });
const capField = z.number().int().min(1).max(10_000).nullable().openapi({ description: 'Orders one slot takes; null: no cap' });
const aheadField = z.number().int().min(0).max(30).openapi({ description: 'How many local days after today slots can be booked; 0: today only' });

export const hoursSchema = z
  .object({
    weekly: z.array(weeklyRangeSchema),
    lead_time_minutes: leadTimeField,
    slot_minutes: slotMinutesField,
    max_orders_per_slot: capField,
    order_ahead_days: aheadField,
  })
  .openapi('ServiceHours');

export const hoursUpdateSchema = z
  .object({
    weekly: weeklyField,
    lead_time_minutes: leadTimeField.optional(),
    slot_minutes: slotMinutesField.optional(),
    max_orders_per_slot: capField.optional(),
    order_ahead_days: aheadField.optional(),
  })
  .strict()
  .openapi('ServiceHoursReplace', { description: 'Replaces the hours and settings; a setting left out takes its default' });

const reasonField = z.string().trim().max(200, 'must be at most 200 characters');

export const closureSchema = z
  .object({ id: z.number().int().positive(), starts_on: z.string(), ends_on: z.string(), reason: z.string().nullable() })
  .openapi('Closure');

export const closurePageSchema = pageOf(closureSchema).openapi('ClosurePage');

export const closureListQuery = z.object({ ...pageQuery });

export const closureCreateSchema = z
  .object({ starts_on: localDateField, ends_on: localDateField, reason: reasonField.optional() })
  .strict()
  .superRefine((closure, ctx) => {
    // Zod runs this refinement even when a date above failed; compare only two real dates.
    const [first, last] = [parseLocalDate(closure.starts_on), parseLocalDate(closure.ends_on)];
    if (first !== undefined && last !== undefined && last < first) ctx.addIssue({ code: 'custom', path: ['ends_on'], message: 'must not be before starts_on' });
  })
  .openapi('ClosureCreate', { description: 'Whole local days without ordering; ends_on is included (one day: ends_on = starts_on)' });

export const pauseSchema = z
  .object({
    minutes: z.number().int().min(5).max(1440).openapi({ description: 'How long ASAP orders stop, 5-1440 minutes' }),
    reason: reasonField.optional(),
  })
  .strict()
  .openapi('PauseOrdering');

export const orderingSchema = z
  .object({
    accepting_orders: z.boolean().openapi({ description: 'Whether an ASAP order is taken now' }),
    reason: z.enum(['closed', 'closure', 'paused']).nullable(),
    paused_until: instant.nullable(),
    next_open_at: instant.nullable().openapi({ description: 'When ASAP orders are next taken; null while they are, or if nothing opens within a year' }),
    asap_ready_at: instant.nullable().openapi({ description: 'When an ASAP order placed now would be ready' }),
  })
  .openapi('Ordering');

export const slotsQuery = z.object({
  date: localDateField.optional().openapi({ description: "Local date; default today in the restaurant's time zone" }),
});

export const slotSchema = z
  .object({
    starts_at: instant,
    ends_at: instant,
    available: z.boolean().openapi({ description: 'False when the slot already holds max_orders_per_slot orders' }),
    remaining: z.number().int().min(0).nullable().openapi({ description: 'Orders the slot still takes; null without a cap' }),
  })
  .openapi('Slot');

export const slotListSchema = z.object({ data: z.array(slotSchema) }).openapi('SlotList');
