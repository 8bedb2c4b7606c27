/**
 * What other modules may use of the live order feed: its notices (one LISTEN connection per process)
 * and `order_events` read in commit order (`feed_seq`), so a follower that keeps its own cursor misses
 * nothing and repeats nothing (outgoing webhooks follow it this way).
 */
import type { Queryable } from '../../db/database.js';
import { selectFeedEventsAfter, selectLatestFeedSeq, type FeedEvent } from './repo.js';

export type { FeedEvent } from './repo.js';
export type { OrderEventFeed, OrderEventNotice, OrderEventSubscriber } from './feed.js';

/** The restaurant's order events committed after `afterSeq`, in commit order, at most `limit`. */
export function readFeedEventsAfter(db: Queryable, restaurantId: number, afterSeq: number, limit: number): Promise<FeedEvent[]> {
  return selectFeedEventsAfter(db, { restaurantId }, afterSeq, limit);
}

/** The restaurant's newest feed position: a follower that starts now begins after it. */
export function latestFeedSeq(db: Queryable, restaurantId: number): Promise<number> {
  return selectLatestFeedSeq(db, restaurantId);
}
