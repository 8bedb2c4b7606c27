import type { Queryable } from '../../db/database.js';
import type { DeliveryZoneRecord } from '../../db/tables.js';

/** An active zone as stored; `shape` is the jsonb document, not yet validated (the service parses it). */
export type ZoneRow = Pick<DeliveryZoneRecord, 'name' | 'shape' | 'fee_cents' | 'min_subtotal_cents' | 'free_over_cents' | 'priority'> & {
  id: number;
  created_at: string;
  updated_at: string;
};

export interface ZoneValues {
  name: string;
  shape: object;
  fee_cents: number;
  min_subtotal_cents: number;
  free_over_cents: number | null;
  priority: number;
}

const columns = ['id', 'name', 'shape', 'fee_cents', 'min_subtotal_cents', 'free_over_cents', 'priority', 'created_at', 'updated_at'] satisfies Array<
  keyof DeliveryZoneRecord
>;

function toZone(row: Pick<DeliveryZoneRecord, (typeof columns)[number]>): ZoneRow {
  return {
    ...row,
    id: Number(row.id),
    // pg parses jsonb; a driver that hands back text is parsed here.
    shape: typeof row.shape === 'string' ? JSON.parse(row.shape) : row.shape,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const toStored = (values: Partial<ZoneValues>) => (values.shape === undefined ? values : { ...values, shape: JSON.stringify(values.shape) });

/** Every active zone of the restaurant, by id: what the resolver chooses from. */
export async function selectActiveZones(db: Queryable, restaurantId: number): Promise<ZoneRow[]> {
  const rows = await db('delivery_zones').select(columns).where({ restaurant_id: restaurantId }).whereNull('archived_at').orderBy('id', 'asc');
  return rows.map(toZone);
}

export async function selectZonePage(db: Queryable, restaurantId: number, options: { afterId: number | undefined; limit: number }): Promise<ZoneRow[]> {
  const query = db('delivery_zones').select(columns).where({ restaurant_id: restaurantId }).whereNull('archived_at').orderBy('id', 'asc').limit(options.limit);
  if (options.afterId !== undefined) query.where('id', '>', options.afterId);
  const rows = await query;
  return rows.map(toZone);
}

export async function selectZone(db: Queryable, restaurantId: number, id: number): Promise<ZoneRow | undefined> {
  const row = await db('delivery_zones').select(columns).where({ restaurant_id: restaurantId, id }).whereNull('archived_at').first();
  return row === undefined ? undefined : toZone(row);
}

export async function insertZone(db: Queryable, restaurantId: number, values: ZoneValues): Promise<ZoneRow> {
  const [row] = await db('delivery_zones')
    .insert({ restaurant_id: restaurantId, ...values, shape: JSON.stringify(values.shape) })
    .returning(columns);
  if (row === undefined) throw new Error('insert into delivery_zones returned no row');
  return toZone(row);
}

export async function updateZone(db: Queryable, restaurantId: number, id: number, changes: Partial<ZoneValues>): Promise<ZoneRow | undefined> {
  const [row] = await db('delivery_zones')
    .update({ ...toStored(changes), updated_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .returning(columns);
  return row === undefined ? undefined : toZone(row);
}

/** False when there was no active zone to archive. */
export async function archiveZone(db: Queryable, restaurantId: number, id: number): Promise<boolean> {
  const rows: unknown[] = await db('delivery_zones')
    .update({ archived_at: db.fn.now(), updated_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .returning('id');
  return rows.length > 0;
}
