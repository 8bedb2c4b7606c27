// The order stream, followed for as long as the page is open.
//
// EventSource reconnects by itself, but with the URL of its first connection, whose ticket is spent: so
// on any error the connection is closed here and a new one opened with a fresh ticket and the id of the
// last event received (last_event_id), from which the service replays what was missed.

const EVENT_TYPES = ['order.placed', 'order.updated'];
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

export class OrderStream {
  /**
   * @param api the signed-in Api
   * @param handlers { onOrder(order, type), onState(state: 'connecting'|'live'|'reconnecting'), onFresh() }
   *   onFresh: the stream starts with no event to resume from, so the board must be (re)loaded.
   */
  constructor(api, handlers) {
    this.api = api;
    this.handlers = handlers;
    this.lastEventId = undefined;
    this.source = undefined;
    this.retryMs = FIRST_RETRY_MS;
    this.timer = undefined;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.handlers.onState('connecting');
    void this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.source?.close();
    this.source = undefined;
  }

  async connect() {
    let ticket;
    try {
      ({ ticket } = await this.api.call('/v1/stream-tickets', { method: 'POST' }));
    } catch {
      this.retryLater();
      return;
    }
    if (this.stopped) return;
    const query = new URLSearchParams({ ticket });
    if (this.lastEventId !== undefined) query.set('last_event_id', this.lastEventId);
    const source = new EventSource(`/v1/orders/stream?${query}`);
    this.source = source;
    source.addEventListener('open', () => {
      this.retryMs = FIRST_RETRY_MS;
      this.handlers.onState('live');
      if (this.lastEventId === undefined) this.handlers.onFresh();
    });
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event) => {
        if (event.lastEventId !== '') this.lastEventId = event.lastEventId;
        let order;
        try {
          order = JSON.parse(event.data);
        } catch {
          return;
        }
        this.handlers.onOrder(order, type);
      });
    }
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      source.close();
      this.source = undefined;
      this.retryLater();
    });
  }

  retryLater() {
    if (this.stopped) return;
    this.handlers.onState('reconnecting');
    const delay = this.retryMs / 2 + Math.random() * this.retryMs;
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}
