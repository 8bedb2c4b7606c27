import type { RequestHandler } from 'express';
import { AppError, sendProblem } from './errors.js';

/**
 * The load balancer terminates TLS and says what the client used in `X-Forwarded-Proto`. In production
 * a request that reached it over plain http is refused rather than redirected: an API client that
 * sent a token in the clear must learn to stop, not be silently forwarded.
 */
export function requireHttps(): RequestHandler {
  return (req, res, next) => {
    const forwarded = req.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
    if (forwarded === 'http') {
      sendProblem(res, new AppError('https_required', 403, 'Use https:// to reach this API'));
      return;
    }
    next();
  };
}
