import type { Request } from 'express';
import { AppError } from './errors.js';

/** The restaurant a request is for: what routes need of it. */
export interface Tenant {
  id: number;
  domain: string;
  name: string;
  currency: string;
  timezone: string;
}

/** Finds the restaurant served at a domain; the restaurants module's, given at composition (src/app.ts). */
export type TenantLookup = (domain: string) => Promise<Tenant | undefined>;

const TENANT_PREFIXES = /^(www|staff|api)\./;

/**
 * The domain a request is for (API.md, "Tenancy"): the `X-Restaurant-Domain` header, else the Host
 * with a leading `www.`, `staff.` or `api.` removed. Lower-cased and stripped of a port and a
 * trailing dot so `WWW.Example.com.:443` and `example.com` are one tenant.
 */
export function tenantDomainOf(req: Request): string | undefined {
  const header = req.get('x-restaurant-domain');
  const raw = header !== undefined && header.trim() !== '' ? header : req.get('host');
  if (raw === undefined) return undefined;
  let domain = raw.trim().toLowerCase();
  if (!domain.startsWith('[')) domain = domain.replace(/:\d+$/, '');
  domain = domain.replace(/\.$/, '');
  if (header === undefined || header.trim() === '') domain = domain.replace(TENANT_PREFIXES, '');
  return domain.length > 0 && domain.length <= 253 ? domain : undefined;
}

const restaurantNotFound = () => new AppError('restaurant_not_found', 404, 'No restaurant is served at this domain');

export interface TenantResolver {
  resolve(req: Request): Promise<Tenant>;
  /** Drops what this process remembers of a domain (after changing its restaurant). */
  forget(domain: string): void;
}

/**
 * The tenant of a request (its domain looked up with `lookup`), with a short memory, so a request does not pay a query to learn which restaurant it is
 * for. Safe across processes because what requests use of a tenant never changes for a domain: its id and
 * currency are fixed (no route changes them, none deletes a restaurant). Name and time zone can change:
 * another process may show the old ones for up to `ttlMs`, so `GET /v1/restaurant` reads the row afresh,
 * and this process forgets a domain as soon as it changes its restaurant. Unknown domains are never
 * remembered, so a restaurant created elsewhere is served at once; the map is bounded (oldest out first).
 */
export function createTenantResolver(lookup: TenantLookup, options: { ttlMs?: number; maxEntries?: number } = {}): TenantResolver {
  const ttlMs = options.ttlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const remembered = new Map<string, { tenant: Tenant; until: number }>();
  return {
    async resolve(req) {
      const domain = tenantDomainOf(req);
      if (domain === undefined) throw restaurantNotFound();
      const hit = remembered.get(domain);
      if (hit !== undefined && hit.until > Date.now()) return hit.tenant;
      const restaurant = await lookup(domain);
      if (restaurant === undefined) throw restaurantNotFound();
      remembered.delete(domain);
      remembered.set(domain, { tenant: restaurant, until: Date.now() + ttlMs });
      if (remembered.size > maxEntries) {
        const oldest = remembered.keys().next().value;
        if (oldest !== undefined) remembered.delete(oldest);
      }
      return restaurant;
    },
    forget(domain) {
      remembered.delete(domain);
    },
  };
}
