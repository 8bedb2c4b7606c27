import type { Response } from 'express';
import type { Principal, StaffRole } from '../../http/principal.js';

/**
 * Who reads the menu. The catalog's GET routes are public, but staff sending their token get the staff
 * view (stock figures) and must never get a response a shared cache could hand to someone else.
 */
export type CatalogViewer = { kind: 'anonymous' } | { kind: 'customer'; principal: Principal } | { kind: 'staff'; principal: Principal; role: StaffRole };

/** The viewer of a catalog read, from what the route's `access.optional` rule established. */
export function catalogViewer(principal: Principal | undefined, staffRole: StaffRole | undefined): CatalogViewer {
  if (principal === undefined) return { kind: 'anonymous' };
  return staffRole === undefined ? { kind: 'customer', principal } : { kind: 'staff', principal, role: staffRole };
}

export const isStaff = (viewer: CatalogViewer): viewer is Extract<CatalogViewer, { kind: 'staff' }> => viewer.kind === 'staff';

/**
 * Cache headers of a successful catalog read (set just before answering, so an error never carries them).
 * - anonymous: `public, max-age=5`, shared by the CDN; express adds a strong ETag and answers a matching
 *   `If-None-Match` with 304.
 * - customer (a token was sent): the same body, but the request carried credentials, so `private`.
 * - staff: stock figures, `private, no-store`.
 * - personalised (a menu filtered by the caller's saved preferences): `private, no-cache`, so a change of
 *   preferences shows at once; the ETag still spares the body when nothing changed.
 * `Vary` keeps variants apart in any cache keyed by URL: the token decides the view, and
 * `X-Restaurant-Domain` (like `Host`, already part of a URL's cache key) decides the restaurant.
 */
export function setCatalogCacheHeaders(res: Response, viewer: CatalogViewer, options: { personalised?: boolean } = {}): void {
  res.vary('Authorization');
  res.vary('X-Restaurant-Domain');
  res.vary('Host');
  const cacheControl = {
    anonymous: 'public, max-age=5',
    customer: options.personalised === true ? 'private, no-cache' : 'private, max-age=5',
    staff: 'private, no-store',
  }[viewer.kind];
  res.set('Cache-Control', cacheControl);
}

export const catalogReadNote =
  'Public. Without `Authorization` the answer is `Cache-Control: public, max-age=5` with a strong ETag ' +
  '(`If-None-Match` gets 304). With a token the token is checked (invalid: 401); a customer gets the same ' +
  'view marked `private, max-age=5`, staff get stock figures marked `private, no-store`.';
