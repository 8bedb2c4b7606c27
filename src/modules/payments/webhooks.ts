import type { IncomingHttpHeaders } from 'node:http';
import { withTransaction } from '../../db/transaction.js';
import { validationFailed } from '../../lib/errors.js';
import { WebhookVerificationError, type ProviderEvent } from './providers/types.js';
import { findPaymentAtProvider, recordWebhookEvent } from './repo.js';
import type { PaymentDeps } from './service.js';
import { settleCharge, settleChargeRefunded } from './settlement.js';

export type WebhookOutcome = 'settled' | 'duplicate' | 'ignored';

/**
 * A provider's callback: verified on the raw body (anything unverifiable is `400 validation_failed` and
 * changes nothing), then acted on once.
 */
export async function receiveWebhook(deps: PaymentDeps, rawBody: Buffer | undefined, headers: IncomingHttpHeaders): Promise<WebhookOutcome> {
  if (rawBody === undefined) throw validationFailed('A webhook needs a JSON body (Content-Type: application/json)');
  let event: ProviderEvent;
  try {
    event = deps.provider.parseWebhook(rawBody, headers);
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    deps.logger.warn({ provider: deps.provider.name, reason: error.message }, 'payment webhook refused');
    throw validationFailed('The webhook signature is missing, wrong or too old', [
      { path: 'headers.signature', message: 'not a valid signature for this body' },
    ]);
  }
  return handleProviderEvent(deps, event);
}

/**
 * Acts on a verified provider event, once: the event id is recorded in the same transaction as its
 * effect, so a redelivery (or the same event arriving twice at once: the second waits on the first's
 * unique key) finds it and changes nothing, and a failure rolls both back for the provider to retry.
 */
export async function handleProviderEvent(deps: PaymentDeps, event: ProviderEvent): Promise<WebhookOutcome> {
  return withTransaction(deps.db, async (trx) => {
    if (!(await recordWebhookEvent(trx, deps.provider.name, event.id, event.type))) return 'duplicate';
    switch (event.kind) {
      case 'payment.succeeded':
      case 'payment.failed': {
        const payment = await findPaymentAtProvider(trx, deps.provider.name, event);
        if (payment === undefined) return 'ignored';
        await settleCharge(
          trx,
          payment.restaurant_id,
          payment.id,
          event.kind === 'payment.succeeded'
            ? { status: 'succeeded', providerPaymentId: event.providerPaymentId }
            : { status: 'failed', providerPaymentId: event.providerPaymentId, failureCode: event.failureCode },
        );
        return 'settled';
      }
      case 'charge.refunded': {
        const payment = await findPaymentAtProvider(trx, deps.provider.name, { providerPaymentId: event.providerPaymentId, paymentKey: undefined });
        if (payment === undefined) return 'ignored';
        await settleChargeRefunded(trx, payment, event);
        return 'settled';
      }
      case 'ignored':
        return 'ignored';
    }
  });
}
