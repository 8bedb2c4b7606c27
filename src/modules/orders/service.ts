import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { withTransaction } from '../../db/transaction.js';
import { notFound } from '../../lib/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
import type { ConfirmationOutcome } from '../../queue/worker.js';
import { moveOrderAlone, moveOrderOrThrow } from './lifecycle.js';
import { orderExists, selectOrderEvents, selectOrders, type OrderView } from './repo.js';

export type { OrderView } from './repo.js';
import type { OrderActor, OrderStatus } from './state-machine.js';

/** Whose orders the caller may see: staff see the restaurant's, a customer only their own. */
export type OrderViewer = { kind: 'staff'; sub: string } | { kind: 'customer'; sub: string; customerId: number };

const ownerFilter = (viewer: OrderViewer) => (viewer.kind === 'customer' ? viewer.customerId : undefined);

export async function listOrders(
  db: Queryable,
  restaurantId: number,
  viewer: OrderViewer,
  options: {
    limit: number;
    cursor?: string | undefined;
    statuses?: OrderStatus[] | undefined;
    dueFrom?: Date | undefined;
    dueTo?: Date | undefined;
    /** Staff: one customer's orders. A customer naming anyone but themselves sees none. */
    customerId?: number | undefined;
  },
): Promise<Page<OrderView>> {
  const owner = ownerFilter(viewer);
  if (owner !== undefined && options.customerId !== undefined && options.customerId !== owner) return { data: [], next_cursor: null };
  const [beforeId] = decodeCursor(options.cursor, ['number']) ?? [];
  const rows = await selectOrders(db, restaurantId, {
    customerId: owner ?? options.customerId,
    statuses: options.statuses,
    dueFrom: options.dueFrom,
    dueTo: options.dueTo,
    beforeId: beforeId as number | undefined,
    limit: options.limit + 1,
  });
  return pageFrom(
    rows,
    options.limit,
    (order) => [order.id],
    (order) => order,
  );
}

/** The order if the viewer may see it; another customer's order is "not found", not "forbidden". */
export async function getOrder(db: Queryable, restaurantId: number, viewer: OrderViewer, id: number): Promise<OrderView> {
  const [order] = await selectOrders(db, restaurantId, { ids: [id], customerId: ownerFilter(viewer) });
  if (order === undefined) throw notFound('The order');
  return order;
}

/** Several orders at once, those among `ids` the viewer may see (the live stream sends them in batches). */
export async function getOrders(db: Queryable, restaurantId: number, viewer: OrderViewer, ids: readonly number[]): Promise<OrderView[]> {
  if (ids.length === 0) return [];
  return selectOrders(db, restaurantId, { ids, customerId: ownerFilter(viewer) });
}

export async function getOrderEvents(db: Queryable, restaurantId: number, viewer: OrderViewer, id: number) {
  await getOrder(db, restaurantId, viewer, id);
  return selectOrderEvents(db, restaurantId, id);
}

/**
 * Moves the order as the viewer (a customer may only cancel their own pending order; staff move any
 * order the state machine allows) and answers with the order as it now stands.
 */
export async function moveOrderAs(
  knex: Knex,
  restaurantId: number,
  viewer: OrderViewer,
  id: number,
  to: OrderStatus,
  reason: string | undefined,
): Promise<OrderView> {
  const actor: OrderActor = viewer.kind;
  return withTransaction(knex, async (trx) => {
    await moveOrderOrThrow(trx, {
      restaurantId,
      orderId: id,
      to,
      actor,
      actorSub: viewer.sub,
      reason: reason === '' ? undefined : reason,
      customerId: ownerFilter(viewer),
    });
    return getOrder(trx, restaurantId, viewer, id);
  });
}

/**
 * The queue worker's `order.confirmation_requested`: pending → confirmed by the system, only if the
 * order is still pending, so a redelivered message is a no-op ('duplicate').
 */
export async function confirmOrderBySystem(knex: Knex, restaurantId: number, orderId: number): Promise<ConfirmationOutcome> {
  const moved = await moveOrderAlone(knex, { restaurantId, orderId, to: 'confirmed', actor: 'system' });
  if (moved !== undefined) return { kind: 'confirmed', placedAt: moved.placedAt };
  return (await orderExists(knex, restaurantId, orderId)) ? { kind: 'duplicate' } : { kind: 'stale' };
}
