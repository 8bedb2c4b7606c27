import { z } from '../../http/zod.js';
import { AppError } from '../../http/errors.js';
import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';
import { idempotencyKeyOf } from '../../http/idempotency.js';
import type { UserDirectory } from '../../lib/identity.js';
import { customerForPrincipal } from '../customers/service.js';
import { idParams } from '../../http/params.js';
import { createHitLimiter } from '../../http/hit-limiter.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { PaymentProvider } from './providers/types.js';
import { payOrderBody, paymentSchema, refundBody, refundSchema, webhookEventBody, webhookParams, webhookReceipt } from './schemas.js';
import { listOrderPayments, MAX_FAILED_ATTEMPTS_PER_ORDER, payCardOrder, recordCashPayment, refundPayment, type PaymentDeps } from './service.js';
import { receiveWebhook } from './webhooks.js';

const tags = ['payments'];

export function registerPaymentRoutes(
  api: ApiRouter,
  directory: UserDirectory,
  provider: PaymentProvider,
  nudgeOutbox: () => void,
  /** `attemptsPerMinute`: card payment attempts one customer may make per minute in a restaurant, against card testing (API.md "Limits on one customer"). */
  options: { clock: Clock; attemptsPerMinute: number } = { clock: systemClock, attemptsPerMinute: 10 },
): void {
  const deps: PaymentDeps = { db: api.deps.db, provider, logger: api.deps.logger };
  const attemptLimiter = createHitLimiter(api.deps.db, {
    prefix: 'payments-customer',
    limit: options.attemptsPerMinute,
    windowMs: 60_000,
    now: options.clock,
    what: 'payment attempts',
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/orders/{id}/payments',
    summary: "Pay a card order's outstanding total through the configured provider (the order's customer)",
    description:
      'Charges what is still unpaid. 201 `succeeded`: the order is paid and goes to the kitchen; 201 `pending` with `client_secret`: finish 3-D Secure in the frontend and the webhook settles it; 202: the provider has not answered yet.',
    tags,
    access: access.signedIn,
    idempotent: true,
    params: idParams,
    body: payOrderBody,
    responses: {
      201: {
        description: 'Succeeded (the order is paid and goes to the kitchen for confirmation), or pending with client_secret for 3-D Secure',
        schema: paymentSchema,
      },
      202: { description: "Pending: the provider's answer is not known yet; the payment is settled by webhook or reconciliation", schema: paymentSchema },
    },
    errors: {
      validation_failed: 'The body is not valid, or the provider does not accept the payment_token',
      payment_declined: "`errors[0].message` is the provider's decline code; the order stays unpaid",
      conflict: 'A cash order, an order already paid or closed, or one with a payment still being settled',
      service_unavailable: 'The provider refused for a reason that is not the card, or the database is briefly unavailable; nothing was charged',
      rate_limited: `The order already has ${MAX_FAILED_ATTEMPTS_PER_ORDER} failed attempts (no Retry-After: it cannot be paid by card any more), or the customer made more attempts in a minute than allowed (10; Retry-After)`,
    },
    handler: async ({ tenant, principal, params, body, req, log }) => {
      // Read (or created) before any transaction: it may ask the user pool.
      const customer = await customerForPrincipal(api.deps.db, directory, tenant.id, principal);
      await attemptLimiter.hit(`${tenant.id}:${customer.id}`);
      const request = {
        restaurantId: tenant.id,
        orderId: params.id,
        customerId: customer.id,
        paymentToken: body.payment_token,
        requestKey: idempotencyKeyOf(req.get('idempotency-key')),
      };
      const outcome = await payCardOrder({ ...deps, logger: log }, request);
      nudgeOutbox();
      switch (outcome.kind) {
        case 'succeeded':
        case 'requires_action':
          return { status: 201, body: outcome.payment };
        case 'unknown':
          return { status: 202, body: outcome.payment };
        case 'invalid_token':
          throw new AppError('validation_failed', 400, 'The payment token cannot be charged; nothing was charged', [
            { path: 'payment_token', message: outcome.message },
          ]);
        case 'declined':
          throw new AppError('payment_declined', 402, `The card was declined (${outcome.code}); the order is still unpaid`, [
            { path: 'payment_token', message: outcome.code },
          ]);
      }
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/orders/{id}/payments/cash',
    summary: 'Record cash received for the outstanding total (staff)',
    description: 'Marks the order paid, for a cash order or a card order settled at the counter.',
    tags,
    access: access.staff,
    params: idParams,
    responses: { 201: { description: 'The cash payment; the order is paid', schema: paymentSchema } },
    errors: { conflict: 'The order is already paid, rejected or cancelled, or a card payment is being settled' },
    handler: async ({ tenant, params }) => {
      const payment = await recordCashPayment(api.deps.db, tenant.id, params.id);
      nudgeOutbox();
      return { status: 201, body: payment };
    },
  });

  defineRoute(api, {
    method: 'get',
    path: '/v1/orders/{id}/payments',
    summary: "The order's payments, oldest first (its customer, or staff)",
    description: 'Every attempt, failed ones included, with what was refunded of each.',
    tags,
    access: access.signedIn,
    params: idParams,
    responses: { 200: { description: 'Every payment attempt on the order', schema: z.array(paymentSchema) } },
    handler: async ({ tenant, principal, staffRole, params, res }) => {
      res.setHeader('Cache-Control', 'private, no-store');
      const viewer =
        staffRole !== undefined
          ? ({ kind: 'staff', sub: principal.sub } as const)
          : ({ kind: 'customer', sub: principal.sub, customerId: (await customerForPrincipal(api.deps.db, directory, tenant.id, principal)).id } as const);
      return { status: 200, body: await listOrderPayments(api.deps.db, tenant.id, viewer, params.id) };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/payments/{id}/refunds',
    summary: 'Refund part or all of a payment (manager); never more than is left, however many run at once',
    description:
      "Card refunds go through the provider that took the payment; cash refunds succeed at once. The order's `payment_status` becomes `partially_refunded` or `refunded`.",
    tags,
    access: access.manager,
    idempotent: true,
    params: idParams,
    body: refundBody,
    responses: {
      201: { description: "The refund as the provider answered it (cash: succeeded at once); the order's payment_status follows", schema: refundSchema },
      202: { description: "Pending: the provider's answer is not known yet; the refund is settled by reconciliation", schema: refundSchema },
    },
    errors: { conflict: 'More than the refundable remainder, a payment that did not succeed, or one taken through another provider' },
    handler: async ({ tenant, principal, params, body, req, log }) => {
      const request = {
        restaurantId: tenant.id,
        paymentId: params.id,
        amountCents: body.amount_cents,
        userSub: principal.sub,
        requestKey: idempotencyKeyOf(req.get('idempotency-key')),
      };
      const outcome = await refundPayment({ ...deps, logger: log }, request);
      return { status: outcome.kind === 'settled' ? 201 : 202, body: outcome.refund };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/payments/webhooks/{provider}',
    summary: "The payment provider's callbacks: signature checked on the raw body, each event acted on once",
    description:
      'For the provider, not for clients. The body is verified against the signature header exactly as received; an event already handled answers 200 `duplicate` and changes nothing.',
    tags,
    tenant: false,
    access: access.public,
    params: webhookParams,
    headers: z.object({
      'stripe-signature': z.string().optional().openapi({ description: 'Stripe: its signature header (300 s tolerance)' }),
      'tablekit-signature': z
        .string()
        .optional()
        .openapi({ description: 'Test provider: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body"> (300 s tolerance)' }),
    }),
    rawBody: { description: "The provider's event, exactly as it sent it (the signature covers these bytes)", schema: webhookEventBody },
    responses: { 200: { description: 'Received (settled, a duplicate, or not about our payments)', schema: webhookReceipt } },
    errors: {
      validation_failed: 'A missing, wrong or stale signature, or not an event; nothing changed',
      not_found: 'Not the configured provider',
      service_unavailable: 'The database is briefly unavailable: the provider retries',
    },
    handler: async ({ params, req, log }) => {
      if (params.provider !== provider.name) throw new AppError('not_found', 404, `Payments are not taken through ${params.provider} here`);
      const outcome = await receiveWebhook({ ...deps, logger: log }, req.rawBody, req.headers);
      if (outcome === 'settled') nudgeOutbox();
      return { status: 200, body: { received: true, outcome } };
    },
  });
}
