/** The events an endpoint may subscribe to (API.md "Live orders", webhooks). */
export const webhookEventTypes = [
  'order.placed',
  'order.updated',
  'order.paid',
  'order.refunded',
  'ingredient.low_stock',
  'ingredient.out_of_stock',
  'restaurant.paused',
  'restaurant.resumed',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** An event's `data`: a JSON object (`{order}`, `{ingredient}`, or what a restaurant event carries). */
export type WebhookData = { readonly [key: string]: unknown };
