import http from 'node:http';

/** One dispatched block of a text/event-stream: an event (with data), a bare `retry:`, or a comment. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comment?: string;
}

export interface SseConnection {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Everything received so far, in order. */
  frames: SseFrame[];
  /** The received frames that carry data (events), in order. */
  events(): SseFrame[];
  /** Resolves once `count` events have arrived (rejects after `timeoutMs` with what did arrive). */
  waitForEvents(count: number, timeoutMs?: number): Promise<SseFrame[]>;
  /** Resolves with the first frame (received or to come) that matches. */
  waitForFrame(matches: (frame: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame>;
  /** The body as text: for refusals (problem+json) and to check the raw framing. */
  text(): string;
  /** Resolves when the server ends the response or the connection drops. */
  ended: Promise<void>;
  close(): void;
}

/**
 * Opens a GET on a raw http request and parses the response as the Server-Sent Events spec says: lines
 * of `field: value`, a blank line dispatches, `:` starts a comment, `data:` lines join with newlines.
 * A refusal (not 200) is read to its end, so tests can check its problem body with `text()`.
 */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      const frames: SseFrame[] = [];
      const waiters = new Set<() => void>();
      let raw = '';
      let buffer = '';
      let current: SseFrame = {};
      let endedResolve: () => void = () => undefined;
      const ended = new Promise<void>((done) => {
        endedResolve = done;
      });
      let isEnded = false;

      const dispatch = () => {
        if (Object.keys(current).length > 0) frames.push(current);
        current = {};
        for (const wake of [...waiters]) wake();
      };
      const line = (text: string) => {
        if (text === '') return dispatch();
        if (text.startsWith(':')) {
          current.comment = text.slice(1).trim();
          return undefined;
        }
        const colon = text.indexOf(':');
        const field = colon === -1 ? text : text.slice(0, colon);
        let value = colon === -1 ? '' : text.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') current.data = current.data === undefined ? value : `${current.data}\n${value}`;
        else if (field === 'id') current.id = value;
        else if (field === 'event') current.event = value;
        else if (field === 'retry' && /^\d+$/.test(value)) current.retry = Number(value);
        return undefined;
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        for (let at = buffer.search(/\r\n|\n|\r/); at !== -1; at = buffer.search(/\r\n|\n|\r/)) {
          const width = buffer.startsWith('\r\n', at) ? 2 : 1;
          line(buffer.slice(0, at));
          buffer = buffer.slice(at + width);
        }
      });
      const finish = () => {
        if (isEnded) return;
        isEnded = true;
        endedResolve();
        for (const wake of [...waiters]) wake();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);

      const events = () => frames.filter((frame) => frame.data !== undefined);
      const wait = <T>(ready: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> =>
        new Promise<T>((done, fail) => {
          const check = () => {
            const value = ready();
            if (value !== undefined) {
              cleanup();
              done(value);
            } else if (isEnded) {
              cleanup();
              fail(new Error(`the stream ended first; ${describe()}`));
            }
          };
          const timer = setTimeout(() => {
            cleanup();
            fail(new Error(`timed out after ${timeoutMs} ms; ${describe()}`));
          }, timeoutMs);
          const cleanup = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        });

      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames,
        events,
        text: () => raw,
        ended,
        close: () => req.destroy(),
        waitForEvents: (count, timeoutMs = 5_000) =>
          wait(
            () => (events().length >= count ? events() : undefined),
            timeoutMs,
            () => `wanted ${count} events, got ${events().length}: ${JSON.stringify(events().map((e) => [e.id, e.event]))}`,
          ),
        waitForFrame: (matches, timeoutMs = 5_000) =>
          wait(
            () => frames.find(matches),
            timeoutMs,
            () => `frames: ${JSON.stringify(frames)}`,
          ),
      });
    });
    req.on('error', reject);
  });
}
