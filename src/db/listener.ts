import pg from 'pg';
import type { Logger } from 'pino';

/**
 * The part of PGlite's API a listener needs. Structural, so this file (which production loads) does not
 * import PGlite, a development dependency.
 */
export interface PgliteNotifications {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

/** Where notifications come from: a server we open one extra connection to, or the embedded database itself. */
export type NotificationSource = { kind: 'postgres'; url: string } | { kind: 'embedded'; pglite: PgliteNotifications };

export interface NotificationHandlers {
  onNotification(payload: string): void;
  /**
   * The listening connection dropped and is back. Whatever was notified meanwhile is lost, so anything
   * that follows the channel must re-read the table from where it was.
   */
  onReconnected(): void;
}

export interface EventListener {
  /** Resolves once LISTEN is in place; rejects if the first connection cannot be made. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface EventListenerOptions {
  channel: string;
  handlers: NotificationHandlers;
  logger: Logger;
  /** First delay before reconnecting; it doubles on each failure up to `maxReconnectDelayMs`. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** How often the connection is checked with a query: a half-open TCP connection stays silent otherwise. */
  pingIntervalMs?: number;
}

const CHANNEL = /^[a-z_][a-z0-9_]*$/;

/**
 * One LISTEN per process, outside the knex pool: a pooled connection is handed to other work and
 * cannot hold a LISTEN, and one listener per open stream would exhaust the server's connections.
 */
export function createEventListener(source: NotificationSource, options: EventListenerOptions): EventListener {
  if (!CHANNEL.test(options.channel)) throw new Error(`not a channel name: ${options.channel}`);
  return source.kind === 'postgres' ? new PostgresListener(source.url, options) : new PgliteListener(source.pglite, options);
}

class PostgresListener implements EventListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly url: string,
    private readonly options: EventListenerOptions,
  ) {}

  async start(): Promise<void> {
    await this.connect();
    this.pingTimer = setInterval(() => this.ping(), this.options.pingIntervalMs ?? 30_000);
    this.pingTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'tablekit-listener',
      keepAlive: true,
      // Bounds the ping: a query on a dead connection would otherwise wait for TCP to give up.
      query_timeout: 10_000,
    });
    client.on('notification', (message) => {
      if (message.channel === this.options.channel && message.payload !== undefined) this.options.handlers.onNotification(message.payload);
    });
    client.on('error', (error) => this.dropped(client, error));
    client.on('end', () => this.dropped(client, undefined));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.channel}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private ping(): void {
    const client = this.client;
    client?.query('SELECT 1').catch((error: unknown) => this.dropped(client, error));
  }

  private dropped(client: pg.Client, error: unknown): void {
    if (this.stopped || client !== this.client) return;
    this.client = undefined;
    this.options.logger.warn({ err: error, channel: this.options.channel }, 'lost the LISTEN connection; reconnecting');
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const first = this.options.reconnectDelayMs ?? 250;
    const delay = Math.min(this.options.maxReconnectDelayMs ?? 10_000, first * 2 ** this.failures);
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        () => {
          if (this.stopped) return;
          this.failures = 0;
          this.options.logger.info({ channel: this.options.channel }, 'LISTEN connection is back');
          this.options.handlers.onReconnected();
        },
        (error: unknown) => {
          this.failures += 1;
          this.options.logger.warn({ err: error, channel: this.options.channel, attempt: this.failures }, 'cannot reconnect the LISTEN connection yet');
          if (!this.stopped) this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }
}

/** PGlite runs in this process: its notifications cannot be lost to a dropped connection. */
class PgliteListener implements EventListener {
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly pglite: PgliteNotifications,
    private readonly options: EventListenerOptions,
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.pglite.listen(this.options.channel, (payload) => this.options.handlers.onNotification(payload));
  }

  async stop(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.();
  }
}
