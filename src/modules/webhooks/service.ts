import type { Knex } from 'knex';
import type { Queryable } from '../../db/database.js';
import { withTransaction } from '../../db/transaction.js';
import { conflict, notFound, validationFailed } from '../../lib/errors.js';
import { decodeCursor, pageFrom, type Page } from '../../lib/cursor.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { enqueueWebhookDelivery } from '../../queue/outbox.js';
import { latestFeedSeq } from '../live/index.js';
import { systemResolver, vetWebhookUrl, type HostResolver } from './address-guard.js';
import type { WebhookEventType } from './events.js';
import * as repo from './repo.js';
import { newEndpointSecret } from './signature.js';

export type { DeliveryRow, EndpointRow } from './repo.js';

/** How URLs are checked: production insists on https and public addresses. */
export interface UrlPolicy {
  production: boolean;
  resolve?: HostResolver | undefined;
}

/** Endpoints one restaurant may have: each event is posted to every one of them. */
export const MAX_ENDPOINTS = 20;

async function assertUrlAllowed(url: string, policy: UrlPolicy): Promise<void> {
  const verdict = await vetWebhookUrl(new URL(url), { production: policy.production, resolve: policy.resolve ?? systemResolver });
  if (!verdict.ok) throw validationFailed(`The webhook URL is not allowed: it ${verdict.reason}`, [{ path: 'url', message: verdict.reason }]);
}

/**
 * Creates an endpoint with a new signing secret, returned here and never again. Its order events start
 * from now: the restaurant's cursor into `order_events` is created at the newest event if it has none.
 */
export async function createEndpoint(
  knex: Knex,
  restaurantId: number,
  input: { url: string; events: readonly WebhookEventType[] },
  policy: UrlPolicy,
): Promise<repo.EndpointRow & { secret: string }> {
  await assertUrlAllowed(input.url, policy);
  const secret = newEndpointSecret();
  return withTransaction(knex, async (trx) => {
    // Counted under the restaurant's lock so two creations at once cannot both take the last place.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?), ?)', ['tablekit.webhook_endpoints', restaurantId % 2147483647]);
    if ((await repo.countEndpoints(trx, restaurantId)) >= MAX_ENDPOINTS) {
      throw conflict(`A restaurant can have at most ${MAX_ENDPOINTS} webhook endpoints; delete one first`);
    }
    await repo.ensureOrderCursor(trx, restaurantId, await latestFeedSeq(trx, restaurantId));
    const endpoint = await repo.insertEndpoint(trx, restaurantId, { url: input.url, events: input.events, secret });
    return { ...endpoint, secret };
  });
}

export async function listEndpoints(
  db: Queryable,
  restaurantId: number,
  options: { limit: number; cursor: string | undefined },
): Promise<Page<repo.EndpointRow>> {
  const after = decodeCursor(options.cursor, ['number']);
  const rows = await repo.selectEndpointPage(db, restaurantId, { afterId: after === undefined ? undefined : Number(after[0]), limit: options.limit + 1 });
  return pageFrom(
    rows,
    options.limit,
    (row) => [row.id],
    (row) => row,
  );
}

export async function getEndpoint(db: Queryable, restaurantId: number, id: number): Promise<repo.EndpointRow> {
  const endpoint = await repo.selectEndpoint(db, restaurantId, id);
  if (endpoint === undefined) throw notFound('The webhook endpoint');
  return endpoint;
}

/** A new URL is checked as at creation; switching the endpoint on again forgets its past failures. */
export async function updateEndpoint(
  db: Queryable,
  restaurantId: number,
  id: number,
  changes: repo.EndpointChanges,
  policy: UrlPolicy,
): Promise<repo.EndpointRow> {
  if (changes.url !== undefined) await assertUrlAllowed(changes.url, policy);
  const endpoint =
    changes.url === undefined && changes.events === undefined && changes.enabled === undefined
      ? await repo.selectEndpoint(db, restaurantId, id)
      : await repo.updateEndpoint(db, restaurantId, id, changes);
  if (endpoint === undefined) throw notFound('The webhook endpoint');
  return endpoint;
}

export async function deleteEndpoint(db: Queryable, restaurantId: number, id: number): Promise<void> {
  if (!(await repo.deleteEndpoint(db, restaurantId, id))) throw notFound('The webhook endpoint');
}

/** An endpoint's deliveries, newest first; `beforeId` pages back through older ones. */
export async function listDeliveries(
  db: Queryable,
  restaurantId: number,
  endpointId: number,
  options: { limit: number; beforeId: number | undefined },
): Promise<repo.DeliveryRow[]> {
  await getEndpoint(db, restaurantId, endpointId);
  return repo.selectDeliveries(db, restaurantId, endpointId, options);
}

/**
 * A new attempt of the delivery, as soon as the relay sends it: same event, same event id, same body
 * (signed afresh). The delivery is pending again until the attempt is made. Refused (409) while an
 * attempt is in flight or while the endpoint is disabled.
 */
export async function redeliver(knex: Knex, restaurantId: number, deliveryId: number, clock: Clock = systemClock): Promise<repo.DeliveryRow> {
  return withTransaction(knex, async (trx) => {
    const delivery = await repo.lockDeliveryForAttempt(trx, restaurantId, deliveryId);
    if (delivery === undefined) throw notFound('The webhook delivery');
    const now = clock();
    if (!delivery.endpoint.enabled) throw conflict('The endpoint is disabled; enable it (PATCH enabled: true) before redelivering');
    if (delivery.claimedUntil !== null && delivery.claimedUntil > now) throw conflict('An attempt of this delivery is in progress; try again in a few seconds');
    await repo.reopenDelivery(trx, restaurantId, deliveryId, now);
    await enqueueWebhookDelivery(trx, { restaurantId, deliveryId, attempt: delivery.attempts + 1 });
    const reopened = await repo.selectDelivery(trx, restaurantId, deliveryId);
    if (reopened === undefined) throw new Error(`delivery ${deliveryId} vanished under its lock`);
    return reopened;
  });
}
