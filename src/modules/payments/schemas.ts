import { z } from '../../http/zod.js';

/** The largest amount a refund may name: the `integer` columns money is kept in. */
export const MAX_AMOUNT_CENTS = 2_147_483_647;

export const payOrderBody = z
  .object({
    payment_token: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .openapi({ description: 'Stripe: a PaymentMethod id from Stripe.js. Test provider: tok_visa, tok_chargeDeclined, tok_3ds', example: 'tok_visa' }),
  })
  .strict()
  .openapi('PayOrder');

export const refundBody = z
  .object({
    amount_cents: z
      .number()
      .int('must be a whole number of cents')
      .positive('must be greater than 0')
      .max(MAX_AMOUNT_CENTS, 'is too large')
      .openapi({ description: 'At most what is still refundable on the payment', example: 500 }),
  })
  .strict()
  .openapi('CreateRefund');

export const paymentSchema = z
  .object({
    id: z.number().int().positive(),
    order_id: z.number().int().positive(),
    method: z.enum(['card', 'cash']),
    provider: z.string().openapi({ description: 'test, stripe or cash' }),
    status: z.enum(['pending', 'succeeded', 'failed']),
    amount_cents: z.number().int(),
    refunded_cents: z.number().int(),
    currency: z.string(),
    failure_code: z.string().nullable().openapi({ description: "Why it failed: the provider's decline code, or not_submitted" }),
    created_at: z.string().openapi({ format: 'date-time' }),
    client_secret: z
      .string()
      .optional()
      .openapi({ description: "Only to the order's customer, while the payment waits for them (3-D Secure): complete it with Stripe.js" }),
  })
  .openapi('Payment');

export const refundSchema = z
  .object({
    id: z.number().int().positive(),
    payment_id: z.number().int().positive(),
    amount_cents: z.number().int(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Refund');

export const webhookParams = z.object({
  provider: z.enum(['test', 'stripe']).openapi({ description: 'The configured payment provider' }),
});

export const webhookReceipt = z.object({ received: z.literal(true), outcome: z.enum(['settled', 'duplicate', 'ignored']) }).openapi('WebhookReceipt');

/** What a provider posts to its webhook; only documented here: the provider's own parser reads the raw body. */
export const webhookEventBody = z
  .object({
    id: z.string().openapi({ description: "The provider's event id; each is acted on once", example: 'evt_3ds_42' }),
    type: z.string().openapi({ example: 'payment_intent.succeeded' }),
    payment_intent: z.string().optional().openapi({ description: 'Test provider: the payment it is about' }),
    failure_code: z.string().optional().openapi({ description: 'Test provider: why a payment failed' }),
    amount_refunded_cents: z.number().int().optional().openapi({ description: 'Test provider: the total refunded so far' }),
  })
  .catchall(z.unknown())
  .openapi('PaymentProviderEvent', {
    description:
      'The test provider sends `{id, type, payment_intent, failure_code?, amount_refunded_cents?}`; Stripe sends its Event object (`id`, `type`, `data`, …).',
  });
