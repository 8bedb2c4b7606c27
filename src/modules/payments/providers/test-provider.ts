import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import {
  WebhookVerificationError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentProvider,
  type ProviderEvent,
  type RefundRequest,
  type RefundResult,
  type RetrievedCharge,
} from './types.js';

/** The header the test provider's webhooks are signed in: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export const TEST_SIGNATURE_HEADER = 'tablekit-signature';
/** Like Stripe's: a signature older (or newer) than this is refused, so a captured request cannot be replayed later. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The tokens the test provider knows (API.md "Payments"); anything else is `400 validation_failed`. */
export const TEST_TOKENS = {
  succeeds: 'tok_visa',
  declines: 'tok_chargeDeclined',
  declinesInsufficientFunds: 'tok_chargeDeclinedInsufficientFunds',
  needsAction: 'tok_3ds',
} as const;

interface TestIntent {
  id: string;
  key: string;
  amountCents: number;
  refundedCents: number;
  status: 'succeeded' | 'requires_action' | 'failed';
  clientSecret: string;
  failureCode: string | undefined;
}

/** Signs a test-provider webhook body, as the test provider's (imaginary) servers would. */
export function signTestWebhook(payload: string, secret: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`).digest('hex');
  return `t=${timestampSeconds},v1=${signature}`;
}

const testEventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(100),
  payment_intent: z.string().min(1).max(255).optional(),
  failure_code: z.string().min(1).max(100).optional(),
  amount_refunded_cents: z.number().int().min(0).optional(),
});

/**
 * The embedded default provider: no network, no account, deterministic tokens (`tok_visa` succeeds,
 * `tok_chargeDeclined` declines, `tok_3ds` waits for customer action until its signed webhook settles
 * it). It behaves like a real provider where it matters here: a key seen before returns its first
 * answer, and it can be asked later where a charge stands. Its state lives in this process's memory, so
 * it is for development and tests only; it refuses to exist in production.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly name = 'test' as const;
  /** Every charge request received, replays included. */
  chargeRequests = 0;
  /** Charges that actually moved money (a replayed key does not count): what tests assert "charged once" with. */
  chargesMade = 0;
  refundsMade = 0;
  private readonly intents = new Map<string, TestIntent>();
  private readonly intentsByKey = new Map<string, string>();
  private readonly refunds = new Map<string, { id: string; result: RefundResult }>();

  constructor(private readonly options: { env: 'development' | 'test' | 'production'; webhookSecret: string }) {
    if (options.env === 'production') throw new Error('the test payment provider refuses to run with NODE_ENV=production');
    if (options.webhookSecret.length < 16) throw new Error('the test payment provider needs a webhook secret of at least 16 characters');
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    this.chargeRequests += 1;
    const seenId = this.intentsByKey.get(request.idempotencyKey);
    const seen = seenId === undefined ? undefined : this.intents.get(seenId);
    if (seen !== undefined) return this.chargeResultOf(seen);
    const outcome = ((): Pick<TestIntent, 'status' | 'failureCode'> | undefined => {
      switch (request.paymentToken) {
        case TEST_TOKENS.succeeds:
          return { status: 'succeeded', failureCode: undefined };
        case TEST_TOKENS.declines:
          return { status: 'failed', failureCode: 'generic_decline' };
        case TEST_TOKENS.declinesInsufficientFunds:
          return { status: 'failed', failureCode: 'insufficient_funds' };
        case TEST_TOKENS.needsAction:
          return { status: 'requires_action', failureCode: undefined };
        default:
          return undefined;
      }
    })();
    if (outcome === undefined) {
      return { status: 'invalid_token', message: `not a test token; use ${Object.values(TEST_TOKENS).join(', ')}` };
    }
    const id = `tpi_${randomBytes(12).toString('hex')}`;
    const intent: TestIntent = {
      id,
      key: request.idempotencyKey,
      amountCents: request.amountCents,
      refundedCents: 0,
      clientSecret: `${id}_secret_${randomBytes(12).toString('hex')}`,
      ...outcome,
    };
    this.intents.set(id, intent);
    this.intentsByKey.set(request.idempotencyKey, id);
    if (intent.status === 'succeeded') this.chargesMade += 1;
    return this.chargeResultOf(intent);
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    const seen = this.refunds.get(request.idempotencyKey);
    if (seen !== undefined) return seen.result;
    const intent = this.intents.get(request.providerPaymentId);
    const id = `tre_${randomBytes(12).toString('hex')}`;
    let result: RefundResult;
    if (intent === undefined || intent.status !== 'succeeded') {
      result = { status: 'failed', providerRefundId: null, failureCode: 'charge_not_refundable' };
    } else if (intent.refundedCents + request.amountCents > intent.amountCents) {
      result = { status: 'failed', providerRefundId: null, failureCode: 'amount_too_large' };
    } else {
      intent.refundedCents += request.amountCents;
      this.refundsMade += 1;
      result = { status: 'succeeded', providerRefundId: id };
    }
    this.refunds.set(request.idempotencyKey, { id, result });
    return result;
  }

  async retrieve(request: { providerPaymentId: string | null; idempotencyKey: string }): Promise<RetrievedCharge> {
    const id = request.providerPaymentId ?? this.intentsByKey.get(request.idempotencyKey);
    const intent = id === undefined ? undefined : this.intents.get(id);
    return intent === undefined ? { status: 'not_found' } : this.retrievedOf(intent);
  }

  async cancel(providerPaymentId: string): Promise<RetrievedCharge> {
    const intent = this.intents.get(providerPaymentId);
    if (intent === undefined) return { status: 'not_found' };
    if (intent.status === 'requires_action') {
      intent.status = 'failed';
      intent.failureCode = 'canceled';
    }
    return this.retrievedOf(intent);
  }

  async retrieveRefund(request: { providerPaymentId: string; idempotencyKey: string }): Promise<RefundResult | { status: 'not_found' }> {
    return this.refunds.get(request.idempotencyKey)?.result ?? { status: 'not_found' };
  }

  parseWebhook(rawBody: Buffer, headers: IncomingHttpHeaders): ProviderEvent {
    const header = headers[TEST_SIGNATURE_HEADER];
    if (typeof header !== 'string') throw new WebhookVerificationError(`no ${TEST_SIGNATURE_HEADER} header`);
    const parts = Object.fromEntries(header.split(',').map((part) => part.split('=', 2) as [string, string]));
    const timestamp = Number(parts.t);
    const given = Buffer.from(parts.v1 ?? '', 'hex');
    if (!Number.isSafeInteger(timestamp) || given.length === 0) throw new WebhookVerificationError('malformed signature header');
    const expected = createHmac('sha256', this.options.webhookSecret).update(`${timestamp}.`).update(rawBody).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new WebhookVerificationError('signature mismatch');
    if (Math.abs(Date.now() / 1000 - timestamp) > WEBHOOK_TOLERANCE_SECONDS) throw new WebhookVerificationError('signature timestamp outside the tolerance');

    let body: z.infer<typeof testEventSchema>;
    try {
      body = testEventSchema.parse(JSON.parse(rawBody.toString('utf8')));
    } catch {
      throw new WebhookVerificationError('the body is not a test-provider event');
    }
    const intent = body.payment_intent === undefined ? undefined : this.intents.get(body.payment_intent);
    const base = { id: body.id, type: body.type };
    if (body.payment_intent === undefined) return { ...base, kind: 'ignored' };
    switch (body.type) {
      case 'payment_intent.succeeded':
        // The customer completed the challenge: the provider now holds the money.
        if (intent?.status === 'requires_action') {
          intent.status = 'succeeded';
          this.chargesMade += 1;
        }
        return { ...base, kind: 'payment.succeeded', providerPaymentId: body.payment_intent, paymentKey: intent?.key };
      case 'payment_intent.payment_failed': {
        const failureCode = body.failure_code ?? 'authentication_failed';
        if (intent?.status === 'requires_action') {
          intent.status = 'failed';
          intent.failureCode = failureCode;
        }
        return { ...base, kind: 'payment.failed', providerPaymentId: body.payment_intent, paymentKey: intent?.key, failureCode };
      }
      case 'charge.refunded':
        return {
          ...base,
          kind: 'charge.refunded',
          providerPaymentId: body.payment_intent,
          amountRefundedCents: body.amount_refunded_cents ?? intent?.refundedCents ?? 0,
          refunds: [],
        };
      default:
        return { ...base, kind: 'ignored' };
    }
  }

  private chargeResultOf(intent: TestIntent): ChargeResult {
    switch (intent.status) {
      case 'succeeded':
        return { status: 'succeeded', providerPaymentId: intent.id };
      case 'requires_action':
        return { status: 'requires_action', providerPaymentId: intent.id, clientSecret: intent.clientSecret };
      case 'failed':
        return { status: 'declined', providerPaymentId: intent.id, declineCode: intent.failureCode ?? 'generic_decline' };
    }
  }

  private retrievedOf(intent: TestIntent): RetrievedCharge {
    switch (intent.status) {
      case 'succeeded':
        return { status: 'succeeded', providerPaymentId: intent.id };
      case 'requires_action':
        return { status: 'requires_action', providerPaymentId: intent.id, clientSecret: intent.clientSecret };
      case 'failed':
        return { status: 'failed', providerPaymentId: intent.id, failureCode: intent.failureCode ?? 'generic_decline' };
    }
  }
}
