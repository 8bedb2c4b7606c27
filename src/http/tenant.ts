import type { Request } from 'express';
import type { Queryable } from '../db/database.js';
import { AppError } from './errors.js';
import { findRestaurantByDomain, type Restaurant } from '../modules/restaurants/repo.js';

export type Tenant = Restaurant;

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

export async function resolveTenant(db: Queryable, req: Request): Promise<Tenant> {
  const domain = tenantDomainOf(req);
  const restaurant = domain === undefined ? undefined : await findRestaurantByDomain(db, domain);
  if (restaurant === undefined) {
    throw new AppError('restaurant_not_found', 404, 'No restaurant is served at this domain');
  }
  return restaurant;
}
