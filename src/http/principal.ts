import type { Request } from 'express';
import type { Queryable } from '../db/database.js';

import type { Principal, StaffRole } from '../lib/identity.js';

export type { Principal, StaffRole } from '../lib/identity.js';

/** Declared once per route; `route.ts` enforces it before the handler runs. */
export type Access =
  | { kind: 'public' }
  /** Public, but a token that is sent is verified (a bad one is 401) and identifies the caller. */
  | { kind: 'optional' }
  | { kind: 'signed-in' }
  | { kind: 'staff'; roles: readonly StaffRole[] }
  | { kind: 'platform-admin' };

export const access = {
  public: { kind: 'public' },
  optional: { kind: 'optional' },
  signedIn: { kind: 'signed-in' },
  staff: { kind: 'staff', roles: ['manager', 'kitchen'] },
  manager: { kind: 'staff', roles: ['manager'] },
  platformAdmin: { kind: 'platform-admin' },
} as const satisfies Record<string, Access>;

/** The identity side of the app: implemented over Cognito tokens in `src/auth/`. */
export interface Authenticator {
  /** Resolves the caller from the request's bearer token; throws `AppError('unauthenticated')`. */
  authenticate(req: Request): Promise<Principal>;
  /** The caller's role in a restaurant, if any. */
  staffRole(db: Queryable, restaurantId: number, sub: string): Promise<StaffRole | undefined>;
}
