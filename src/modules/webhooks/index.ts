/**
 * What the rest of the service uses of outgoing webhooks. Nothing below the composition (app.ts,
 * service.ts) imports this module except to emit an event in its own transaction: catalog and orders
 * announce through hooks that the composition points here.
 */
export { emitRestaurantEvent, emitIngredientWebhooks, emitOrderPaymentWebhooks, emitWebhookEvent } from './emit.js';
export { attemptWebhookDelivery, type WebhookDeliveryDeps } from './delivery.js';
export { OrderEventWebhooks } from './order-events.js';
export { verifySignature, signatureHeader } from './signature.js';
export { webhookEventTypes, type WebhookEventType, type WebhookData } from './events.js';
