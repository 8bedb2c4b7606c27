import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';

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

/**
 * One JSON line per request. Serializers pick fields explicitly: headers are never logged whole, so an
 * Authorization header or a token in a body cannot reach the log.
 */
export function httpLogger(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestIdOf(req);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, error) => (error !== undefined || res.statusCode >= 500 ? 'error' : 'info'),
    serializers: {
      req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown>; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        // Tokens travel in headers only; the one credential a URL carries, a stream ticket, is masked.
        url: redactUrl(req.url),
        host: req.headers.host,
        tenant: req.headers['x-restaurant-domain'],
        remote: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
    },
    quietReqLogger: true,
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
  });
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
