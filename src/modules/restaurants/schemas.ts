import { z } from '../../http/zod.js';

export const restaurantSchema = z
  .object({
    id: z.number().int().positive(),
    domain: z.string(),
    name: z.string(),
    currency: z.string().openapi({ description: 'ISO 4217 code; money fields are in its minor units' }),
    timezone: z.string().openapi({ description: 'IANA time zone, e.g. Europe/London' }),
  })
  .openapi('Restaurant');
