import type { Queryable } from '../../db/database.js';
import { notFound } from '../../lib/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
import { deliveryShortfallCents, type DeliveryTermsRule } from '../pricing/delivery.js';
import { belowMinimum, deliveryLocationRequired, outsideDeliveryArea } from './errors.js';
import { resolveDeliveryZone, type LatLng } from './geometry.js';
import * as repo from './repo.js';
import { storedZoneShapeSchema, type CreateZoneInput, type DeliveryZone, type UpdateZoneInput } from './schemas.js';

export type { DeliveryZone } from './schemas.js';
export type { LatLng } from './geometry.js';

function zoneView(row: repo.ZoneRow): DeliveryZone {
  const shape = storedZoneShapeSchema.safeParse(row.shape);
  // Only this module writes the row, through the body schema: a failure here is a bug, not a client's fault.
  if (!shape.success) throw new Error(`the stored shape of delivery zone ${row.id} is invalid: ${shape.error.message}`);
  return { ...row, shape: shape.data };
}

export async function listZones(db: Queryable, restaurantId: number, options: { limit: number; cursor?: string | undefined }): Promise<Page<DeliveryZone>> {
  const after = decodeCursor(options.cursor, ['number']);
  const rows = await repo.selectZonePage(db, restaurantId, { afterId: after === undefined ? undefined : Number(after[0]), limit: options.limit + 1 });
  return pageFrom(rows, options.limit, (row) => [row.id], zoneView);
}

/** An active zone of this restaurant, else 404 (another restaurant's id included). */
export async function getZone(db: Queryable, restaurantId: number, id: number): Promise<DeliveryZone> {
  const row = await repo.selectZone(db, restaurantId, id);
  if (row === undefined) throw notFound('The delivery zone');
  return zoneView(row);
}

export async function createZone(db: Queryable, restaurantId: number, input: CreateZoneInput): Promise<DeliveryZone> {
  return zoneView(await repo.insertZone(db, restaurantId, input));
}

export async function updateZone(db: Queryable, restaurantId: number, id: number, changes: UpdateZoneInput): Promise<DeliveryZone> {
  const set = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<repo.ZoneValues>;
  const row = await repo.updateZone(db, restaurantId, id, set);
  if (row === undefined) throw notFound('The delivery zone');
  return zoneView(row);
}

/** Archives the zone: it no longer serves deliveries or shows in the list. */
export async function deleteZone(db: Queryable, restaurantId: number, id: number): Promise<void> {
  if (!(await repo.archiveZone(db, restaurantId, id))) throw notFound('The delivery zone');
}

/**
 * Which delivery terms apply to a location (API.md "Delivery zones, minimum order, coupons"):
 * - `no_zones`: the restaurant has none; its pricing settings' `delivery` defaults apply, with or without a location;
 * - `location_required`: it has zones and no location was given (checkout and the quote answer 400);
 * - `outside`: the location is in none of them (422 outside_delivery_area);
 * - `zone`: the winning zone (highest priority, then lowest fee, then oldest), whose terms replace the defaults.
 * Pass the order's transaction to read the zones in it.
 */
export type DeliveryTermsResult =
  | { kind: 'no_zones' }
  | { kind: 'location_required' }
  | { kind: 'outside' }
  | ({ kind: 'zone'; zone: DeliveryZone } & DeliveryTermsRule);

export async function deliveryTermsFor(db: Queryable, restaurantId: number, location: LatLng | undefined): Promise<DeliveryTermsResult> {
  const zones = (await repo.selectActiveZones(db, restaurantId)).map(zoneView);
  if (zones.length === 0) return { kind: 'no_zones' };
  if (location === undefined) return { kind: 'location_required' };
  const zone = resolveDeliveryZone(zones, location);
  if (zone === undefined) return { kind: 'outside' };
  return { kind: 'zone', zone, fee_cents: zone.fee_cents, min_subtotal_cents: zone.min_subtotal_cents, free_over_cents: zone.free_over_cents };
}

/** The terms a delivery order or quote is priced with, and the zone they come from (null: the restaurant's defaults). */
export interface OrderDeliveryTerms extends DeliveryTermsRule {
  zone_id: number | null;
}

/**
 * `deliveryTermsFor` for checkout and the quote, with its refusals thrown: 400 validation_failed without a
 * location while zones exist, 422 outside_delivery_area outside them. `defaults` are the pricing settings'
 * `delivery` terms, used when the restaurant has no zones. Call it for deliveries only: pickup never pays a fee.
 */
export async function deliveryTermsForOrder(
  db: Queryable,
  restaurantId: number,
  location: LatLng | undefined,
  defaults: DeliveryTermsRule,
): Promise<OrderDeliveryTerms> {
  const terms = await deliveryTermsFor(db, restaurantId, location);
  switch (terms.kind) {
    case 'no_zones':
      return { fee_cents: defaults.fee_cents, min_subtotal_cents: defaults.min_subtotal_cents, free_over_cents: defaults.free_over_cents, zone_id: null };
    case 'location_required':
      throw deliveryLocationRequired();
    case 'outside':
      throw outsideDeliveryArea();
    case 'zone':
      return { fee_cents: terms.fee_cents, min_subtotal_cents: terms.min_subtotal_cents, free_over_cents: terms.free_over_cents, zone_id: terms.zone.id };
  }
}

/** Throws 422 below_minimum (with `shortfall_cents`) when the subtotal before any discount is under the terms' minimum. */
export function requireDeliveryMinimum(terms: DeliveryTermsRule, subtotalCents: number): void {
  const shortfall = deliveryShortfallCents(terms, subtotalCents);
  if (shortfall > 0) throw belowMinimum(terms.min_subtotal_cents, shortfall);
}
