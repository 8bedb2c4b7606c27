import cors from 'cors';
import type { RequestHandler } from 'express';

// The restaurant's customer (www.), staff (staff.) and API (api.) sites, and its bare domain; one prefix, as tenancy strips one.
const RESTAURANT_SITE = /^https:\/\/(?:(?:www|staff|api)\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)$/;
const LOCALHOST = /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/;

/**
 * Browsers may call the API from a known restaurant's customer, staff or API site or its bare domain, and, outside
 * production, from a local frontend. Anything else gets no CORS headers and so is refused by the browser.
 */
export function corsMiddleware(isRestaurantDomain: (domain: string) => Promise<boolean>, production: boolean): RequestHandler {
  const handler = cors({
    origin: (origin, callback) => {
      if (origin === undefined) return callback(null, false);
      if (!production && LOCALHOST.test(origin)) return callback(null, true);
      const match = RESTAURANT_SITE.exec(origin.toLowerCase());
      if (match?.[1] === undefined) return callback(null, false);
      isRestaurantDomain(match[1]).then(
        (known) => callback(null, known),
        () => callback(null, false),
      );
    },
    credentials: false,
    maxAge: 600,
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'X-Restaurant-Domain', 'If-None-Match'],
    // What a browser client may read of an answer: request ids for support, retry advice, cache validators, replays, limits.
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'ETag', 'Idempotent-Replayed', 'RateLimit', 'RateLimit-Policy'],
  });
  // Without an Origin the library only asks `origin` above, which refuses, and passes the request on untouched:
  // skip it then (nearly every request of a phone app or a server), rather than copy its options each time.
  return (req, res, next) => (req.headers.origin === undefined ? next() : handler(req, res, next));
}
