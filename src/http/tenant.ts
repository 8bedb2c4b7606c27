import type { Request } from 'express';
import { systemClock, type Clock } from '../lib/clock.js';
import { setBounded } from '../lib/bounded-map.js';
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
 * another process may show the old ones for up to twice `ttlMs`, so `GET /v1/restaurant` reads the row
 * afresh, and this process forgets a domain as soon as it changes its restaurant. Unknown domains are never
 * remembered, so a restaurant created elsewhere is served at once; the map is bounded (oldest out first).
 *
 * A domain is looked up by one query at a time, whatever the number of requests waiting for it, and once
 * its time is up it is still served for another `ttlMs` while that one query refreshes it: under load every
 * request arriving in the lookup's time would otherwise make its own, each waiting for a pooled
 * connection, and every `ttlMs` the page's latency would double for a burst of requests.
 */
export function createTenantResolver(lookup: TenantLookup, options: { ttlMs?: number; maxEntries?: number; clock?: Clock } = {}): TenantResolver {
  const ttlMs = options.ttlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = () => (options.clock ?? systemClock)().getTime();
  const remembered = new Map<string, { tenant: Tenant; until: number }>();
  const looking = new Map<string, Promise<Tenant>>();

  const lookUp = (domain: string): Promise<Tenant> => {
    const inFlight = looking.get(domain);
    if (inFlight !== undefined) return inFlight;
    const found: Promise<Tenant> = lookup(domain)
      .then((restaurant) => {
        // Forgotten meanwhile (its restaurant changed): what this query read may be from before the change.
        const current = looking.get(domain) === found;
        if (restaurant === undefined) {
          if (current) remembered.delete(domain);
          throw restaurantNotFound();
        }
        if (current) {
          setBounded(remembered, domain, { tenant: restaurant, until: now() + ttlMs }, maxEntries);
        }
        return restaurant;
      })
      .finally(() => {
        if (looking.get(domain) === found) looking.delete(domain);
      });
    looking.set(domain, found);
    return found;
  };

  return {
    async resolve(req) {
      const domain = tenantDomainOf(req);
      if (domain === undefined) throw restaurantNotFound();
      const hit = remembered.get(domain);
      if (hit !== undefined) {
        const at = now();
        if (hit.until > at) return hit.tenant;
        if (hit.until + ttlMs > at) {
          // A failed refresh leaves the entry to the next request, which tries again.
          lookUp(domain).catch(() => undefined);
          return hit.tenant;
        }
      }
      return lookUp(domain);
    },
    forget(domain) {
      remembered.delete(domain);
      looking.delete(domain);
    },
  };
}
