import type { IncomingHttpHeaders } from 'node:http';
import Stripe from 'stripe';
import {
  PAYMENT_KEY_METADATA,
  ProviderUnavailableError,
  REFUND_KEY_METADATA,
  WebhookVerificationError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentProvider,
  type ProviderEvent,
  type RefundRequest,
  type RefundResult,
  type RetrievedCharge,
} from './types.js';

/** Stripe's own default; a signature outside it is refused (a replayed capture). */
export const STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300;

export interface StripeProviderOptions {
  secretKey: string;
  webhookSecret: string;
  /** Tests point the SDK at a local server standing in for api.stripe.com. */
  api?: { host: string; port: number; protocol: 'http' | 'https' };
  /**
   * Per request. Together with the retries it stays well under the reconciler's threshold, so the
   * reconciler never looks at a charge whose request may still be on its way.
   */
  timeoutMs?: number;
  maxNetworkRetries?: number;
}

/**
 * Stripe: `payment_token` is a PaymentMethod id from Stripe.js. A charge creates and confirms a
 * PaymentIntent for the amount, with our key as Stripe's idempotency key and in the metadata (so the
 * reconciler can find it even if we never learned its id).
 */
export class StripePaymentProvider implements PaymentProvider {
  readonly name = 'stripe' as const;
  private readonly stripe: Stripe;

  constructor(private readonly options: StripeProviderOptions) {
    this.stripe = new Stripe(options.secretKey, {
      maxNetworkRetries: options.maxNetworkRetries ?? 2,
      timeout: options.timeoutMs ?? 20_000,
      telemetry: false,
      ...(options.api === undefined ? {} : { host: options.api.host, port: options.api.port, protocol: options.api.protocol }),
    });
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    try {
      const intent = await this.stripe.paymentIntents.create(
        {
          amount: request.amountCents,
          currency: request.currency.toLowerCase(),
          payment_method: request.paymentToken,
          confirm: true,
          // A card PaymentMethod from Stripe.js; no redirect-based methods, so no return_url is needed.
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          // The frontend finishes any 3-D Secure challenge with stripe.handleNextAction(client_secret).
          use_stripe_sdk: true,
          metadata: { ...request.metadata, [PAYMENT_KEY_METADATA]: request.idempotencyKey },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      const retrieved = retrievedOf(intent);
      switch (retrieved.status) {
        case 'failed':
          return { status: 'declined', providerPaymentId: retrieved.providerPaymentId, declineCode: retrieved.failureCode };
        case 'not_found':
          throw new ProviderUnavailableError('Stripe answered without a PaymentIntent');
        default:
          return retrieved;
      }
    } catch (error) {
      if (error instanceof Stripe.errors.StripeCardError) {
        return { status: 'declined', providerPaymentId: error.payment_intent?.id ?? null, declineCode: error.decline_code ?? error.code ?? 'card_declined' };
      }
      if (error instanceof Stripe.errors.StripeInvalidRequestError && !(error instanceof Stripe.errors.StripeIdempotencyError)) {
        if (error.param === 'payment_method' || error.code?.startsWith('payment_method') === true) {
          return { status: 'invalid_token', message: 'not a PaymentMethod this account can charge' };
        }
        return { status: 'refused', code: error.code ?? 'invalid_request' };
      }
      if (error instanceof Stripe.errors.StripeAuthenticationError || error instanceof Stripe.errors.StripePermissionError) {
        return { status: 'refused', code: error.code ?? error.type };
      }
      throw unavailable(error);
    }
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    try {
      const refund = await this.stripe.refunds.create(
        {
          payment_intent: request.providerPaymentId,
          amount: request.amountCents,
          metadata: { ...request.metadata, [REFUND_KEY_METADATA]: request.idempotencyKey },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      return refundResultOf(refund);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && !(error instanceof Stripe.errors.StripeIdempotencyError)) {
        // e.g. charge_already_refunded: a definite no, and nothing moved.
        return { status: 'failed', providerRefundId: null, failureCode: error.code ?? 'invalid_request' };
      }
      throw unavailable(error);
    }
  }

  async retrieve(request: { providerPaymentId: string | null; idempotencyKey: string }): Promise<RetrievedCharge> {
    try {
      if (request.providerPaymentId !== null) return retrievedOf(await this.stripe.paymentIntents.retrieve(request.providerPaymentId));
      // We never learned the id (the answer was lost): find it by the key we put in its metadata.
      // Search lags writes by up to a minute; the reconciler only looks at charges older than that.
      const found = await this.stripe.paymentIntents.search({ query: `metadata['${PAYMENT_KEY_METADATA}']:'${request.idempotencyKey}'`, limit: 1 });
      const intent = found.data[0];
      return intent === undefined ? { status: 'not_found' } : retrievedOf(intent);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'resource_missing') return { status: 'not_found' };
      throw unavailable(error);
    }
  }

  async cancel(providerPaymentId: string): Promise<RetrievedCharge> {
    try {
      return retrievedOf(await this.stripe.paymentIntents.cancel(providerPaymentId, { cancellation_reason: 'abandoned' }));
    } catch (error) {
      // Not cancellable any more (it succeeded meanwhile, say): say where it stands instead.
      if (error instanceof Stripe.errors.StripeInvalidRequestError) return this.retrieve({ providerPaymentId, idempotencyKey: '' });
      throw unavailable(error);
    }
  }

  async retrieveRefund(request: { providerPaymentId: string; idempotencyKey: string }): Promise<RefundResult | { status: 'not_found' }> {
    try {
      for await (const refund of this.stripe.refunds.list({ payment_intent: request.providerPaymentId, limit: 100 })) {
        if (refund.metadata?.[REFUND_KEY_METADATA] === request.idempotencyKey) return refundResultOf(refund);
      }
      return { status: 'not_found' };
    } catch (error) {
      throw unavailable(error);
    }
  }

  parseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): ProviderEvent {
    const signature = headers['stripe-signature'];
    if (typeof signature !== 'string') throw new WebhookVerificationError('no Stripe-Signature header');
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(rawBody, signature, this.options.webhookSecret, STRIPE_WEBHOOK_TOLERANCE_SECONDS);
    } catch (error) {
      throw new WebhookVerificationError(error instanceof Error ? error.message : 'signature verification failed');
    }
    const base = { id: event.id, type: event.type };
    switch (event.type) {
      case 'payment_intent.succeeded': {
        const intent = event.data.object;
        return { ...base, kind: 'payment.succeeded', providerPaymentId: intent.id, paymentKey: intent.metadata?.[PAYMENT_KEY_METADATA] };
      }
      case 'payment_intent.payment_failed': {
        const intent = event.data.object;
        return {
          ...base,
          kind: 'payment.failed',
          providerPaymentId: intent.id,
          paymentKey: intent.metadata?.[PAYMENT_KEY_METADATA],
          failureCode: failureCodeOf(intent.last_payment_error),
        };
      }
      case 'charge.refunded': {
        const charge = event.data.object;
        const intentId = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
        if (intentId === undefined) return { ...base, kind: 'ignored' };
        return {
          ...base,
          kind: 'charge.refunded',
          providerPaymentId: intentId,
          amountRefundedCents: charge.amount_refunded,
          // Listed only on older API versions or when expanded; the total above is always there.
          refunds: (charge.refunds?.data ?? []).map((refund) => {
            const result = refundResultOf(refund);
            return { providerRefundId: refund.id, refundKey: refund.metadata?.[REFUND_KEY_METADATA], amountCents: refund.amount, status: result.status };
          }),
        };
      }
      default:
        return { ...base, kind: 'ignored' };
    }
  }
}

