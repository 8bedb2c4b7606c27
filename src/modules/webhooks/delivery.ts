import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { withTransaction } from '../../db/transaction.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { enqueueWebhookDelivery } from '../../queue/outbox.js';
import type { WebhookAttemptOutcome } from '../../queue/worker.js';
import { systemResolver, vetWebhookUrl, type HostResolver } from './address-guard.js';
import * as repo from './repo.js';
import { postWebhook, USER_AGENT, type PostResult } from './sender.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';

export interface WebhookDeliveryDeps {
  db: Knex;
  logger: Logger;
  /** Production refuses non-https URLs and non-public addresses, at delivery as at creation. */
  production: boolean;
  clock?: Clock;
  /** Jitter of the retry delays; [0, 1). */
  random?: () => number;
  resolve?: HostResolver;
  /** A 2xx within this long is a success (API.md: 10 s). */
  timeoutMs?: number;
}

/**
 * The wait after each failed attempt, before jitter: 8 attempts, the last about 22.6 hours after the first.
 * Exponential-ish with a cap, so a receiver down for a deploy gets its events within minutes and one down
 * for a day still gets them.
 */
export const RETRY_DELAYS_MS: readonly number[] = [60_000, 5 * 60_000, 30 * 60_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000];

/** Attempts per delivery before it is given up (a redelivery asked for later adds one more). */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** An endpoint failing without a single success for this long is switched off. */
export const DISABLE_AFTER_FAILING_MS = 3 * 24 * 3_600_000;

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The wait before the attempt after `failedAttempt`, ±10 % so the retries of many deliveries that
 * failed together (a receiver's outage) do not arrive together; undefined when none is left.
 */
export function retryDelayMs(failedAttempt: number, random: () => number): number | undefined {
  const base = RETRY_DELAYS_MS[failedAttempt - 1];
  return base === undefined ? undefined : Math.round(base * (0.9 + 0.2 * random()));
}

/** The delivery is being attempted by another worker right now: the message comes back after its visibility timeout. */
export class DeliveryInProgressError extends Error {
  override name = 'DeliveryInProgressError';
}

/**
 * Attempt number `attempt` of a delivery (the worker's `webhook.delivery_requested`), end to end:
 *
 * 1. Claim it, under its row lock: only a pending delivery whose previous attempt was `attempt - 1`, so
 *    a duplicated message or one for an attempt already made does nothing. The claim is a lease a little
 *    longer than the request may take; a worker that dies holding it leaves the attempt to the message's
 *    redelivery once the lease is over.
 * 2. Post, outside any transaction: the signed body, to an address vetted just now (production).
 * 3. Record the outcome, if the claim is still ours: success settles it; a failure plans the next attempt
 *    as an outbox row due after the backoff, in the same transaction, or gives up after the last one.
 *    Three days of failures without a success disables the endpoint.
 */
export async function attemptWebhookDelivery(
  deps: WebhookDeliveryDeps,
  restaurantId: number,
  deliveryId: number,
  attempt: number,
): Promise<WebhookAttemptOutcome> {
  const clock = deps.clock ?? systemClock;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const token = randomUUID();
  const log = deps.logger.child({ webhook: { restaurantId, deliveryId, attempt } });

  const claimed = await withTransaction(deps.db, async (trx) => {
    const delivery = await repo.lockDeliveryForAttempt(trx, restaurantId, deliveryId);
    if (delivery === undefined || delivery.status !== 'pending' || delivery.attempts !== attempt - 1) return undefined;
    const now = clock();
    if (delivery.claimedUntil !== null && delivery.claimedUntil > now) throw new DeliveryInProgressError(`delivery ${deliveryId} is being attempted`);
    if (!delivery.endpoint.enabled) {
      await repo.settleDeliveryUnattempted(trx, restaurantId, deliveryId, 'not attempted: the endpoint is disabled');
      return { ...delivery, skipped: true };
    }
    await repo.claimDelivery(trx, restaurantId, deliveryId, { token, until: new Date(now.getTime() + timeoutMs + 5_000) });
    return { ...delivery, skipped: false };
  });
  if (claimed === undefined) return 'duplicate';
  if (claimed.skipped) return 'undelivered';

  const { endpoint, event } = claimed;
  const body = JSON.stringify({ id: event.id, type: event.type, created_at: event.createdAt.toISOString(), data: event.data });
  const sentAt = clock();
  const url = new URL(endpoint.url);
  const verdict = await vetWebhookUrl(url, { production: deps.production, resolve: deps.resolve ?? systemResolver });
  const result: PostResult = verdict.ok
    ? await postWebhook({
        url,
        body,
        timeoutMs,
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': USER_AGENT,
          [EVENT_ID_HEADER]: String(event.id),
          [SIGNATURE_HEADER]: signatureHeader(endpoint.secret, Math.floor(sentAt.getTime() / 1000), body),
        },
        pinnedAddresses: deps.production ? verdict.addresses : undefined,
      })
    : { kind: 'error', error: `not sent: ${verdict.reason}` };

  const statusCode = result.kind === 'response' && result.status >= 100 && result.status <= 599 ? result.status : null;
  const succeeded = statusCode !== null && statusCode >= 200 && statusCode < 300;
  const lastError = succeeded
    ? null
    : result.kind === 'error'
      ? result.error
      : statusCode === null
        ? 'the response had no valid status'
        : `answered ${statusCode}${statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : ''}`;

  const next = await withTransaction(deps.db, async (trx) => {
    if (!(await repo.lockClaim(trx, restaurantId, deliveryId, token))) return { recorded: false, nextAttemptAt: null };
    const finishedAt = clock();
    let nextAttemptAt: Date | null = null;
    if (succeeded) {
      await repo.markEndpointSucceeding(trx, restaurantId, endpoint.id);
    } else {
      const disabled = await repo.markEndpointFailing(trx, restaurantId, endpoint.id, finishedAt, {
        ifFailingSince: new Date(finishedAt.getTime() - DISABLE_AFTER_FAILING_MS),
        reason: 'every delivery failed for 3 days',
      });
      const delay = disabled ? undefined : retryDelayMs(attempt, deps.random ?? Math.random);
      if (delay !== undefined) nextAttemptAt = new Date(finishedAt.getTime() + delay);
      if (disabled) log.warn({ endpointId: endpoint.id }, 'webhook endpoint disabled after 3 days of failed deliveries');
    }
    await repo.recordAttempt(trx, restaurantId, deliveryId, token, {
      attempts: attempt,
      status: succeeded ? 'succeeded' : nextAttemptAt === null ? 'failed' : 'pending',
      lastStatusCode: statusCode,
      lastError: lastError?.slice(0, 500) ?? null,
      at: sentAt,
      nextAttemptAt,
    });
    if (nextAttemptAt !== null) await enqueueWebhookDelivery(trx, { restaurantId, deliveryId, attempt: attempt + 1, notBefore: nextAttemptAt });
    return { recorded: true, nextAttemptAt };
  });

  // The endpoint's URL may carry a token of the receiver's: it is not logged, nor is the secret.
  const summary = {
    endpointId: endpoint.id,
    eventId: event.id,
    statusCode,
    error: succeeded ? undefined : lastError,
    nextAttemptAt: next.nextAttemptAt?.toISOString(),
  };
  if (!next.recorded) log.warn(summary, 'webhook attempt finished after its claim was taken over; its outcome is not recorded');
  else if (succeeded) log.info(summary, 'webhook delivered');
  else log.info(summary, next.nextAttemptAt === null ? 'webhook delivery failed; no attempts left' : 'webhook delivery failed; retrying later');
  return succeeded ? 'delivered' : 'undelivered';
}
