import { z } from '../../http/zod.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { ALLERGENS, DIETS } from '../../lib/allergens.js';

// Field limits of API.md ("Customers"); the migration's CHECKs say the same, so a value that passes here
// always fits the table.
export const EMAIL_MAX = 80;
export const NAME_MAX = 30;
export const ADDRESS_MAX = 200;
export const E164 = /^\+[1-9][0-9]{1,14}$/;

/**
 * E.164 from what people type: spaces, dashes and parentheses are dropped and a leading `00` becomes `+`.
 * There is no default country, so a number must start with `+` or `00`. Undefined when it is not a number.
 */
export function normalisePhone(raw: string): string | undefined {
  const compact = raw.trim().replace(/[\s()-]/g, '');
  const international = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  return E164.test(international) ? international : undefined;
}

export const nameField = z.string().trim().min(1).max(NAME_MAX).openapi({ example: 'Ada Lovelace' });

export const addressField = z.string().trim().min(1).max(ADDRESS_MAX).openapi({ example: '12 Example Street, London' });

export const phoneField = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    const phone = normalisePhone(value);
    if (phone === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be an international number: + or 00, the country code, then at most 15 digits in all' });
      return z.NEVER;
    }
    return phone;
  })
  .openapi({
    example: '+44 20 7946 0958',
    description: 'International number starting with + or 00; spaces, dashes and parentheses are allowed. Stored and returned in E.164 (+442079460958).',
  });

const allergenList = z
  .array(z.enum(ALLERGENS))
  .max(ALLERGENS.length * 2)
  .transform((list) => [...new Set(list)].sort());
const dietList = z
  .array(z.enum(DIETS))
  .max(DIETS.length * 2)
  .transform((list) => [...new Set(list)].sort());

export const preferencesSchema = z
  .object({
    exclude_allergens: z.array(z.enum(ALLERGENS)),
    dietary: z.array(z.enum(DIETS)),
  })
  .openapi('MenuPreferences', {
    description: 'Applied to the signed-in menu (GET /v1/recipes) as if sent as its query; an explicit query parameter wins, `preferences=off` ignores them.',
  });

export const customerSchema = z
  .object({
    id: z.number().int().positive(),
    email: z.string().nullable().openapi({ description: 'From the user pool' }),
    name: z.string().nullable(),
    phone: z.string().nullable().openapi({ description: 'E.164' }),
    address: z.string().nullable(),
    preferences: preferencesSchema,
    created_at: z.string().openapi({ format: 'date-time', description: 'RFC 3339, UTC' }),
  })
  .openapi('Customer');

export const customerPageSchema = pageOf(customerSchema).openapi('CustomerPage');

export const customerUpdateSchema = z
  .object({
    name: nameField.nullable().optional(),
    phone: phoneField.nullable().optional(),
    address: addressField.nullable().optional(),
    preferences: z
      .object({
        exclude_allergens: allergenList.optional().openapi({ description: 'EU allergen names; replaces the saved list' }),
        dietary: dietList.optional().openapi({ description: '`vegan`, `vegetarian`; replaces the saved list' }),
      })
      .strict()
      .nullable()
      .optional()
      .openapi({ description: 'Each field given replaces the saved one, an absent one is kept; null clears both' }),
  })
  .strict()
  .openapi('CustomerUpdate', { description: 'Fields to change; null clears one, an absent field is left as it is' });

export const customerListQuery = z.object({
  search: z.string().trim().min(1).max(100).optional().openapi({ description: 'Matches name, email or phone, case-insensitive' }),
  ...pageQuery,
});
