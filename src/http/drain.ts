import type http from 'node:http';
import net from 'node:net';

/**
 * During a drain, a keep-alive connection is closed once it has been idle this long (since its last
 * response, or since it opened). A client sends its next request on a connection it has just used, and that request is answered with
 * `Connection: close`; one it has left alone this long is most unlikely to be written to at the very
 * moment we close it. Closing an idle connection at once races exactly that write: the request then
 * meets a closed socket and its client an ECONNRESET (or, behind a balancer, a 502).
 */
export const IDLE_CONNECTION_GRACE_MS = 1_000;
const SWEEP_INTERVAL_MS = 100;

interface ConnectionState {
  /** Requests whose response has not closed yet (more than one only when a client pipelines). */
  busy: number;
  /** When the last response closed, or when the connection opened. */
  idleSince: number;
}

export interface ConnectionDrain {
  /** True from the moment `drain()` is first called. */
  readonly draining: boolean;
  /**
   * Stops accepting connections and lets every open one end after its next response (answered with
   * `Connection: close`); connections left idle for `IDLE_CONNECTION_GRACE_MS` are closed. Resolves
   * true once none is left, or false after `timeoutMs`, when whatever remains has been destroyed.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

/**
 * Keeps count of the server's connections from the start, so a drain can tell a connection its client
 * is still using from one it has left idle. `now` is the clock.
 */
export function trackConnections(server: http.Server, now: () => number = Date.now): ConnectionDrain {
  const connections = new Map<net.Socket, ConnectionState>();
  const inFlight = new Set<http.ServerResponse>();
  let draining: Promise<boolean> | undefined;

  server.on('connection', (socket: net.Socket) => {
    connections.set(socket, { busy: 0, idleSince: now() });
    socket.once('close', () => connections.delete(socket));
  });
  // Ahead of the application's listener, so the header is set before a handler that answers at once sends it.
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const state = connections.get(req.socket);
    if (state !== undefined) state.busy += 1;
    if (draining !== undefined) closeAfterResponse(res);
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (state === undefined) return;
      state.busy -= 1;
      state.idleSince = now();
    });
  });

  const closeIdle = (graceMs: number) => {
    const cutoff = now() - graceMs;
    for (const [socket, state] of connections) {
      if (state.busy === 0 && state.idleSince <= cutoff) socket.destroy();
    }
  };

  return {
    get draining() {
      return draining !== undefined;
    },
    drain(timeoutMs: number) {
      draining ??= new Promise<boolean>((resolve) => {
        // http.Server#close would also close every idle connection at once (Node >= 19), racing the
        // clients about to reuse them: net.Server's close only stops listening (in a cluster worker:
        // tells the primary to send this process no more connections) and calls back once the last
        // connection has ended.
        const closed = new Promise<void>((resolveClosed) => net.Server.prototype.close.call(server, () => resolveClosed()));
        for (const res of inFlight) closeAfterResponse(res);
        const sweep = setInterval(() => closeIdle(IDLE_CONNECTION_GRACE_MS), SWEEP_INTERVAL_MS);
        let timedOut = false;
        const deadline = setTimeout(() => {
          timedOut = true;
          clearInterval(sweep);
          for (const socket of connections.keys()) socket.destroy();
        }, timeoutMs);
        void closed.then(() => {
          clearInterval(sweep);
          clearTimeout(deadline);
          resolve(!timedOut);
        });
      });
      return draining;
    },
  };
}

/**
 * A response not yet sent says `Connection: close`, and Node closes its connection once it is. One
 * already streaming said keep-alive: its connection stays until its client's next request (answered
 * with `Connection: close`) or until it has been idle for the grace period.
 */
function closeAfterResponse(res: http.ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
