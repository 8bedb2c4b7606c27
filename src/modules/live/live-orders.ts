import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { NotificationSource } from '../../db/listener.js';
import { OrderEventFeed } from './feed.js';
import { OrderStreams, type Clock } from './stream.js';

/** The live side of a process: its one LISTEN connection, fanned out to its open streams. */
export interface LiveOrders {
  /** Subscribe here to follow order events as they commit on any instance (streams do; webhooks can). */
  feed: OrderEventFeed;
  streams: OrderStreams;
  /** Ends the streams (with a reconnection hint) and the listener. */
  stop(): Promise<void>;
}

export interface LiveOrdersOptions {
  db: Knex;
  notifications: NotificationSource;
  logger: Logger;
  maxStreams: number;
  heartbeatMs?: number;
  clock?: Clock;
  /** The listener's first reconnection delay (tests shorten it). */
  reconnectDelayMs?: number;
}

export async function startLiveOrders(options: LiveOrdersOptions): Promise<LiveOrders> {
  const feed = new OrderEventFeed(options.notifications, options.logger, { reconnectDelayMs: options.reconnectDelayMs });
  await feed.start();
  const streams = new OrderStreams({
    db: options.db,
    feed,
    logger: options.logger,
    maxStreams: options.maxStreams,
    heartbeatMs: options.heartbeatMs,
    clock: options.clock,
  });
  return {
    feed,
    streams,
    stop: async () => {
      streams.closeAll();
      await feed.stop();
    },
  };
}
