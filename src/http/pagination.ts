import { z } from './zod.js';

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'Page size, 1-100' }),
  cursor: z.string().min(1).max(200).optional().openapi({ description: 'Opaque cursor from the previous page' }),
};

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), next_cursor: z.string().nullable() });
