import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { withTransaction } from '../../db/transaction.js';
import { readFeedEventsAfter, type OrderEventFeed } from '../live/index.js';
import { getOrders } from '../orders/service.js';
import { emitWebhookEvent, orderEventData, WEBHOOK_ORDER_VIEWER } from './emit.js';
import * as repo from './repo.js';

export interface OrderEventWebhooksOptions {
  db: Knex;
  /** The process's view of `order_events` as they commit (live/feed.ts): notices wake the relay up. */
  feed: OrderEventFeed;
  logger: Logger;
  /** Every restaurant is looked at this often whatever the notices say (a lost notice, a cursor another instance held). */
  sweepIntervalMs?: number;
}

/** Events turned into webhook events per transaction. */
const PAGE = 100;

/**
 * Turns every order status change into `order.placed` (its first, pending, event) or `order.updated`,
 * without checkout or the order moves knowing about webhooks: they already write an `order_events` row
 * in their transaction, and this follows that table in commit order (`feed_seq`), from a cursor per
 * restaurant kept in `webhook_order_cursors`.
 *
 * Each page is one transaction: lock the restaurant's cursor (FOR UPDATE SKIP LOCKED, so instances
 * share restaurants and never work on the same one at once), read the events after it, write their
 * webhook events and deliveries, move the cursor. The cursor and the writes commit together, and an
 * order event can become a webhook event only once (UNIQUE order_event_id), so every change is sent
 * exactly once into the delivery path, whatever crashes. The order in `data` is read at that moment,
 * with the event's own status change as `latest_event`, as the live stream shows it.
 *
 * A trigger on `order_events` could write the webhook event in the very transaction of the change, but
 * the order as GET /v1/orders/{id} shows it is built by the orders service, not in SQL; and `feed_seq`
 * exists only at commit. Following the feed costs a few milliseconds of delay (the NOTIFY wakes it).
 */
export class OrderEventWebhooks {
  private readonly due = new Set<number>();
  private sweepDue = false;
  private draining: Promise<void> | undefined;
  private stopped = true;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OrderEventWebhooksOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.options.feed.subscribe({
      onEvent: (notice) => this.wake(notice.restaurantId),
      onGap: () => this.sweep(),
    });
    this.timer = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 10_000);
    this.timer.unref();
    this.sweep();
  }

  /** Finishes the page in hand, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.draining;
  }

  private wake(restaurantId: number): void {
    this.due.add(restaurantId);
    this.drain();
  }

  private sweep(): void {
    this.sweepDue = true;
    this.drain();
  }

  private drain(): void {
    if (this.stopped || this.draining !== undefined) return;
    this.draining = this.drainDue()
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'order webhooks relay failed; it runs again at the next notice or sweep'))
      .finally(() => {
        this.draining = undefined;
        // Woken while finishing: go round again.
        if (this.due.size > 0 || this.sweepDue) this.drain();
      });
  }

  private async drainDue(): Promise<void> {
    while (!this.stopped && (this.sweepDue || this.due.size > 0)) {
      if (this.sweepDue) {
        this.sweepDue = false;
        for (const restaurantId of await repo.selectOrderCursorRestaurants(this.options.db)) this.due.add(restaurantId);
      }
      const [restaurantId] = this.due;
      if (restaurantId === undefined) continue;
      this.due.delete(restaurantId);
      try {
        await this.relayRestaurant(restaurantId);
      } catch (error) {
        // Left for its next notice or the sweep, so a failing database is not retried in a tight loop.
        this.options.logger.error({ err: error, restaurantId }, 'order webhooks relay failed for a restaurant; it is tried again later');
      }
    }
  }

  /** Everything the restaurant's cursor has not passed yet; returns how many webhook events that made. */
  async relayRestaurant(restaurantId: number): Promise<number> {
    let written = 0;
    for (;;) {
      const page = await withTransaction(this.options.db, (trx) => relayPage(trx, restaurantId));
      written += page.written;
      if (!page.more || this.stopped) return written;
    }
  }

  /** Every restaurant with a cursor, once (tests, and the sweep). */
  async relayAll(): Promise<number> {
    let written = 0;
    for (const restaurantId of await repo.selectOrderCursorRestaurants(this.options.db)) written += await this.relayRestaurant(restaurantId);
    return written;
  }
}

async function relayPage(trx: Knex.Transaction, restaurantId: number): Promise<{ written: number; more: boolean }> {
  const cursor = await repo.lockOrderCursor(trx, restaurantId);
  if (cursor === undefined) return { written: 0, more: false };
  const events = await readFeedEventsAfter(trx, restaurantId, cursor, PAGE);
  const last = events.at(-1);
  if (last === undefined) return { written: 0, more: false };
  let written = 0;
  // Nobody subscribed: the cursor moves on all the same, so a later subscriber starts from now.
  if ((await repo.selectSubscribedEndpointIds(trx, restaurantId, ['order.placed', 'order.updated'])).length > 0) {
    const orders = new Map(
      (await getOrders(trx, restaurantId, WEBHOOK_ORDER_VIEWER, [...new Set(events.map((event) => event.orderId))])).map((order) => [order.id, order]),
    );
    for (const event of events) {
      const order = orders.get(event.orderId);
      if (order === undefined) continue;
      const type = event.status === 'pending' ? 'order.placed' : 'order.updated';
      const latestEvent = { status: event.status, at: event.at, actor: event.actor, reason: event.reason };
      if ((await emitWebhookEvent(trx, restaurantId, type, orderEventData(order, latestEvent), { orderEventId: event.id })) !== undefined) written += 1;
    }
  }
  await repo.advanceOrderCursor(trx, restaurantId, last.seq);
  return { written, more: events.length === PAGE };
}
