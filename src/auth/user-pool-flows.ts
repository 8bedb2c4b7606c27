// The server side of Cognito's user-pool flows behind /v1/auth (API.md, "Auth"), through
// amazon-cognito-identity-js. Cognito's errors become our codes here, once; Cognito's own messages are
// never passed to the client (they can quote what was sent) except the password-policy sentence.

import {
  AuthenticationDetails,
  CognitoAccessToken,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
  type CognitoUserSession,
  type ICognitoStorage,
} from 'amazon-cognito-identity-js';
import type { Logger } from 'pino';
import { AppError, conflict, validationFailed } from '../lib/errors.js';
import type { UserPoolAdmin } from './user-pool-admin.js';

export interface SignUpInput {
  email: string;
  password: string;
  name?: string | undefined;
  phone?: string | undefined;
}

export interface SignUpResult {
  userSub: string;
  confirmed: boolean;
}

export interface SessionTokens {
  accessToken: string;
  idToken: string;
  /** Seconds the access token is valid for. */
  expiresIn: number;
}

export interface UserPoolFlows {
  signUp(input: SignUpInput): Promise<SignUpResult>;
  confirmSignUp(email: string, code: string): Promise<void>;
  logIn(email: string, password: string): Promise<SessionTokens & { refreshToken: string }>;
  refresh(refreshToken: string): Promise<SessionTokens>;
}

export interface UserPoolFlowsOptions {
  userPoolId: string;
  clientId: string;
  /** Set for an emulator (embedded cognito-local, or the one in docker compose). */
  endpoint: string | undefined;
  authFlow: 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH';
  /**
   * True against an emulator: it sends no email, so a new user is confirmed at once (API.md), and it
   * enforces no password policy, so Cognito's default one is checked here instead.
   */
  emulator: boolean;
  admin: UserPoolAdmin;
  logger: Logger;
}

type Operation = 'signup' | 'confirm' | 'login' | 'refresh';

/** A sign-in step (new password, MFA) this API does not offer; Cognito asked for it instead of tokens. */
class ChallengeRequiredError extends Error {
  override name = 'ChallengeRequiredError';
  readonly code = 'ChallengeRequired';
}

// The library keeps tokens in a process-wide in-memory map when no browser storage exists: on a server
// that would hold every user's tokens forever. This storage keeps nothing.
const noStorage: ICognitoStorage = {
  setItem: () => undefined,
  getItem: () => null,
  removeItem: () => undefined,
  clear: () => undefined,
};

/** Cognito's default password policy, which its emulators do not enforce; messages as Cognito words them. */
export function defaultPolicyViolation(password: string): string | undefined {
  if (password.length < 8) return 'Password not long enough';
  if (!/[A-Z]/.test(password)) return 'Password must have uppercase characters';
  if (!/[a-z]/.test(password)) return 'Password must have lowercase characters';
  if (!/[0-9]/.test(password)) return 'Password must have numeric characters';
  if (!/[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+ -]/.test(password)) return 'Password must have symbol characters';
  return undefined;
}

