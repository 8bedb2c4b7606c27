import { z } from '../../http/zod.js';
import { pageOf, pageQuery } from '../../http/pagination.js';
import { webhookEventTypes } from './events.js';

const eventType = z.enum(webhookEventTypes).openapi('WebhookEventType');

const webhookUrl = z
  .string()
  .trim()
  .min(1)
  .max(2048)
  .refine((value) => URL.canParse(value), 'must be an absolute URL')
  .transform((value, ctx) => {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: 'must be an https URL (http only outside production)' });
    if (url.username !== '' || url.password !== '') ctx.addIssue({ code: 'custom', message: 'must not carry a user name or password' });
    url.hash = '';
    return url.href;
  })
  .openapi({
    description: 'Where events are POSTed. In production: https, and the host must resolve only to public addresses',
    example: 'https://pos.example.com/tablekit/webhooks',
  });

const eventList = z
  .array(eventType)
  .min(1)
  .max(webhookEventTypes.length)
  .superRefine((events, ctx) => {
    events.forEach((event, index) => {
      if (events.indexOf(event) !== index) ctx.addIssue({ code: 'custom', path: [index], message: `${event} is listed twice` });
    });
  })
  .openapi({ description: 'The events to receive: at least one, each once' });

export const createEndpointBody = z.object({ url: webhookUrl, events: eventList }).strict().openapi('CreateWebhookEndpoint');

export const updateEndpointBody = z
  .object({
    url: webhookUrl.optional(),
    events: eventList.optional(),
    enabled: z.boolean().optional().openapi({ description: 'false stops deliveries; true (again) also forgets past failures' }),
  })
  .strict()
  .openapi('UpdateWebhookEndpoint');

export const endpointSchema = z
  .object({
    id: z.number().int().positive(),
    url: z.string(),
    events: z.array(eventType),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().openapi({ description: 'Why it was switched off automatically (3 days of failed deliveries), else null' }),
    created_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('WebhookEndpoint');

export const createdEndpointSchema = endpointSchema
  .extend({
    secret: z.string().min(32).openapi({ description: 'Signs every delivery (Tablekit-Signature). Shown this once: store it now' }),
  })
  .openapi('CreatedWebhookEndpoint');

export const endpointPageSchema = pageOf(endpointSchema).openapi('WebhookEndpointPage');

export const listEndpointsQuery = z.object({ ...pageQuery });

export const deliverySchema = z
  .object({
    id: z.number().int().positive(),
    event_id: z.number().int().positive().openapi({ description: 'The body’s `id` and the Tablekit-Event-Id header, the same on every attempt' }),
    event: eventType,
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int().min(0),
    last_status_code: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'The HTTP status of the last attempt; null when it got none (timeout, connection refused)' }),
    last_error: z.string().nullable().openapi({ description: 'Why the last attempt failed, else null' }),
    last_attempt_at: z.string().nullable().openapi({ format: 'date-time' }),
    next_attempt_at: z.string().nullable().openapi({ format: 'date-time', description: 'When the next attempt is due; null once succeeded or failed' }),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('WebhookDelivery');

export const listDeliveriesQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'How many, 1-100' }),
    before: z.coerce
      .number()
      .int()
      .positive()
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .openapi({ description: 'Only deliveries older than this delivery id (to page back)' }),
  })
  .strict();

/** What a receiver gets: the body of every POST. */
export const webhookEventBodySchema = z
  .object({
    id: z.number().int().positive().openapi({ description: 'The event id: deduplicate on it (also in Tablekit-Event-Id)' }),
    type: eventType,
    created_at: z.string().openapi({ format: 'date-time' }),
    data: z.record(z.string(), z.unknown()).openapi({
      description:
        'order.*: {order} as GET /v1/orders/{id} shows it, with latest_event; ingredient.*: {ingredient} as staff see it; restaurant.*: {restaurant, ...}',
    }),
  })
  .openapi('WebhookEvent', {
    description:
      'POSTed as application/json with Tablekit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under the endpoint secret> and Tablekit-Event-Id. ' +
      'Answer 2xx within 10 s; anything else is retried with backoff (8 attempts over about 23 h).',
  });
