import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import type { Int8, WebhookDeliveryRecord, WebhookEndpointRecord, WebhookEventRecord } from '../../db/tables.js';
import type { WebhookData, WebhookEventType } from './events.js';

/** An endpoint as its managers see it: never with its secret. */
export interface EndpointRow {
  id: number;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

export type DeliveryStatus = WebhookDeliveryRecord['status'];

export interface DeliveryRow {
  id: number;
  endpoint_id: number;
  event_id: number;
  event: WebhookEventType;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  created_at: string;
}

const endpointColumns = ['id', 'url', 'events', 'enabled', 'disabled_reason', 'created_at', 'updated_at'] satisfies Array<keyof WebhookEndpointRecord>;

export async function insertEndpoint(
  db: Queryable,
  restaurantId: number,
  endpoint: { url: string; events: readonly WebhookEventType[]; secret: string },
): Promise<EndpointRow> {
  const [row] = await db('webhook_endpoints')
    .insert({ restaurant_id: restaurantId, url: endpoint.url, events: [...endpoint.events], secret: endpoint.secret })
    .returning(endpointColumns);
  if (row === undefined) throw new Error('insert into webhook_endpoints returned no row');
  return toEndpoint(row);
}

export async function countEndpoints(db: Queryable, restaurantId: number): Promise<number> {
  const row = await db('webhook_endpoints').where({ restaurant_id: restaurantId }).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

export async function selectEndpointPage(db: Queryable, restaurantId: number, options: { afterId: number | undefined; limit: number }): Promise<EndpointRow[]> {
  const query = db('webhook_endpoints').select(endpointColumns).where({ restaurant_id: restaurantId }).orderBy('id').limit(options.limit);
  if (options.afterId !== undefined) query.where('id', '>', options.afterId);
  const rows = await query;
  return rows.map(toEndpoint);
}

export async function selectEndpoint(db: Queryable, restaurantId: number, id: number): Promise<EndpointRow | undefined> {
  const row = await db('webhook_endpoints').select(endpointColumns).where({ restaurant_id: restaurantId, id }).first();
  return row === undefined ? undefined : toEndpoint(row);
}

export interface EndpointChanges {
  url?: string | undefined;
  events?: readonly WebhookEventType[] | undefined;
  enabled?: boolean | undefined;
}

/** Switching an endpoint on (again) starts its failure count afresh. */
export async function updateEndpoint(db: Queryable, restaurantId: number, id: number, changes: EndpointChanges): Promise<EndpointRow | undefined> {
  const [row] = await db('webhook_endpoints')
    .where({ restaurant_id: restaurantId, id })
    .update({
      ...(changes.url === undefined ? {} : { url: changes.url }),
      ...(changes.events === undefined ? {} : { events: [...changes.events] }),
      ...(changes.enabled === undefined ? {} : { enabled: changes.enabled, disabled_reason: null }),
      ...(changes.enabled === true ? { failing_since: null } : {}),
      updated_at: db.fn.now(),
    })
    .returning(endpointColumns);
  return row === undefined ? undefined : toEndpoint(row);
}

/** Its deliveries go with it (ON DELETE CASCADE); the events stay, they are the restaurant's. */
export async function deleteEndpoint(db: Queryable, restaurantId: number, id: number): Promise<boolean> {
  // RETURNING, not the affected count: knex on PGlite answers a DELETE with the raw result.
  const rows: unknown[] = await db('webhook_endpoints').where({ restaurant_id: restaurantId, id }).delete().returning('id');
  return rows.length > 0;
}

/** The enabled endpoints of the restaurant subscribed to any of `types`. */
export async function selectSubscribedEndpointIds(db: Queryable, restaurantId: number, types: readonly WebhookEventType[]): Promise<number[]> {
  const rows = await db('webhook_endpoints')
    .select('id')
    .where({ restaurant_id: restaurantId, enabled: true })
    .whereRaw(`events && ARRAY[${types.map(() => '?').join(', ')}]::text[]`, [...types])
    .orderBy('id');
  return rows.map((row) => Number(row.id));
}

/**
 * The event, or undefined when it already exists: an order event becomes a webhook event once
 * (UNIQUE (restaurant_id, order_event_id)).
 */
export async function insertEvent(
  trx: Knex.Transaction,
  restaurantId: number,
  event: { type: WebhookEventType; data: WebhookData; orderEventId?: number | undefined },
): Promise<{ id: number } | undefined> {
  const [row] = await trx('webhook_events')
    .insert({ restaurant_id: restaurantId, type: event.type, data: JSON.stringify(event.data), order_event_id: event.orderEventId ?? null })
    .onConflict(['restaurant_id', 'order_event_id'])
    .ignore()
    .returning('id');
  return row === undefined ? undefined : { id: Number(row.id) };
}

/** One pending delivery per endpoint, due now. */
export async function insertDeliveries(trx: Knex.Transaction, restaurantId: number, eventId: number, endpointIds: readonly number[]): Promise<number[]> {
  if (endpointIds.length === 0) return [];
  const rows = await trx('webhook_deliveries')
    .insert(endpointIds.map((endpointId) => ({ restaurant_id: restaurantId, endpoint_id: endpointId, event_id: eventId, next_attempt_at: trx.fn.now() })))
    .returning('id');
  return rows.map((row) => Number(row.id));
}

const deliveryColumns = [
  'd.id',
  'd.endpoint_id',
  'd.event_id',
  'e.type',
  'd.status',
  'd.attempts',
  'd.last_status_code',
  'd.last_error',
  'd.last_attempt_at',
  'd.next_attempt_at',
  'd.created_at',
];

/** A delivery read with its event's type (`deliveryColumns`). */
type StoredDelivery = Pick<
  WebhookDeliveryRecord,
  'id' | 'endpoint_id' | 'event_id' | 'status' | 'attempts' | 'last_status_code' | 'last_error' | 'last_attempt_at' | 'next_attempt_at' | 'created_at'
> &
  Pick<WebhookEventRecord, 'type'>;

const deliveriesWithEvents = (db: Queryable, restaurantId: number) =>
  db('webhook_deliveries as d')
    .join('webhook_events as e', (on) => on.on('e.restaurant_id', 'd.restaurant_id').andOn('e.id', 'd.event_id'))
    .where('d.restaurant_id', restaurantId);

/** An endpoint's deliveries, newest first (keyset on id, descending). */
export async function selectDeliveries(
  db: Queryable,
  restaurantId: number,
  endpointId: number,
  options: { beforeId: number | undefined; limit: number },
): Promise<DeliveryRow[]> {
  const query = deliveriesWithEvents(db, restaurantId)
    .select<StoredDelivery[]>(deliveryColumns)
    .where('d.endpoint_id', endpointId)
    .orderBy('d.id', 'desc')
    .limit(options.limit);
  if (options.beforeId !== undefined) query.where('d.id', '<', options.beforeId);
  const rows = await query;
  return rows.map(toDelivery);
}

export async function selectDelivery(db: Queryable, restaurantId: number, id: number): Promise<DeliveryRow | undefined> {
  const row = await deliveriesWithEvents(db, restaurantId).select<StoredDelivery[]>(deliveryColumns).where('d.id', id).first();
  return row === undefined ? undefined : toDelivery(row);
}

/** What an attempt needs, read under the delivery's row lock. */
export interface DeliveryForAttempt {
  id: number;
  status: DeliveryStatus;
  attempts: number;
  claimedUntil: Date | null;
  endpoint: { id: number; url: string; secret: string; enabled: boolean };
  event: { id: number; type: WebhookEventType; data: WebhookData; createdAt: Date };
}

export async function lockDeliveryForAttempt(trx: Knex.Transaction, restaurantId: number, id: number): Promise<DeliveryForAttempt | undefined> {
  const row = await trx('webhook_deliveries as d')
    .join('webhook_events as e', (on) => on.on('e.restaurant_id', 'd.restaurant_id').andOn('e.id', 'd.event_id'))
    .join('webhook_endpoints as w', (on) => on.on('w.restaurant_id', 'd.restaurant_id').andOn('w.id', 'd.endpoint_id'))
    .select<
      Array<
        Pick<WebhookDeliveryRecord, 'id' | 'status' | 'attempts' | 'claimed_until'> &
          Pick<WebhookEndpointRecord, 'url' | 'secret' | 'enabled'> &
          Pick<WebhookEventRecord, 'type' | 'data'> & { endpoint_id: Int8; event_id: Int8; event_created_at: Date }
      >
    >(
      'd.id',
      'd.status',
      'd.attempts',
      'd.claimed_until',
      'w.id as endpoint_id',
      'w.url',
      'w.secret',
      'w.enabled',
      'e.id as event_id',
      'e.type',
      'e.data',
      'e.created_at as event_created_at',
    )
    .where({ 'd.restaurant_id': restaurantId, 'd.id': id })
    .forUpdate('d')
    .first();
  if (row === undefined) return undefined;
  const data = row.data;
  return {
    id: Number(row.id),
    status: row.status,
    attempts: row.attempts,
    claimedUntil: row.claimed_until,
    endpoint: { id: Number(row.endpoint_id), url: row.url, secret: row.secret, enabled: row.enabled },
    // json (not jsonb) comes back parsed from pg and PGlite alike; a string would be a driver without the parser.
    event: {
      id: Number(row.event_id),
      type: row.type,
      data: (typeof data === 'string' ? JSON.parse(data) : data) as WebhookData,
      createdAt: row.event_created_at,
    },
  };
}

/** The attempt in hand is this caller's until `until`; nobody else posts the delivery meanwhile. */
export async function claimDelivery(trx: Knex.Transaction, restaurantId: number, id: number, claim: { token: string; until: Date }): Promise<void> {
  await trx('webhook_deliveries')
    .where({ restaurant_id: restaurantId, id })
    .update({ attempt_token: claim.token, claimed_until: claim.until, updated_at: trx.fn.now() });
}

/** Locks the delivery if the attempt in hand is still the claim `token` made. */
export async function lockClaim(trx: Knex.Transaction, restaurantId: number, id: number, token: string): Promise<boolean> {
  const row = await trx('webhook_deliveries').select('id').where({ restaurant_id: restaurantId, id, attempt_token: token }).forUpdate().first();
  return row !== undefined;
}

export interface AttemptRecord {
  attempts: number;
  status: DeliveryStatus;
  lastStatusCode: number | null;
  lastError: string | null;
  at: Date;
  nextAttemptAt: Date | null;
}

/** Writes how the attempt went and ends the claim (the caller holds it: `lockClaim`). */
export async function recordAttempt(trx: Knex.Transaction, restaurantId: number, id: number, token: string, record: AttemptRecord): Promise<void> {
  await trx('webhook_deliveries').where({ restaurant_id: restaurantId, id, attempt_token: token }).update({
    attempts: record.attempts,
    status: record.status,
    last_status_code: record.lastStatusCode,
    last_error: record.lastError,
    last_attempt_at: record.at,
    next_attempt_at: record.nextAttemptAt,
    attempt_token: null,
    claimed_until: null,
    updated_at: trx.fn.now(),
  });
}

/** A delivery that will not be attempted (its endpoint is disabled). */
export async function settleDeliveryUnattempted(trx: Knex.Transaction, restaurantId: number, id: number, reason: string): Promise<void> {
  await trx('webhook_deliveries')
    .where({ restaurant_id: restaurantId, id })
    .update({ status: 'failed', next_attempt_at: null, last_error: reason, updated_at: trx.fn.now() });
}

/** Makes the delivery pending again, due at `at` (a redelivery). */
export async function reopenDelivery(trx: Knex.Transaction, restaurantId: number, id: number, at: Date): Promise<void> {
  await trx('webhook_deliveries').where({ restaurant_id: restaurantId, id }).update({ status: 'pending', next_attempt_at: at, updated_at: trx.fn.now() });
}

export async function markEndpointSucceeding(trx: Knex.Transaction, restaurantId: number, id: number): Promise<void> {
  await trx('webhook_endpoints')
    .where({ restaurant_id: restaurantId, id })
    .whereNotNull('failing_since')
    .update({ failing_since: null, updated_at: trx.fn.now() });
}

/**
 * Counts a failure against the endpoint: its run of failures starts now unless one is already running;
 * a run that began at or before `disableIfFailingSince` switches it off. True when it is now disabled.
 */
export async function markEndpointFailing(
  trx: Knex.Transaction,
  restaurantId: number,
  id: number,
  at: Date,
  disable: { ifFailingSince: Date; reason: string },
): Promise<boolean> {
  await trx('webhook_endpoints').where({ restaurant_id: restaurantId, id }).whereNull('failing_since').update({ failing_since: at, updated_at: trx.fn.now() });
  const disabled = await trx('webhook_endpoints')
    .where({ restaurant_id: restaurantId, id, enabled: true })
    .where('failing_since', '<=', disable.ifFailingSince)
    .update({ enabled: false, disabled_reason: disable.reason, updated_at: trx.fn.now() });
  return disabled > 0;
}

/** Starts the restaurant's cursor into `order_events` at `seq`, unless it has one. */
export async function ensureOrderCursor(db: Queryable, restaurantId: number, seq: number): Promise<void> {
  await db('webhook_order_cursors').insert({ restaurant_id: restaurantId, last_feed_seq: seq }).onConflict('restaurant_id').ignore();
}

/** The restaurant's cursor, locked for the caller; undefined when it has none or another relay holds it. */
export async function lockOrderCursor(trx: Knex.Transaction, restaurantId: number): Promise<number | undefined> {
  const row = await trx('webhook_order_cursors').select('last_feed_seq').where({ restaurant_id: restaurantId }).forUpdate().skipLocked().first();
  return row === undefined ? undefined : Number(row.last_feed_seq);
}

export async function advanceOrderCursor(trx: Knex.Transaction, restaurantId: number, seq: number): Promise<void> {
  await trx('webhook_order_cursors').where({ restaurant_id: restaurantId }).update({ last_feed_seq: seq, updated_at: trx.fn.now() });
}

export async function selectOrderCursorRestaurants(db: Queryable): Promise<number[]> {
  const rows = await db('webhook_order_cursors').select('restaurant_id').orderBy('restaurant_id');
  return rows.map((row) => Number(row.restaurant_id));
}

function toEndpoint(row: Pick<WebhookEndpointRecord, (typeof endpointColumns)[number]>): EndpointRow {
  return {
    id: Number(row.id),
    url: row.url,
    // text[]: the service writes only event types it accepts.
    events: row.events as WebhookEventType[],
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function toDelivery(row: StoredDelivery): DeliveryRow {
  return {
    id: Number(row.id),
    endpoint_id: Number(row.endpoint_id),
    event_id: Number(row.event_id),
    event: row.type,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    last_attempt_at: row.last_attempt_at?.toISOString() ?? null,
    next_attempt_at: row.next_attempt_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}
