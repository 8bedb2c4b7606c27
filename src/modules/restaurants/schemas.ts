import { z } from '../../http/zod.js';
import { emailField } from '../../auth/schemas.js';

export const restaurantSchema = z
  .object({
    id: z.number().int().positive(),
    domain: z.string(),
    name: z.string(),
    currency: z.string().openapi({ description: 'ISO 4217 code; money fields are in its minor units' }),
    timezone: z.string().openapi({ description: 'IANA time zone, e.g. Europe/London' }),
  })
  .openapi('Restaurant');

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
const TENANT_PREFIX = /^(www|staff|api)\./;

/** The tenant's bare domain: customers reach it at www.<domain>, staff at staff.<domain> (API.md, "Tenancy"). */
export const domainField = z
  .string()
  .trim()
  .toLowerCase()
  .min(3, { abort: true })
  .max(253, { abort: true })
  .regex(HOSTNAME, { error: 'must be a domain name such as storeabc.com', abort: true })
  .refine((domain) => !TENANT_PREFIX.test(domain), 'must be the bare domain, without www., staff. or api.')
  .openapi({ example: 'storeabc.com', description: 'Bare domain, case-insensitive (stored lower-cased)' });

export const restaurantNameField = z.string().trim().min(1).max(100).openapi({ example: 'Store ABC' });

const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));
export const currencyField = z
  .string()
  .regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 code in capitals, such as EUR', abort: true })
  .refine((code) => knownCurrencies.has(code), 'is not an ISO 4217 currency code')
  .openapi({ example: 'EUR' });

/** A zone the runtime knows (aliases such as UTC included); offsets like +01:00 are not zones. */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]{0,63}$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const timezoneField = z
  .string()
  .trim()
  .max(64, { abort: true })
  .refine(isTimeZone, 'must be an IANA time zone such as Europe/London')
  .openapi({ example: 'Europe/London' });

export const restaurantCreateSchema = z
  .object({
    domain: domainField,
    name: restaurantNameField,
    currency: currencyField,
    timezone: timezoneField,
    manager_email: emailField.openapi({ description: 'The first manager: a user who already exists in the user pool' }),
  })
  .openapi('RestaurantCreate');

export const restaurantUpdateSchema = z
  .object({ name: restaurantNameField.optional(), timezone: timezoneField.optional() })
  .strict()
  .openapi('RestaurantUpdate', { description: 'Domain and currency cannot be changed' });
