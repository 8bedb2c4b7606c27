import type { Knex } from 'knex';
import { z } from 'zod';

/** Version 1 of the events on the orders queue. Consumers ignore versions they do not know. */
export const orderEventSchema = z.object({
  version: z.literal(1),
  id: z.string().min(1),
  // payment.refund_requested: refunds written pending for the order (rejected or cancelled after payment) await the provider.
  type: z.enum(['order.confirmation_requested', 'payment.refund_requested']),
  restaurant_id: z.number().int().positive(),
  order_id: z.number().int().positive(),
  occurred_at: z.string(),
});
export type OrderEvent = z.infer<typeof orderEventSchema>;
export type OrderEventType = OrderEvent['type'];

/**
 * Writes the event in the caller's transaction: it is sent if and only if the change it announces
 * commits. The relay delivers it to SQS afterwards.
 */
export async function enqueueOrderEvent(trx: Knex.Transaction, event: { type: OrderEventType; restaurantId: number; orderId: number }): Promise<void> {
  await trx('outbox').insert({
    restaurant_id: event.restaurantId,
    type: event.type,
    payload: JSON.stringify({ order_id: event.orderId }),
  });
}

/**
 * Version 1 of `webhook.delivery_requested`: make attempt number `attempt` of a webhook delivery. The
 * attempt number lets the handler tell a duplicate of an attempt already made from the next one.
 */
export const webhookDeliveryRequestSchema = z.object({
  version: z.literal(1),
  id: z.string().min(1),
  type: z.literal('webhook.delivery_requested'),
  restaurant_id: z.number().int().positive(),
  delivery_id: z.number().int().positive(),
  attempt: z.number().int().positive(),
  occurred_at: z.string(),
});
export type WebhookDeliveryRequest = z.infer<typeof webhookDeliveryRequestSchema>;

/** Every message the orders queue carries; the worker dispatches on `type`. */
export const queueMessageSchema = z.union([orderEventSchema, webhookDeliveryRequestSchema]);
export type QueueMessage = z.infer<typeof queueMessageSchema>;

/**
 * Asks for one attempt of a webhook delivery, in the caller's transaction, no sooner than `notBefore`
 * (a retry's backoff: the relay leaves the row until then). Absent: as soon as the change commits.
 */
export async function enqueueWebhookDelivery(
  trx: Knex.Transaction,
  request: { restaurantId: number; deliveryId: number; attempt: number; notBefore?: Date | undefined },
): Promise<void> {
  await trx('outbox').insert({
    restaurant_id: request.restaurantId,
    type: 'webhook.delivery_requested',
    payload: JSON.stringify({ delivery_id: request.deliveryId, attempt: request.attempt }),
    ...(request.notBefore === undefined ? {} : { available_at: request.notBefore }),
  });
}

export interface OutboxRow {
  id: number;
  restaurant_id: number;
  type: string;
  payload: { order_id?: number; delivery_id?: number; attempt?: number };
  created_at: Date;
  attempts: number;
}

/** The queue message an outbox row stands for. */
export function toQueueMessage(row: OutboxRow): QueueMessage {
  const common = { version: 1 as const, id: String(row.id), restaurant_id: Number(row.restaurant_id), occurred_at: new Date(row.created_at).toISOString() };
  if (row.type === 'webhook.delivery_requested') {
    return { ...common, type: 'webhook.delivery_requested', delivery_id: Number(row.payload.delivery_id), attempt: Number(row.payload.attempt) };
  }
  return { ...common, type: row.type as OrderEventType, order_id: Number(row.payload.order_id) };
}
