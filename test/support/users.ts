import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { callCognito, ensureUser, type EmbeddedCognito } from '../../src/local/cognito.js';
import type { StaffRole } from '../../src/http/principal.js';

export const TEST_PASSWORD = 'Test-password-1!';

export interface SignedInUser {
  email: string;
  sub: string;
  token: string;
  /** `Authorization` header value. */
  auth: string;
}

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomBytes(5).toString('hex')}@example.com`;

/** Creates the user in the embedded Cognito (if new) and logs in as a client would, for an access token. */
export async function signIn(cognito: EmbeddedCognito, email: string, options: { groups?: string[] } = {}): Promise<SignedInUser> {
  const { sub } = await ensureUser(cognito, { email, password: TEST_PASSWORD, groups: options.groups ?? [] });
  const result = await callCognito<{ AuthenticationResult: { AccessToken: string } }>(cognito.endpoint, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: cognito.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: TEST_PASSWORD },
  });
  const token = result.AuthenticationResult.AccessToken;
  return { email: email.toLowerCase(), sub, token, auth: `Bearer ${token}` };
}

export async function signInCustomer(cognito: EmbeddedCognito, email = uniqueEmail('customer')): Promise<SignedInUser> {
  return signIn(cognito, email);
}

export async function signInPlatformAdmin(cognito: EmbeddedCognito, email = uniqueEmail('admin')): Promise<SignedInUser> {
  return signIn(cognito, email, { groups: ['platform-admin'] });
}

/** A signed-in user with a staff role in one restaurant. */
export async function signInStaff(
  cognito: EmbeddedCognito,
  knex: Knex,
  restaurantId: number,
  role: StaffRole,
  email = uniqueEmail(role),
): Promise<SignedInUser> {
  const user = await signIn(cognito, email);
  await knex('staff_members')
    .insert({ restaurant_id: restaurantId, user_sub: user.sub, email: user.email, role })
    .onConflict(['restaurant_id', 'user_sub'])
    .merge({ role });
  return user;
}
