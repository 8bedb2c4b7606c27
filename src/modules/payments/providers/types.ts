import type { IncomingHttpHeaders } from 'node:http';

/**
 * What the service needs from a card payment provider. Every call that moves money takes an
 * idempotency key that is passed on to the provider, so a retry (ours, the SDK's, or the
 * reconciler's) returns the first answer instead of moving the money again.
 *
 * A method that cannot tell whether the provider acted (network failure, timeout, the provider's 5xx)
 * throws `ProviderUnavailableError`: the payment or refund then stays `pending` and is reconciled later.
 */
export interface PaymentProvider {
  /** Stored in `payments.provider` and named in the webhook path (`/v1/payments/webhooks/{name}`). */
  readonly name: 'test' | 'stripe';
  charge(request: ChargeRequest): Promise<ChargeResult>;
  refund(request: RefundRequest): Promise<RefundResult>;
  /** Where a charge stands at the provider, found by its id or, when we never learned it, by our key. */
  retrieve(request: { providerPaymentId: string | null; idempotencyKey: string }): Promise<RetrievedCharge>;
  /** Gives up a charge still waiting for the customer (abandoned 3-D Secure); answers where it ended. */
  cancel(providerPaymentId: string): Promise<RetrievedCharge>;
  /** Where a refund we asked for stands, found by our key; `not_found` if the provider never got it. */
  retrieveRefund(request: { providerPaymentId: string; idempotencyKey: string }): Promise<RefundResult | { status: 'not_found' }>;
  /** Verifies the signature over the raw body and returns the event; throws `WebhookVerificationError`. */
  parseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): ProviderEvent;
}

export interface ChargeRequest {
  amountCents: number;
  /** ISO 4217, upper case as we store it. */
  currency: string;
  paymentToken: string;
  idempotencyKey: string;
  /** Shown with the charge at the provider (restaurant, order and payment ids). */
  metadata: Record<string, string>;
}

export type ChargeResult =
  | { status: 'succeeded'; providerPaymentId: string }
  /** 3-D Secure: the customer must act in the frontend with the client secret; a webhook settles it. */
  | { status: 'requires_action'; providerPaymentId: string; clientSecret: string }
  /** Accepted, outcome later (a webhook or the reconciler settles it). */
  | { status: 'processing'; providerPaymentId: string }
  | { status: 'declined'; providerPaymentId: string | null; declineCode: string }
  /** The token is not one the provider can charge (unknown, malformed): the client's mistake. */
  | { status: 'invalid_token'; message: string }
  /** The provider refused for a reason that is not the card's (configuration, amount limits). Nothing was charged. */
  | { status: 'refused'; code: string };

export type RetrievedCharge =
  | { status: 'succeeded'; providerPaymentId: string }
  | { status: 'requires_action'; providerPaymentId: string; clientSecret: string }
  | { status: 'processing'; providerPaymentId: string }
  | { status: 'failed'; providerPaymentId: string | null; failureCode: string }
  /** The provider has no charge under this key: the request never reached it. */
  | { status: 'not_found' };

export interface RefundRequest {
  providerPaymentId: string;
  amountCents: number;
  idempotencyKey: string;
  metadata: Record<string, string>;
}

export type RefundResult =
  | { status: 'succeeded'; providerRefundId: string }
  | { status: 'pending'; providerRefundId: string }
  | { status: 'failed'; providerRefundId: string | null; failureCode: string };

/** A verified provider event, in the terms the service acts on. */
export type ProviderEvent = { id: string; type: string } & (
  | { kind: 'payment.succeeded'; providerPaymentId: string; paymentKey: string | undefined }
  | { kind: 'payment.failed'; providerPaymentId: string; paymentKey: string | undefined; failureCode: string }
  | {
      kind: 'charge.refunded';
      providerPaymentId: string;
      /** The total the provider has refunded on this charge so far. */
      amountRefundedCents: number;
      refunds: Array<{ providerRefundId: string; refundKey: string | undefined; amountCents: number; status: 'succeeded' | 'pending' | 'failed' }>;
    }
  | { kind: 'ignored' }
);

/** The provider could not be reached or did not say what happened: the outcome is unknown. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

/** A webhook whose signature is missing, wrong or stale, or whose body is not an event. */
export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
}

/** Metadata keys we put on provider objects, so the reconciler can find them by our key. */
export const PAYMENT_KEY_METADATA = 'tablekit_payment_key';
export const REFUND_KEY_METADATA = 'tablekit_refund_key';
