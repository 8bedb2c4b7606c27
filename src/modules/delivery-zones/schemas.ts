import { z } from '../../http/zod.js';
import { idValue } from '../../http/params.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { MAX_SETTING_CENTS } from '../pricing/schemas.js';
import { ringIssues } from './geometry.js';

/** A delivery radius beyond 100 km is a mistake (metres typed as millimetres), not a delivery area. */
export const MAX_RADIUS_METERS = 100_000;
/** Enough for any hand-drawn or traced district; bounds the self-intersection check (quadratic in positions). */
export const MAX_POLYGON_POSITIONS = 500;
export const MAX_PRIORITY = 1_000_000;

const latitude = z.number().min(-90).max(90).openapi({ description: 'Degrees, -90 to 90', example: 52.52 });
const longitude = z.number().min(-180).max(180).openapi({ description: 'Degrees, -180 to 180', example: 13.405 });

/** A point on Earth as clients send it (an order's or a quote's `delivery_location`, a radius' centre). */
export const deliveryLocationSchema = z
  .object({ lat: latitude, lng: longitude })
  .strict()
  .openapi('DeliveryLocation', { description: 'Where to deliver, in degrees (WGS 84)' });

const radiusShape = z
  .object({
    type: z.literal('radius'),
    center: deliveryLocationSchema,
    meters: z
      .number()
      .positive()
      .max(MAX_RADIUS_METERS)
      .openapi({
        description: `Great-circle distance from the centre, more than 0 and at most ${MAX_RADIUS_METERS}; the circle itself is inside`,
        example: 3000,
      }),
  })
  .strict();

const position = z.tuple([longitude, latitude]).openapi({ description: '[lng, lat] (GeoJSON order)', example: [13.405, 52.52] });

const ringDescription =
  'One ring of [lng, lat] positions (GeoJSON order): at least 4, the last repeating the first, not crossing or touching itself. ' +
  'Edges are straight in longitude/latitude; a point on an edge is inside.';
const ring = z.array(position).min(4).max(MAX_POLYGON_POSITIONS);

/** What a manager may draw: the ring is checked whole (closed, simple, with an area). */
const validRing = ring
  .superRefine((positions, ctx) => {
    for (const issue of ringIssues(positions)) {
      ctx.addIssue({ code: 'custom', path: issue.index === undefined ? [] : [issue.index], message: issue.message });
    }
  })
  .openapi({ description: ringDescription });

const polygonShape = (coordinates: typeof ring) => z.object({ type: z.literal('polygon'), coordinates }).strict();

/** A shape as a manager sends it. */
export const zoneShapeSchema = z
  .discriminatedUnion('type', [radiusShape, polygonShape(validRing)])
  .openapi('DeliveryZoneShape', { description: 'A radius around a point, or a polygon' });

/**
 * A shape as stored and answered: it passed `zoneShapeSchema` on the way in, so reading it back checks its
 * structure only, and checkout does not rerun the (quadratic) self-intersection check on every order.
 */
export const storedZoneShapeSchema = z
  .discriminatedUnion('type', [radiusShape, polygonShape(ring.openapi({ description: ringDescription }))])
  .openapi('DeliveryZoneShapeView', { description: 'A radius around a point, or a polygon' });

const zoneName = z.string().trim().min(1).max(50).openapi({ example: 'City centre' });
const cents = z.number().int().min(0).max(MAX_SETTING_CENTS);
const priority = z.number().int().min(-MAX_PRIORITY).max(MAX_PRIORITY);

const zoneFields = {
  name: zoneName,
  shape: zoneShapeSchema,
  fee_cents: cents.openapi({ description: 'The delivery fee inside this zone' }),
  min_subtotal_cents: cents.openapi({ description: 'Delivery orders below it (before any discount) are refused with 422 below_minimum' }),
  free_over_cents: cents.nullable().openapi({ description: 'A subtotal at or above it (before any discount) delivers free; null: never free' }),
  priority: priority.openapi({ description: 'Where zones overlap the highest priority wins, then the lowest fee' }),
};

export const createZoneBody = z
  .object({ ...zoneFields, free_over_cents: zoneFields.free_over_cents.default(null), priority: zoneFields.priority.default(0) })
  .strict()
  .openapi('CreateDeliveryZone');

export const updateZoneBody = z
  .object({
    name: zoneFields.name.optional(),
    shape: zoneFields.shape.optional(),
    fee_cents: zoneFields.fee_cents.optional(),
    min_subtotal_cents: zoneFields.min_subtotal_cents.optional(),
    free_over_cents: zoneFields.free_over_cents.optional(),
    priority: zoneFields.priority.optional(),
  })
  .strict()
  .openapi('UpdateDeliveryZone', { description: 'The fields to change; a shape is replaced whole' });

export const zoneSchema = z
  .object({ id: idValue, ...zoneFields, shape: storedZoneShapeSchema, created_at: z.string(), updated_at: z.string() })
  .strict()
  .openapi('DeliveryZone');

export const zonePageSchema = pageOf(zoneSchema).openapi('DeliveryZonePage');
export const listZonesQuery = z.object(pageQuery);

export type ZoneShapeInput = z.infer<typeof zoneShapeSchema>;
export type CreateZoneInput = z.infer<typeof createZoneBody>;
export type UpdateZoneInput = z.infer<typeof updateZoneBody>;
export type DeliveryZone = z.infer<typeof zoneSchema>;
