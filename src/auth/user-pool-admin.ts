import {
  AdminConfirmSignUpCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  UserNotFoundException,
  type AttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Logger } from 'pino';
import { AppError } from '../lib/errors.js';
import type { DirectoryUser, UserDirectory } from '../lib/identity.js';
import { cleanText } from '../lib/text.js';

export type { DirectoryUser, UserDirectory } from '../lib/identity.js';

export interface UserPoolAdmin extends UserDirectory {
  /** Marks a signed-up user confirmed. Only ever called against an emulator (see user-pool-flows.ts). */
  confirmSignUp(username: string): Promise<void>;
}

export interface UserPoolAdminOptions {
  userPoolId: string;
  region: string;
  /** Set for an emulator: it checks no signature, but the SDK signs nothing without credentials. */
  endpoint: string | undefined;
  logger: Logger;
}

const attribute = (attributes: AttributeType[] | undefined, name: string): string | undefined => attributes?.find((a) => a.Name === name)?.Value;

const unavailable = () =>
  new AppError('service_unavailable', 503, 'The identity service cannot be reached right now; try again shortly', undefined, { 'Retry-After': '5' });

/**
 * The admin side of the user pool (AdminGetUser, AdminConfirmSignUp) through the AWS SDK. Against real
 * Cognito the process needs IAM credentials allowing `cognito-idp:AdminGetUser` on the pool (README).
 */
export function createUserPoolAdmin(options: UserPoolAdminOptions): UserPoolAdmin {
  const client = new CognitoIdentityProviderClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } }),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
  });
  const fail = (operation: string, error: unknown): never => {
    // The name only: SDK messages can quote the request (an email, a username).
    options.logger.error({ operation, error: error instanceof Error ? error.name : typeof error }, 'Cognito admin call failed');
    throw unavailable();
  };

  return {
    async findUser(key: string): Promise<DirectoryUser | undefined> {
      try {
        const user = await client.send(new AdminGetUserCommand({ UserPoolId: options.userPoolId, Username: key }));
        const sub = attribute(user.UserAttributes, 'sub');
        if (sub === undefined) return undefined;
        // The pool stores what it was given (a NUL in a name, say): cleaned here, before anything of ours stores it.
        const text = (name: string) => {
          const value = attribute(user.UserAttributes, name);
          return value === undefined ? undefined : cleanText(value);
        };
        return { sub, email: text('email')?.toLowerCase(), name: text('name'), phone: text('phone_number') };
      } catch (error) {
        if (error instanceof UserNotFoundException || (error instanceof Error && error.name === 'UserNotFoundException')) return undefined;
        return fail('AdminGetUser', error);
      }
    },

    async confirmSignUp(username: string): Promise<void> {
      try {
        await client.send(new AdminConfirmSignUpCommand({ UserPoolId: options.userPoolId, Username: username }));
      } catch (error) {
        fail('AdminConfirmSignUp', error);
      }
    },
  };
}
