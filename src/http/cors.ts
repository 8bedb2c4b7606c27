import cors from 'cors';
import type { RequestHandler } from 'express';

const RESTAURANT_SITE = /^https:\/\/(www|staff)\.([a-z0-9.-]+)$/;
const LOCALHOST = /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/;

/**
 * Browsers may call the API from a known restaurant's customer or staff site, and, outside
 * production, from a local frontend. Anything else gets no CORS headers and so is refused by the browser.
 */
export function corsMiddleware(isRestaurantDomain: (domain: string) => Promise<boolean>, production: boolean): RequestHandler {
  return cors({
    origin: (origin, callback) => {
      if (origin === undefined) return callback(null, false);
      if (!production && LOCALHOST.test(origin)) return callback(null, true);
      const match = RESTAURANT_SITE.exec(origin.toLowerCase());
      if (match?.[2] === undefined) return callback(null, false);
      isRestaurantDomain(match[2]).then(
        (known) => callback(null, known),
        () => callback(null, false),
      );
    },
    credentials: false,
    maxAge: 600,
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'X-Restaurant-Domain', 'If-None-Match'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'ETag'],
  });
}
