import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { distance } from '@turf/distance';
import { point, polygon } from '@turf/helpers';
import { kinks } from '@turf/kinks';

/**
 * The pure geometry of delivery zones, on Turf's modules. Coordinates are degrees: a position is
 * `[lng, lat]` (GeoJSON order), a location `{lat, lng}` (as clients send it).
 *
 * Boundaries are inclusive (API.md):
 * - a radius is measured by great-circle (haversine) distance on the mean Earth radius, 6,371,008.8 m
 *   (Turf's `earthRadius`), and a point up to `RADIUS_EDGE_TOLERANCE_METERS` beyond the radius counts as on
 *   it: a point computed to lie exactly on the circle lands a few nanometres either side of it in floating
 *   point, and must be inside;
 * - a polygon's edges are straight lines in longitude/latitude, as GeoJSON and Turf read them, and a point
 *   on an edge or a vertex is inside: Turf's point-in-polygon decides that with exact predicates on the
 *   coordinates as given, no tolerance. A polygon must not cross the antimeridian (RFC 7946 §3.1.9).
 */

export type Position = readonly [lng: number, lat: number];

export interface LatLng {
  lat: number;
  lng: number;
}

export type ZoneShape = { type: 'radius'; center: LatLng; meters: number } | { type: 'polygon'; coordinates: readonly Position[] };

/** 1 µm: far above the floating-point error of a distance on Earth (~1e-9 m), far below anything a courier sees. */
export const RADIUS_EDGE_TOLERANCE_METERS = 1e-6;

/** The great-circle (haversine) distance between two locations, in metres. */
export function distanceMeters(from: LatLng, to: LatLng): number {
  return distance(point([from.lng, from.lat]), point([to.lng, to.lat]), { units: 'meters' });
}

/** Whether the location is inside the shape or on its boundary. The shape must be valid (`ringIssues` finds none). */
export function shapeContains(shape: ZoneShape, location: LatLng): boolean {
  if (shape.type === 'radius') return distanceMeters(shape.center, location) <= shape.meters + RADIUS_EDGE_TOLERANCE_METERS;
  const ring = shape.coordinates.map(([lng, lat]) => [lng, lat]);
  return booleanPointInPolygon(point([location.lng, location.lat]), polygon([ring]), { ignoreBoundary: false });
}

export interface RingIssue {
  /** The index of the position at fault, or undefined for the ring as a whole. */
  index: number | undefined;
  message: string;
}

const samePosition = (a: Position, b: Position) => a[0] === b[0] && a[1] === b[1];

/**
 * What makes a polygon ring of at least 4 range-checked positions unusable as a zone: not
 * closed, a position repeated right after itself, an edge that turns straight back along the one before
 * (a spike, or every position on one line), or edges that cross or touch (Turf's `kinks`).
 */
export function ringIssues(ring: readonly Position[]): RingIssue[] {
  const first = ring[0];
  const last = ring[ring.length - 1];
  // Too few positions is the schema's to say (it asks for 4); nothing more can be told of such a ring.
  if (first === undefined || last === undefined || ring.length < 4) return [];
  if (!samePosition(first, last)) return [{ index: ring.length - 1, message: 'must repeat the first position, closing the ring' }];

  const issues: RingIssue[] = [];
  for (let i = 1; i < ring.length; i += 1) {
    if (samePosition(ring[i - 1] ?? first, ring[i] ?? first)) issues.push({ index: i, message: 'repeats the position before it' });
  }
  if (issues.length > 0) return issues;

  // The ring without its closing position, read cyclically: vertex i joins edge (i-1 → i) to edge (i → i+1).
  const vertices = ring.slice(0, -1);
  const n = vertices.length;
  for (let i = 0; i < n; i += 1) {
    const [px, py] = vertices[(i + n - 1) % n] ?? first;
    const [x, y] = vertices[i] ?? first;
    const [nx, ny] = vertices[(i + 1) % n] ?? first;
    const cross = (x - px) * (ny - y) - (y - py) * (nx - x);
    const dot = (x - px) * (nx - x) + (y - py) * (ny - y);
    // Collinear segments are invisible to `kinks` when they are neighbours: a spike has no width.
    if (cross === 0 && dot < 0) issues.push({ index: i, message: 'is the tip of an edge that turns straight back on the one before it' });
  }
  if (issues.length > 0) return issues;

  const crossings = kinks(polygon([ring.map(([lng, lat]) => [lng, lat])])).features;
  const at = crossings[0]?.geometry.coordinates;
  if (at !== undefined) return [{ index: undefined, message: `must not cross or touch itself (it does at [${at[0]}, ${at[1]}])` }];
  // What passes encloses an area: a ring on one line turns straight back somewhere, and a simple one off a line has one.
  return [];
}

/** What the resolver needs of a zone; a full zone row is one. */
export interface ZoneCandidate {
  id: number;
  shape: ZoneShape;
  fee_cents: number;
  priority: number;
}

/**
 * The zone that serves a location, or undefined when none contains it (boundaries inclusive). Where zones
 * overlap, the highest `priority` wins, then the lowest fee, then the lowest id (the oldest zone), so the
 * answer never depends on the order the zones come in.
 */
export function resolveDeliveryZone<Z extends ZoneCandidate>(zones: readonly Z[], location: LatLng): Z | undefined {
  let best: Z | undefined;
  for (const zone of zones) {
    if (!shapeContains(zone.shape, location)) continue;
    if (best === undefined || ranksBefore(zone, best)) best = zone;
  }
  return best;
}

function ranksBefore(a: ZoneCandidate, b: ZoneCandidate): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.fee_cents !== b.fee_cents) return a.fee_cents < b.fee_cents;
  return a.id < b.id;
}
