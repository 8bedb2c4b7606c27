import { z } from './zod.js';

/**
 * A path id: a positive integer written plainly. `0`, `abc`, `1e3`, `0x10` and anything past 2^53 are
 * refused here, so a value that would overflow Postgres' bigint (or be rounded by JSON) never reaches SQL.
 */
export const idParams = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().int().max(Number.MAX_SAFE_INTEGER, 'is too large'))
    .openapi({ description: 'A positive integer id', example: '42' }),
});

/** A referenced id in a body: a JSON number, positive, exact. */
export const idValue = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** `true` / `false` in a query string; anything else is a 400 (z.coerce.boolean would read "false" as true). */
export const queryFlag = z.enum(['true', 'false']).transform((value) => value === 'true');