function failureCodeOf(error: { decline_code?: string; code?: string } | null | undefined): string {
  return error?.decline_code ?? error?.code ?? 'payment_failed';
}

function retrievedOf(intent: Stripe.PaymentIntent): RetrievedCharge {
  switch (intent.status) {
    case 'succeeded':
      return { status: 'succeeded', providerPaymentId: intent.id };
    case 'requires_action':
      if (intent.client_secret === null) return { status: 'processing', providerPaymentId: intent.id };
      return { status: 'requires_action', providerPaymentId: intent.id, clientSecret: intent.client_secret };
    case 'requires_payment_method':
      // After a decline a PaymentIntent waits for another method; for us that attempt failed.
      return { status: 'failed', providerPaymentId: intent.id, failureCode: failureCodeOf(intent.last_payment_error) };
    case 'canceled':
      return { status: 'failed', providerPaymentId: intent.id, failureCode: 'canceled' };
    default:
      // processing, requires_capture, requires_confirmation: not settled yet.
      return { status: 'processing', providerPaymentId: intent.id };
  }
}

function refundResultOf(refund: Stripe.Refund): RefundResult {
  switch (refund.status) {
    case 'succeeded':
      return { status: 'succeeded', providerRefundId: refund.id };
    case 'failed':
    case 'canceled':
      return { status: 'failed', providerRefundId: refund.id, failureCode: refund.failure_reason ?? refund.status };
    default:
      return { status: 'pending', providerRefundId: refund.id };
  }
}

/**
 * Anything but a definite answer from Stripe (network, timeout, 5xx, 429, a concurrent use of the key).
 * Only the error's kind, status, code and request id are kept: a Stripe error's raw body can carry
 * objects (a PaymentIntent and its client_secret) that have no place in a log.
 */
function unavailable(error: unknown): ProviderUnavailableError {
  if (!(error instanceof Stripe.errors.StripeError))
    return new ProviderUnavailableError(`Stripe did not give a definite answer (${error instanceof Error ? error.name : 'error'})`);
  const details = [error.type, error.statusCode, error.code, error.requestId].filter((part) => part !== undefined && part !== null).join(' ');
  return new ProviderUnavailableError(`Stripe did not give a definite answer (${details})`);
}
