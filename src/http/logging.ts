import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import { pino, type Logger, type LevelWithSilent } from 'pino';

/** Anything that could carry a credential is removed before a line is written. */
const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["stripe-signature"]',
  'headers.authorization',
  'password',
  'token',
  'access_token',
  'id_token',
  'refresh_token',
  'payment_token',
  'client_secret',
  'secret',
  '*.password',
  '*.access_token',
  '*.id_token',
  '*.refresh_token',
  '*.payment_token',
  '*.client_secret',
  '*.secret',
];

export function createLogger(level: LevelWithSilent): Logger {
  return pino({
    level,
    base: { service: 'tablekit' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** Query parameters whose value is a credential (single-use stream tickets: EventSource cannot send headers). */
const SECRET_QUERY_PARAMETERS = new Set(['ticket']);

/** The URL with secret query values masked, however their names are escaped (the query parser decodes them). */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq === -1) return part;
      const rawName = part.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replaceAll('+', ' '));
      } catch {
        // Not decodable: the query parser reads it as written.
      }
      return SECRET_QUERY_PARAMETERS.has(name.toLowerCase()) ? `${rawName}=[redacted]` : part;
    });
  return `${url.slice(0, start)}?${query.join('&')}`;
}

const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** Echo a well-formed `X-Request-Id` from the caller (or the balancer), else make one. */
export function requestIdOf(req: IncomingMessage): string {
  const sent = req.headers['x-request-id'];
  const candidate = Array.isArray(sent) ? sent[0] : sent;
  return candidate !== undefined && REQUEST_ID_PATTERN.test(candidate) ? candidate : randomUUID();
}

declare module 'node:http' {
  interface IncomingMessage {
    /** The request's id: the caller's well-formed `X-Request-Id`, else one made here. */
    id?: string;
    /** A logger whose lines carry the request's id (`reqId`), made the first time it is asked for. */
    log?: Logger;
  }
}

const UNLOGGED_PATHS = new Set(['/healthz', '/readyz']);

/**
 * One JSON line per request, as pino-http wrote it (`reqId`, `req`, `res`, `responseTime`; "request
 * completed", "request aborted", or "request errored" at error level for a 5xx), written by hand because
 * pino-http makes two child loggers for every request, serialising the request into one of them as it
 * arrives, whether or not a line is ever written (~6 % of the service's CPU for a menu page at `warn`).
 * Here the line is built when the response ends, and only at a level that is written. Fields are picked
 * explicitly: headers are never logged whole, so an Authorization header or a token cannot reach the log.
 */
export function httpLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const id = requestIdOf(req);
    req.id = id;
    res.setHeader('X-Request-Id', id);
    let requestLog: Logger | undefined;
    Object.defineProperty(req, 'log', { configurable: true, enumerable: true, get: () => (requestLog ??= logger.child({ reqId: id })) });
    if (!UNLOGGED_PATHS.has(req.url ?? '')) {
      const startedAt = performance.now();
      // Read now: once the connection is gone the socket no longer knows its peer.
      const remote = req.socket.remoteAddress;
      const finished = (error?: Error): void => {
        res.off('finish', finished);
        res.off('close', finished);
        res.off('error', finished);
        const failed = error !== undefined || res.statusCode >= 500;
        const level = failed ? 'error' : 'info';
        if (!logger.isLevelEnabled(level)) return;
        const line: Record<string, unknown> = {
          req: {
            id,
            method: req.method,
            // Tokens travel in headers only; the one credential a URL carries, a stream ticket, is masked.
            url: redactUrl((req as { originalUrl?: string }).originalUrl ?? req.url ?? ''),
            host: req.headers.host,
            tenant: req.headers['x-restaurant-domain'],
            remote,
          },
          res: { status: res.statusCode },
        };
        if (failed) line.err = error ?? new Error(`failed with status code ${res.statusCode}`);
        line.responseTime = Math.round(performance.now() - startedAt);
        const log = req.log ?? logger;
        if (failed) log.error(line, 'request errored');
        else log.info(line, res.writableEnded ? 'request completed' : 'request aborted');
      };
      res.on('finish', finished);
      res.on('close', finished);
      res.on('error', finished);
    }
    next();
  };
}

/**
 * Exits once the lines already logged are written. Under pm2's cluster mode stdout is replaced by a
 * file stream that writes asynchronously (pino then writes through it), so an immediate process.exit
 * loses the last lines: "stopped", or the one line saying why a start failed.
 */
export function exitAfterLogs(code: number): void {
  const exit = () => process.exit(code);
  // Should stdout never drain (a stuck pipe), the exit comes anyway.
  setTimeout(exit, 2_000).unref();
  process.stdout.write('', exit);
}
