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

export interface OutboxRow {
  id: number;
  restaurant_id: number;
  type: string;
  payload: { order_id: number };
  created_at: Date;
  attempts: number;
}

export function toOrderEvent(row: OutboxRow): OrderEvent {
  return {
    version: 1,
    id: String(row.id),
    type: row.type as OrderEventType,
    restaurant_id: Number(row.restaurant_id),
    order_id: Number(row.payload.order_id),
    occurred_at: new Date(row.created_at).toISOString(),
  };
}
