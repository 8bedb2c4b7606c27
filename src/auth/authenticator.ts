import type { Request } from 'express';
import type { Logger } from 'pino';
import type { Queryable } from '../db/database.js';
import { AppError } from '../lib/errors.js';
import type { Authenticator, Principal, StaffRole } from '../http/principal.js';
import { staffRoleOf } from '../modules/staff/service.js';
import { TokenRejectedError, type AccessTokenVerifier } from './token-verifier.js';

export const PLATFORM_ADMIN_GROUP = 'platform-admin';

// The scheme is case-insensitive (RFC 7235).
const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i;

/**
 * Identity is Cognito's; authorisation is ours. The token says who the caller is (and whether they
 * are a platform admin, from the Cognito group); `staff_members` says what they may do where.
 */
export function createAuthenticator(verifier: AccessTokenVerifier, logger: Logger): Authenticator {
  return {
    async authenticate(req: Request): Promise<Principal> {
      const header = req.get('authorization');
      const token = header === undefined ? undefined : BEARER.exec(header.trim())?.[1];
      if (token === undefined) {
        throw new AppError('unauthenticated', 401, 'Send a Cognito access token as "Authorization: Bearer <token>"', undefined, {
          'WWW-Authenticate': 'Bearer',
        });
      }
      try {
        const verified = await verifier.verify(token);
        return {
          sub: verified.sub,
          username: verified.username,
          email: verified.email,
          isPlatformAdmin: verified.groups.includes(PLATFORM_ADMIN_GROUP),
        };
      } catch (error) {
        if (error instanceof TokenRejectedError) {
          if (error.reason === 'jwks_unavailable') {
            (req.log ?? logger).error({ reason: error.reason }, 'cannot fetch the signing keys to verify tokens');
            throw new AppError('service_unavailable', 503, 'Sign-in cannot be checked right now; try again shortly', undefined, { 'Retry-After': '5' });
          }
          // The reason only: the token itself never reaches the log.
          (req.log ?? logger).info({ reason: error.reason }, 'access token rejected');
          throw new AppError('unauthenticated', 401, 'The access token is not valid', undefined, {
            'WWW-Authenticate': 'Bearer error="invalid_token"',
          });
        }
        throw error;
      }
    },

    staffRole: (db: Queryable, restaurantId: number, sub: string): Promise<StaffRole | undefined> => staffRoleOf(db, restaurantId, sub),
  };
}
