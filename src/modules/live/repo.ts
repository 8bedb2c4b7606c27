import type { Queryable } from '../../db/database.js';
import type { OrderEventRecord } from '../../db/tables.js';
import type { OrderActor, OrderStatus } from '../orders/state-machine.js';
import type { StaffRole } from '../../lib/identity.js';

/**
 * The live module reads `order_events` in commit order (`feed_seq`, set by the trigger of its own
 * migration); the orders module remains the only writer of the rows.
 */
export interface FeedEvent {
  id: number;
  seq: number;
  orderId: number;
  status: OrderStatus;
  actor: OrderActor;
  reason: string | null;
  at: string;
}

/** Only this customer's orders (a customer's stream); all the restaurant's when absent. */
export type FeedScope = { restaurantId: number; customerId?: number | undefined };

export async function selectFeedEventsAfter(db: Queryable, scope: FeedScope, afterSeq: number, limit: number): Promise<FeedEvent[]> {
  const query = db('order_events as e')
    .select<Array<Pick<OrderEventRecord, 'id' | 'feed_seq' | 'order_id' | 'status' | 'actor' | 'reason' | 'created_at'>>>(
      'e.id',
      'e.feed_seq',
      'e.order_id',
      'e.status',
      'e.actor',
      'e.reason',
      'e.created_at',
    )
    .where('e.restaurant_id', scope.restaurantId)
    .where('e.feed_seq', '>', afterSeq)
    .orderBy('e.feed_seq')
    .limit(limit);
  if (scope.customerId !== undefined) {
    query.join('orders as o', (on) => on.on('o.restaurant_id', 'e.restaurant_id').andOn('o.id', 'e.order_id')).where('o.customer_id', scope.customerId);
  }
  const rows = await query;
  return rows.map((row) => ({
    id: Number(row.id),
    seq: Number(row.feed_seq),
    orderId: Number(row.order_id),
    status: row.status,
    actor: row.actor,
    reason: row.reason,
    at: row.created_at.toISOString(),
  }));
}

/** The restaurant's newest position: a stream that starts now follows what commits after it. */
export async function selectLatestFeedSeq(db: Queryable, restaurantId: number): Promise<number> {
  const row = await db('order_events').where({ restaurant_id: restaurantId }).max({ seq: 'feed_seq' }).first();
  return Number(row?.seq ?? 0);
}

/** Where an event sits in the feed, if it is this restaurant's and no older than `notBefore`. */
export async function selectFeedSeqOfEvent(db: Queryable, restaurantId: number, eventId: number, notBefore: Date): Promise<number | undefined> {
  const row = await db('order_events').select('feed_seq').where({ restaurant_id: restaurantId, id: eventId }).where('created_at', '>=', notBefore).first();
  return row === undefined ? undefined : Number(row.feed_seq);
}

/**
 * The position just before the first event at or after `since`: the last one before it, walking the
 * feed index back from the newest (so only the window itself is read).
 */
export async function selectFeedSeqBefore(db: Queryable, restaurantId: number, since: Date): Promise<number> {
  const row = await db('order_events')
    .select('feed_seq')
    .where({ restaurant_id: restaurantId })
    .where('created_at', '<', since)
    .orderBy('feed_seq', 'desc')
    .first();
  return Number(row?.feed_seq ?? 0);
}

export interface StreamTicketRow {
  restaurantId: number;
  ticketHash: string;
  userSub: string;
  staffRole: StaffRole | null;
  customerId: number | null;
  expiresAt: Date;
}

export async function insertStreamTicket(db: Queryable, ticket: StreamTicketRow): Promise<void> {
  await db('stream_tickets').insert({
    restaurant_id: ticket.restaurantId,
    ticket_hash: ticket.ticketHash,
    user_sub: ticket.userSub,
    staff_role: ticket.staffRole,
    customer_id: ticket.customerId,
    expires_at: ticket.expiresAt,
  });
}

/** Takes the ticket if it is still valid at `now`: one guarded DELETE, so of two uses at most one gets it. */
export async function deleteValidStreamTicket(
  db: Queryable,
  restaurantId: number,
  ticketHash: string,
  now: Date,
): Promise<Pick<StreamTicketRow, 'userSub' | 'staffRole' | 'customerId'> | undefined> {
  const [row] = await db('stream_tickets')
    .where({ restaurant_id: restaurantId, ticket_hash: ticketHash })
    .where('expires_at', '>', now)
    .delete()
    .returning(['user_sub', 'staff_role', 'customer_id']);
  if (row === undefined) return undefined;
  return {
    userSub: row.user_sub,
    staffRole: row.staff_role,
    customerId: row.customer_id === null ? null : Number(row.customer_id),
  };
}

/** Expired tickets, a bounded batch at a time (run as tickets are issued, so the table stays small). */
export async function deleteExpiredStreamTickets(db: Queryable, now: Date, batch = 100): Promise<void> {
  await db.raw(`DELETE FROM stream_tickets WHERE ctid IN (SELECT ctid FROM stream_tickets WHERE expires_at <= ? LIMIT ?)`, [now, batch]);
}
