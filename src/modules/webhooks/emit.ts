import type { Knex } from 'knex';
import { enqueueWebhookDelivery } from '../../queue/outbox.js';
import { staffIngredient, type StockThresholdCrossed } from '../catalog/index.js';
import type { OrderPaymentStatusChanged } from '../orders/hooks.js';
import { getOrder, getOrderEvents, type OrderView, type OrderViewer } from '../orders/service.js';
import type { WebhookData, WebhookEventType } from './events.js';
import * as repo from './repo.js';

/**
 * Where events become deliveries. Every function here runs in the transaction of the change it
 * announces: the event, one delivery per endpoint subscribed to it, and each delivery's first attempt
 * (an outbox row) commit with the change or not at all. The relay and the worker do the sending.
 */

/** How webhooks read orders: as staff do, the whole restaurant's. */
export const WEBHOOK_ORDER_VIEWER: OrderViewer = { kind: 'staff', sub: 'tablekit-webhooks' };

/** The status change an order event is about, as the live stream shows it too. */
export interface LatestOrderEvent {
  status: string;
  at: string;
  actor: string;
  reason: string | null;
}

/** `data` of every `order.*` event: the order as GET /v1/orders/{id} shows it, with the status change it is at. */
export const orderEventData = (order: OrderView, latestEvent: LatestOrderEvent): WebhookData => ({ order: { ...order, latest_event: latestEvent } });

/**
 * Writes the event and its deliveries, if any enabled endpoint of the restaurant subscribes to it
 * (otherwise nothing is written). Returns the event's id, or undefined when nobody subscribes or the
 * order event it comes from was already turned into one.
 */
export async function emitWebhookEvent(
  trx: Knex.Transaction,
  restaurantId: number,
  type: WebhookEventType,
  data: WebhookData,
  options: { orderEventId?: number | undefined } = {},
): Promise<number | undefined> {
  const endpointIds = await repo.selectSubscribedEndpointIds(trx, restaurantId, [type]);
  if (endpointIds.length === 0) return undefined;
  const event = await repo.insertEvent(trx, restaurantId, { type, data, orderEventId: options.orderEventId });
  if (event === undefined) return undefined;
  for (const deliveryId of await repo.insertDeliveries(trx, restaurantId, event.id, endpointIds)) {
    await enqueueWebhookDelivery(trx, { restaurantId, deliveryId, attempt: 1 });
  }
  return event.id;
}

/**
 * `restaurant.paused` / `restaurant.resumed`, for the schedule module to call in the transaction that
 * pauses or resumes taking orders. `data` is sent as given, e.g. `{restaurant: {...}, paused_until, reason}`.
 */
export async function emitRestaurantEvent(
  trx: Knex.Transaction,
  restaurantId: number,
  type: 'restaurant.paused' | 'restaurant.resumed',
  data: WebhookData,
): Promise<number | undefined> {
  return emitWebhookEvent(trx, restaurantId, type, data);
}

/** The catalog's low-stock listener (set at composition): `ingredient.low_stock` / `ingredient.out_of_stock` with `{ingredient}` as staff see it. */
export async function emitIngredientWebhooks(trx: Knex.Transaction, event: StockThresholdCrossed): Promise<void> {
  const data = { ingredient: staffIngredient(event.ingredient) };
  for (const crossing of event.crossings) {
    await emitWebhookEvent(trx, event.restaurantId, crossing === 'low_stock' ? 'ingredient.low_stock' : 'ingredient.out_of_stock', data);
  }
}

/** The orders module's payment-status listener (set at composition): `order.paid`, and `order.refunded` for a full or partial refund. */
export async function emitOrderPaymentWebhooks(trx: Knex.Transaction, change: OrderPaymentStatusChanged): Promise<void> {
  const type: WebhookEventType | undefined =
    change.to === 'paid' ? 'order.paid' : change.to === 'refunded' || change.to === 'partially_refunded' ? 'order.refunded' : undefined;
  if (type === undefined) return;
  if ((await repo.selectSubscribedEndpointIds(trx, change.restaurantId, [type])).length === 0) return;
  const order = await getOrder(trx, change.restaurantId, WEBHOOK_ORDER_VIEWER, change.orderId);
  const latest = (await getOrderEvents(trx, change.restaurantId, WEBHOOK_ORDER_VIEWER, change.orderId)).at(-1);
  // Placing an order writes its first event in the same transaction: an order never has none.
  if (latest === undefined) throw new Error(`order ${change.orderId} has no status events`);
  await emitWebhookEvent(trx, change.restaurantId, type, orderEventData(order, latest));
}
