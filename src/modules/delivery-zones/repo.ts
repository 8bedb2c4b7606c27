import type { Queryable } from '../../db/database.js';

/** An active zone as stored; `shape` is the jsonb document, not yet validated (the service parses it). */
export interface ZoneRow {
  id: number;
  name: string;
  shape: unknown;
  fee_cents: number;
  min_subtotal_cents: number;
  free_over_cents: number | null;
  priority: number;
  created_at: string;
  updated_at: string;
}

export interface ZoneValues {
  name: string;
  shape: object;
  fee_cents: number;
  min_subtotal_cents: number;
  free_over_cents: number | null;
  priority: number;
}

const columns = ['id', 'name', 'shape', 'fee_cents', 'min_subtotal_cents', 'free_over_cents', 'priority', 'created_at', 'updated_at'] as const;

const iso = (value: unknown) => (value instanceof Date ? value : new Date(String(value))).toISOString();

function toZone(row: Record<string, unknown>): ZoneRow {
  return {
    id: Number(row.id),
    name: String(row.name),
    // pg parses jsonb; a driver that hands back text is parsed here.
    shape: typeof row.shape === 'string' ? JSON.parse(row.shape) : row.shape,
    fee_cents: Number(row.fee_cents),
    min_subtotal_cents: Number(row.min_subtotal_cents),
    free_over_cents: row.free_over_cents === null || row.free_over_cents === undefined ? null : Number(row.free_over_cents),
    priority: Number(row.priority),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

const toStored = (values: Partial<ZoneValues>) => (values.shape === undefined ? values : { ...values, shape: JSON.stringify(values.shape) });

/** Every active zone of the restaurant, by id: what the resolver chooses from. */
export async function selectActiveZones(db: Queryable, restaurantId: number): Promise<ZoneRow[]> {
  const rows: Array<Record<string, unknown>> = await db('delivery_zones')
    .select(columns)
    .where({ restaurant_id: restaurantId })
    .whereNull('archived_at')
    .orderBy('id', 'asc');
  return rows.map(toZone);
}

export async function selectZonePage(db: Queryable, restaurantId: number, options: { afterId: number | undefined; limit: number }): Promise<ZoneRow[]> {
  const query = db('delivery_zones').select(columns).where({ restaurant_id: restaurantId }).whereNull('archived_at').orderBy('id', 'asc').limit(options.limit);
  if (options.afterId !== undefined) query.where('id', '>', options.afterId);
  const rows: Array<Record<string, unknown>> = await query;
  return rows.map(toZone);
}

export async function selectZone(db: Queryable, restaurantId: number, id: number): Promise<ZoneRow | undefined> {
  const row: Record<string, unknown> | undefined = await db('delivery_zones')
    .select(columns)
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .first();
  return row === undefined ? undefined : toZone(row);
}

export async function insertZone(db: Queryable, restaurantId: number, values: ZoneValues): Promise<ZoneRow> {
  const [row] = (await db('delivery_zones')
    .insert({ restaurant_id: restaurantId, ...toStored(values) })
    .returning(columns)) as Array<Record<string, unknown>>;
  if (row === undefined) throw new Error('insert into delivery_zones returned no row');
  return toZone(row);
}

export async function updateZone(db: Queryable, restaurantId: number, id: number, changes: Partial<ZoneValues>): Promise<ZoneRow | undefined> {
  const [row] = (await db('delivery_zones')
    .update({ ...toStored(changes), updated_at: db.fn.now() })
    .where({ restaurant_id: restaurantId, id })
    .whereNull('archived_at')
    .returning(columns)) as Array<Record<string, unknown>>;
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
