import { z } from '../../http/zod.js';
import { orderEventSchema, orderSchema } from '../orders/schemas.js';

export const streamTicketSchema = z
  .object({
    ticket: z.string().openapi({ description: 'Single use: open GET /v1/orders/stream?ticket=... with it once' }),
    expires_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('StreamTicket');

/** The `data:` of each stream event. */
export const orderStreamEventSchema = orderSchema
  .extend({
    latest_event: orderEventSchema.openapi({ description: 'The status change this event announces' }),
  })
  .openapi('OrderStreamEvent', {
    description:
      'The data of an `order.placed` (its first, pending, status) or `order.updated` event: the order as GET /v1/orders/{id} shows it when sent, with the status change the event is about.',
  });

/** An `order_events` id as a string (a header or query value). */
export const eventId = z.string().regex(/^[0-9]{1,16}$/, 'must be an event id');

export const orderStreamQuery = z
  .object({
    ticket: z.string().min(1).max(200).optional().openapi({ description: 'From POST /v1/stream-tickets, for clients that cannot send headers (EventSource)' }),
    last_event_id: eventId.optional().openapi({ description: 'Replay what happened after this event (the Last-Event-ID header wins when both are sent)' }),
  })
  .strict();

export const orderStreamHeaders = z.object({
  'last-event-id': eventId.optional().openapi({ description: 'Sent by EventSource when it reconnects: replay what happened after it (up to 24 h back)' }),
  'x-restaurant-domain': z.string().optional().openapi({ description: 'The restaurant (else taken from Host; with a ticket, the ticket’s restaurant)' }),
});