const POLICY_MESSAGE = /^Password did not conform with policy: ([A-Za-z0-9 ,.'-]{1,160})$/;

function cognitoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code ?? (error as { name?: unknown }).name;
  return typeof code === 'string' ? code : undefined;
}

const wrongCredentials = () =>
  new AppError('unauthenticated', 401, 'The email or password is not correct', undefined, { 'WWW-Authenticate': 'Bearer' });

const throttled = (detail: string) => new AppError('rate_limited', 429, detail, undefined, { 'Retry-After': '10' });

/**
 * Cognito's error for `operation` as ours (the table), or undefined when it is not the client's
 * doing (the caller logs it and answers 503).
 */
export function appErrorForCognito(operation: Operation, error: unknown): AppError | undefined {
  const code = cognitoCode(error);
  switch (code) {
    case 'UsernameExistsException':
    case 'AliasExistsException':
      return conflict('An account with this email already exists', [{ path: 'email', message: 'is already registered' }]);
    case 'InvalidPasswordException': {
      // The emulator says this for a wrong password at login (real Cognito: NotAuthorizedException).
      if (operation !== 'signup') return wrongCredentials();
      const message = error instanceof Error ? error.message : '';
      const reason = POLICY_MESSAGE.exec(message)?.[1] ?? 'it is too weak';
      return validationFailed(`The password does not meet the user pool's password policy: ${reason}`, [
        { path: 'password', message: 'does not meet the password policy' },
      ]);
    }
    case 'NotAuthorizedException':
    case 'UserNotFoundException':
      if (operation === 'refresh') {
        return new AppError('unauthenticated', 401, 'The refresh token is not valid or has expired; log in again', undefined, { 'WWW-Authenticate': 'Bearer' });
      }
      // On confirm this is an unknown user or one already confirmed: answered like a wrong code, so the
      // route does not tell which emails have accounts.
      if (operation === 'confirm') return validationFailed('The confirmation code is not valid for this email', [{ path: 'code', message: 'does not match' }]);
      return wrongCredentials();
    case 'UserNotConfirmedException':
      return new AppError('unauthenticated', 401, 'This account is not confirmed yet: confirm it with the code sent by email (POST /v1/auth/confirm)');
    case 'PasswordResetRequiredException':
      return new AppError('unauthenticated', 401, 'This account must reset its password before it can log in');
    case 'ChallengeRequired':
      return new AppError('unauthenticated', 401, 'This account must complete a sign-in step (such as a new password or MFA) that this API does not offer');
    case 'CodeMismatchException':
      return validationFailed('The confirmation code is not valid for this email', [{ path: 'code', message: 'does not match' }]);
    case 'ExpiredCodeException':
      return validationFailed('The confirmation code has expired', [{ path: 'code', message: 'has expired' }]);
    case 'InvalidParameterException':
    case 'UserLambdaValidationException':
      return validationFailed('The identity service refused the request; check the email, name and phone');
    case 'TooManyRequestsException':
    case 'TooManyFailedAttemptsException':
    case 'LimitExceededException':
      return throttled('Too many attempts; try again later');
    default:
      return undefined;
  }
}

function expiresIn(accessToken: string, reported: unknown): number {
  if (typeof reported === 'number' && reported > 0) return reported;
  // The emulator reports no ExpiresIn: the token's own lifetime is the same number.
  const token = new CognitoAccessToken({ AccessToken: accessToken });
  return Math.max(0, token.getExpiration() - token.getIssuedAt());
}

/** The low-level request of the library, used for refresh: `CognitoUser.refreshSession` retries every error for seconds. */
type RawRequest = (operation: string, params: object, callback: (error: unknown, data?: unknown) => void) => void;

export function createUserPoolFlows(options: UserPoolFlowsOptions): UserPoolFlows {
  const pool = new CognitoUserPool({
    UserPoolId: options.userPoolId,
    ClientId: options.clientId,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    Storage: noStorage,
  });
  const client = (pool as unknown as { client: { request: RawRequest } }).client;
  const userFor = (email: string) => {
    const user = new CognitoUser({ Username: email, Pool: pool, Storage: noStorage });
    user.setAuthenticationFlowType(options.authFlow);
    return user;
  };

  const run = async <T>(operation: Operation, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError) throw error;
      const mapped = appErrorForCognito(operation, error);
      if (mapped !== undefined) throw mapped;
      // The code only: Cognito's message can quote the request.
      options.logger.error({ operation, cognitoError: cognitoCode(error) ?? 'unknown' }, 'Cognito user-pool call failed');
      throw new AppError('service_unavailable', 503, 'The identity service cannot be reached right now; try again shortly', undefined, { 'Retry-After': '5' });
    }
  };

  return {
    signUp: (input) =>
      run('signup', async () => {
        if (options.emulator) {
          const violation = defaultPolicyViolation(input.password);
          if (violation !== undefined) {
            throw Object.assign(new Error(`Password did not conform with policy: ${violation}`), { code: 'InvalidPasswordException' });
          }
        }
        const attributes = [new CognitoUserAttribute({ Name: 'email', Value: input.email })];
        if (input.name !== undefined) attributes.push(new CognitoUserAttribute({ Name: 'name', Value: input.name }));
        if (input.phone !== undefined) attributes.push(new CognitoUserAttribute({ Name: 'phone_number', Value: input.phone }));
        const result = await new Promise<{ userSub: string; userConfirmed: boolean }>((resolve, reject) => {
          pool.signUp(input.email, input.password, attributes, [], (error, data) => {
            if (error || data === undefined) reject(error ?? new Error('SignUp returned nothing'));
            else resolve(data);
          });
        });
        let confirmed = result.userConfirmed;
        if (!confirmed && options.emulator) {
          try {
            await options.admin.confirmSignUp(input.email);
            confirmed = true;
          } catch {
            // Logged by the admin client; the user can still confirm with the code the emulator logs.
          }
        }
        return { userSub: result.userSub, confirmed };
      }),

    confirmSignUp: (email, code) =>
      run('confirm', async () => {
        await new Promise<void>((resolve, reject) => {
          userFor(email).confirmRegistration(code, false, (error) => {
            if (error) reject(error);
            else resolve();
          });
        });
      }),

    logIn: (email, password) =>
      run('login', async () => {
        const session = await new Promise<CognitoUserSession>((resolve, reject) => {
          const challenge = () => reject(new ChallengeRequiredError());
          userFor(email).authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), {
            onSuccess: resolve,
            onFailure: reject,
            newPasswordRequired: challenge,
            mfaRequired: challenge,
            totpRequired: challenge,
            customChallenge: challenge,
            mfaSetup: challenge,
            selectMFAType: challenge,
          });
        });
        const accessToken = session.getAccessToken().getJwtToken();
        return {
          accessToken,
          idToken: session.getIdToken().getJwtToken(),
          refreshToken: session.getRefreshToken().getToken(),
          expiresIn: expiresIn(accessToken, undefined),
        };
      }),

    refresh: (refreshToken) =>
      run('refresh', async () => {
        const data = await new Promise<unknown>((resolve, reject) => {
          client.request(
            'InitiateAuth',
            { ClientId: options.clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refreshToken } },
            (error, result) => (error ? reject(error) : resolve(result)),
          );
        });
        const result = (data as { AuthenticationResult?: { AccessToken?: unknown; IdToken?: unknown; ExpiresIn?: unknown } }).AuthenticationResult;
        if (typeof result?.AccessToken !== 'string' || typeof result.IdToken !== 'string') {
          throw Object.assign(new Error('REFRESH_TOKEN_AUTH returned no tokens'), { code: 'ChallengeRequired' });
        }
        return { accessToken: result.AccessToken, idToken: result.IdToken, expiresIn: expiresIn(result.AccessToken, result.ExpiresIn) };
      }),
  };
}
