import type { ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { AppError } from '../../lib/errors.js';
import { getOrders, type OrderViewer } from '../orders/service.js';
import type { OrderView } from '../orders/service.js';
import type { OrderEventFeed } from './feed.js';
import { selectFeedEventsAfter, selectFeedSeqBefore, selectFeedSeqOfEvent, selectLatestFeedSeq, type FeedEvent, type FeedScope } from './repo.js';
import type { StreamViewer } from './tickets.js';

export type { Clock } from '../../lib/clock.js';
import type { Clock } from '../../lib/clock.js';

/** Where a stream begins: what commits from now on, or after an event the client already has. */
export type StreamStart = { kind: 'now' } | { kind: 'after'; eventId: number };

export interface OrderStreamsOptions {
  db: Knex;
  feed: OrderEventFeed;
  logger: Logger;
  /** Streams this process holds at most; one more is refused with 503 (MAX_STREAMS). */
  maxStreams: number;
  /** A comment line this often keeps proxies and load balancers from closing an idle stream. */
  heartbeatMs?: number;
  /** How far back `Last-Event-ID` replays. */
  replayWindowMs?: number;
  clock?: Clock;
}

/** Events read per query while catching up. */
const PAGE = 100;
/** Until the stream says otherwise, how long EventSource waits before reconnecting by itself. */
const RECONNECT_MS = 2_000;

/** A place among the process's streams, taken before the (slow) sign-in so the limit is never overshot. */
export interface StreamSlot {
  open(res: ServerResponse, restaurantId: number, viewer: StreamViewer, start: StreamStart): Promise<void>;
  /** Gives the place back when the stream is not opened after all. */
  release(): void;
}

/**
 * The open order streams of this process: bounded, and closed together at shutdown with a `retry:`
 * hint so their clients reconnect (through the load balancer, to another instance) and resume from
 * their `Last-Event-ID`.
 */
export class OrderStreams {
  private readonly open = new Set<OrderStream>();
  private reserved = 0;
  private closing = false;
  /**
   * Reads in flight, by what they read (the restaurant, the customer for a customer's stream, the cursor):
   * the streams woken by one commit (a restaurant's kitchen screens, all at the same cursor) share one read
   * instead of each sending its own two statements.
   */
  private readonly reads = new Map<string, { turn: number; page: Promise<FeedPage> }>();
  /**
   * Turns of the event loop, as far as wake-ups and reads go: one synchronous run (and its microtasks).
   * A read started in the turn a stream was woken in, or later, sends its statements after the notice that
   * woke it was received, so it sees the commit behind that notice; one started in an earlier turn may not.
   */
  private turn = 0;
  private turnOpen = false;
  readonly heartbeatMs: number;
  readonly replayWindowMs: number;
  readonly clock: Clock;

  constructor(readonly options: OrderStreamsOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.replayWindowMs = options.replayWindowMs ?? 24 * 3_600_000;
    this.clock = options.clock ?? (() => new Date());
  }

  get size(): number {
    return this.open.size;
  }

  private currentTurn(): number {
    if (!this.turnOpen) {
      this.turn += 1;
      this.turnOpen = true;
      queueMicrotask(() => {
        this.turnOpen = false;
      });
    }
    return this.turn;
  }

  /** The turn a stream is told in that something committed (or may have). */
  wokeUp(): number {
    return this.currentTurn();
  }

  /**
   * The events after `cursor` in `scope` and their orders: a read of the same started in the turn of the
   * stream's last wake-up (`wokeAt`) or later is joined (it sees what woke the stream); otherwise a new
   * read starts, which the streams woken with this one join.
   */
  readPage(scope: FeedScope, cursor: number, wokeAt: number): Promise<FeedPage> {
    const key = `${scope.restaurantId}:${scope.customerId ?? 'all'}:${cursor}`;
    const running = this.reads.get(key);
    if (running !== undefined && running.turn >= wokeAt) return running.page;
    const page = readFeedPage(this.options.db, scope, cursor);
    const entry = { turn: this.currentTurn(), page };
    this.reads.set(key, entry);
    const forget = () => {
      if (this.reads.get(key) === entry) this.reads.delete(key);
    };
    page.then(forget, forget);
    return page;
  }

  reserve(): StreamSlot {
    if (this.closing) {
      throw new AppError('service_unavailable', 503, 'This instance is shutting down; reconnect to another', undefined, { 'Retry-After': '1' });
    }
    if (this.open.size + this.reserved >= this.options.maxStreams) {
      throw new AppError('service_unavailable', 503, 'This instance holds as many live streams as it can; try again shortly', undefined, {
        'Retry-After': '5',
      });
    }
    this.reserved += 1;
    let held = true;
    const release = () => {
      if (held) this.reserved -= 1;
      held = false;
    };
    return {
      release,
      open: async (res, restaurantId, viewer, start) => {
        const stream = new OrderStream(this, res, restaurantId, viewer, () => this.open.delete(stream));
        const started = await stream.begin(start);
        release();
        if (!started) return;
        this.open.add(stream);
        stream.pump();
      },
    };
  }

  /**
   * Ends every stream with a reconnection hint, spread over a few seconds so the clients of a stopping
   * instance do not all land on the others at once. New streams are refused from now on.
   */
  closeAll(): void {
    this.closing = true;
    for (const stream of [...this.open]) stream.end(RECONNECT_MS / 4 + Math.floor(Math.random() * RECONNECT_MS));
  }
}

/** A page of the feed with the orders it names, as a viewer of its scope sees them. */
interface FeedPage {
  events: FeedEvent[];
  orders: Map<number, OrderView>;
}

async function readFeedPage(db: Knex, scope: FeedScope, cursor: number): Promise<FeedPage> {
  const events = await selectFeedEventsAfter(db, scope, cursor, PAGE);
  const orders = new Map<number, OrderView>();
  if (events.length === 0) return { events, orders };
  // What getOrders shows a viewer depends only on whether it is one customer's: the scope says which.
  const viewer: OrderViewer = scope.customerId === undefined ? { kind: 'staff', sub: '' } : { kind: 'customer', sub: '', customerId: scope.customerId };
  const ids = [...new Set(events.map((event) => event.orderId))];
  for (const order of await getOrders(db, scope.restaurantId, viewer, ids)) orders.set(order.id, order);
  return { events, orders };
}

/**
 * One client's stream. It keeps a cursor in the feed (`feed_seq`, commit order) and, whenever the feed
 * says something committed (or may have), reads what lies after the cursor and sends it: a burst of
 * notices costs one read, a lost notice costs nothing once the next read comes, and nothing is sent twice.
 */
class OrderStream {
  private cursor = 0;
  /** When it was last woken (OrderStreams.wokeUp). */
  private wokeAt = 0;
  private pumping = false;
  private again = false;
  private started = false;
  private closed = false;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly scope: FeedScope;
  private readonly log: Logger;

  constructor(
    private readonly streams: OrderStreams,
    private readonly res: ServerResponse,
    private readonly restaurantId: number,
    viewer: StreamViewer,
    private readonly onClosed: () => void,
  ) {
    this.scope = { restaurantId, customerId: viewer.kind === 'customer' ? viewer.customerId : undefined };
    this.log = streams.options.logger.child({ stream: { restaurantId, viewer: viewer.kind } });
  }

  /**
   * Subscribes, then finds the start: what commits meanwhile lies after the cursor and is read by the
   * first pump. False when the client left in the meantime.
   */
  async begin(start: StreamStart): Promise<boolean> {
    this.res.on('close', () => this.cleanUp());
    const customerId = this.scope.customerId;
    this.unsubscribe = this.streams.options.feed.subscribe({
      restaurantId: this.restaurantId,
      onEvent: (notice) => {
        if (customerId === undefined || notice.customerId === customerId) this.pump();
      },
      onGap: () => this.pump(),
    });
    try {
      this.cursor = await this.startingSeq(start);
    } catch (error) {
      this.cleanUp();
      throw error;
    }
    if (this.closed) return false;
    this.res.socket?.setNoDelay(true);
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'private, no-store',
      // nginx and similar proxies would otherwise buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    this.res.write(`retry: ${RECONNECT_MS}\n\n`);
    this.heartbeat = setInterval(() => {
      if (!this.closed) this.res.write(': keep-alive\n\n');
    }, this.streams.heartbeatMs);
    this.heartbeat.unref();
    this.started = true;
    return true;
  }

  private async startingSeq(start: StreamStart): Promise<number> {
    const { db } = this.streams.options;
    if (start.kind === 'now') return selectLatestFeedSeq(db, this.restaurantId);
    const windowStart = new Date(this.streams.clock().getTime() - this.streams.replayWindowMs);
    // An event older than the window, or unknown here: replay the whole window instead.
    return (await selectFeedSeqOfEvent(db, this.restaurantId, start.eventId, windowStart)) ?? selectFeedSeqBefore(db, this.restaurantId, windowStart);
  }

  /** Reads and sends what lies after the cursor; a call while a read runs makes that read go round again. */
  pump(): void {
    this.wokeAt = this.streams.wokeUp();
    if (!this.started || this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.catchUp()
      .catch((error: unknown) => {
        // The client reconnects with its Last-Event-ID and resumes where this left off.
        this.log.warn({ err: error }, 'order stream failed; closing it');
        this.end(RECONNECT_MS);
      })
      .finally(() => {
        this.pumping = false;
      });
  }

  private async catchUp(): Promise<void> {
    do {
      this.again = false;
      let page: FeedPage;
      do {
        page = await this.streams.readPage(this.scope, this.cursor, this.wokeAt);
        if (page.events.length > 0) await this.send(page);
      } while (page.events.length === PAGE && !this.closed);
    } while (this.again && !this.closed);
  }

  private async send({ events, orders }: FeedPage): Promise<void> {
    for (const event of events) {
      if (this.closed) return;
      const order = orders.get(event.orderId);
      if (order !== undefined) {
        const data = { ...order, latest_event: { status: event.status, at: event.at, actor: event.actor, reason: event.reason } };
        const frame = `id: ${event.id}\nevent: ${event.status === 'pending' ? 'order.placed' : 'order.updated'}\ndata: ${JSON.stringify(data)}\n\n`;
        if (!this.res.write(frame)) await this.drained();
      }
      this.cursor = event.seq;
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  /** Ends the stream, telling the client how soon to come back. */
  end(retryMs: number): void {
    if (this.closed) return;
    this.res.end(`retry: ${Math.round(retryMs)}\n\n`);
    this.cleanUp();
  }

  private cleanUp(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    clearInterval(this.heartbeat);
    this.onClosed();
  }
}
