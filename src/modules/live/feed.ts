import type { Logger } from 'pino';
import { createEventListener, type EventListener, type EventListenerOptions, type NotificationSource } from '../../db/listener.js';

/** The channel the `order_events_publish` trigger notifies (migrations/20261201160000_live_order_events.ts). */
export const ORDER_EVENTS_CHANNEL = 'order_events';

/** An `order_events` row has committed, on this instance or another. The row itself is read from the table. */
export interface OrderEventNotice {
  restaurantId: number;
  eventId: number;
  orderId: number;
  customerId: number;
}

export interface OrderEventSubscriber {
  /** Only this restaurant's events; every restaurant's when absent (e.g. a webhook dispatcher). */
  restaurantId?: number;
  onEvent(notice: OrderEventNotice): void;
  /**
   * Notices may have been lost (the listening connection dropped and is back). A subscriber re-reads
   * `order_events` from the last `feed_seq` it handled; notices are wake-ups, the table is the truth.
   */
  onGap(): void;
}

/**
 * The process's one view of `order_events` as they commit anywhere: one LISTEN connection, fanned out
 * to every subscriber here (open streams now; outgoing webhooks can subscribe the same way). A notice
 * says that something happened, not what: subscribers read the rows after their own cursor, so a
 * duplicated, late or lost notice never makes one miss or repeat an event.
 */
export class OrderEventFeed {
  private readonly byRestaurant = new Map<number, Set<OrderEventSubscriber>>();
  private readonly everywhere = new Set<OrderEventSubscriber>();
  private readonly listener: EventListener;

  constructor(
    source: NotificationSource,
    private readonly logger: Logger,
    listenerOptions: Pick<EventListenerOptions, 'reconnectDelayMs' | 'maxReconnectDelayMs' | 'pingIntervalMs'> = {},
  ) {
    this.listener = createEventListener(source, {
      ...listenerOptions,
      channel: ORDER_EVENTS_CHANNEL,
      logger,
      handlers: { onNotification: (payload) => this.dispatch(payload), onReconnected: () => this.announceGap() },
    });
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }

  /** Returns the unsubscribe function. */
  subscribe(subscriber: OrderEventSubscriber): () => void {
    const { restaurantId } = subscriber;
    if (restaurantId === undefined) {
      this.everywhere.add(subscriber);
      return () => this.everywhere.delete(subscriber);
    }
    const set = this.byRestaurant.get(restaurantId) ?? new Set();
    set.add(subscriber);
    this.byRestaurant.set(restaurantId, set);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.byRestaurant.get(restaurantId) === set) this.byRestaurant.delete(restaurantId);
    };
  }

  private dispatch(payload: string): void {
    const notice = parseNotice(payload);
    if (notice === undefined) {
      this.logger.warn({ channel: ORDER_EVENTS_CHANNEL, payload: payload.slice(0, 100) }, 'ignored a malformed order event notice');
      return;
    }
    for (const subscriber of [...(this.byRestaurant.get(notice.restaurantId) ?? []), ...this.everywhere]) {
      this.deliver(() => subscriber.onEvent(notice));
    }
  }

  private announceGap(): void {
    for (const set of this.byRestaurant.values()) for (const subscriber of set) this.deliver(() => subscriber.onGap());
    for (const subscriber of this.everywhere) this.deliver(() => subscriber.onGap());
  }

  /** One subscriber's failure must not keep the notice from the others. */
  private deliver(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.error({ err: error }, 'an order event subscriber failed');
    }
  }
}

/** `<restaurant>:<event>:<order>:<customer>`, as the trigger writes it. */
export function parseNotice(payload: string): OrderEventNotice | undefined {
  const parts = payload.split(':');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,16}$/.test(part))) return undefined;
  const [restaurantId, eventId, orderId, customerId] = parts.map(Number) as [number, number, number, number];
  return { restaurantId, eventId, orderId, customerId };
}
