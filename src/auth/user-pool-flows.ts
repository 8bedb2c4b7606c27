// The server side of Cognito's user-pool flows behind /v1/auth (API.md, "Auth"). Every call goes
// through the AWS SDK except the SRP login, which amazon-cognito-identity-js computes (the SDK has no
// SRP). Cognito's errors become our codes here, once; Cognito's own messages are never passed to the
// client (they can quote what was sent) except the password-policy sentence.

import {
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  RevokeTokenCommand,
  SignUpCommand,
  type AttributeType,
  type AuthenticationResultType,
} from '@aws-sdk/client-cognito-identity-provider';
import { AuthenticationDetails, CognitoUser, CognitoUserPool, type CognitoUserSession, type ICognitoStorage } from 'amazon-cognito-identity-js';
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
  /** Has the pool send a reset code to the email; resolves the same whether or not the account exists. */
  forgotPassword(email: string): Promise<void>;
  /** Sets a new password with the code from forgotPassword. */
  resetPassword(email: string, code: string, password: string): Promise<void>;
  /** Revokes the refresh token (and, at Cognito, the tokens it issued); resolves too when it was no longer valid. */
  logOut(refreshToken: string): Promise<void>;
}

export interface UserPoolFlowsOptions {
  userPoolId: string;
  clientId: string;
  region: string;
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

type Operation = 'signup' | 'confirm' | 'login' | 'refresh' | 'forgot-password' | 'reset-password' | 'logout';

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

const wrongCredentials = () => new AppError('unauthenticated', 401, 'The email or password is not correct', undefined, { 'WWW-Authenticate': 'Bearer' });

const throttled = (detail: string) => new AppError('rate_limited', 429, detail, undefined, { 'Retry-After': '10' });

const badCode = (operation: Operation) =>
  validationFailed(operation === 'reset-password' ? 'The reset code is not valid for this email' : 'The confirmation code is not valid for this email', [
    { path: 'code', message: 'does not match' },
  ]);

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
      if (operation !== 'signup' && operation !== 'reset-password') return wrongCredentials();
      const message = error instanceof Error ? error.message : '';
      const reason = POLICY_MESSAGE.exec(message)?.[1] ?? 'it is too weak';
      return validationFailed(`The password does not meet the user pool's password policy: ${reason}`, [
        { path: 'password', message: 'does not meet the password policy' },
      ]);
    }
    case 'NotAuthorizedException':
    case 'UserNotFoundException':
      if (operation === 'refresh' || operation === 'logout') {
        return new AppError('unauthenticated', 401, 'The refresh token is not valid or has expired; log in again', undefined, { 'WWW-Authenticate': 'Bearer' });
      }
      // On confirm and reset this is an unknown user or one that cannot take the code: answered like a
      // wrong code, so the route does not tell which emails have accounts.
      if (operation === 'confirm' || operation === 'reset-password') return badCode(operation);
      return wrongCredentials();
    case 'UnauthorizedException':
      // RevokeToken and refresh with a token of another app client.
      if (operation === 'refresh' || operation === 'logout') {
        return new AppError('unauthenticated', 401, 'The refresh token is not valid or has expired; log in again', undefined, { 'WWW-Authenticate': 'Bearer' });
      }
      return undefined;
    case 'UserNotConfirmedException':
      return new AppError('unauthenticated', 401, 'This account is not confirmed yet: confirm it with the code sent by email (POST /v1/auth/confirm)');
    case 'PasswordResetRequiredException':
      return new AppError('unauthenticated', 401, 'This account must reset its password before it can log in (POST /v1/auth/forgot-password)');
    case 'ChallengeRequired':
      return new AppError('unauthenticated', 401, 'This account must complete a sign-in step (such as a new password or MFA) that this API does not offer');
    case 'CodeMismatchException':
      return badCode(operation);
    case 'ExpiredCodeException':
      return validationFailed(
        operation === 'reset-password' ? 'The reset code has expired: ask for a new one (POST /v1/auth/forgot-password)' : 'The confirmation code has expired',
        [{ path: 'code', message: 'has expired' }],
      );
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

/** Cognito errors after which forgot-password still answers as if a code went out: they would tell whether the account exists. */
const SILENT_ON_FORGOT = new Set([
  'UserNotFoundException',
  'NotAuthorizedException',
  'InvalidParameterException',
  'LimitExceededException',
  'CodeDeliveryFailureException',
]);
/** Cognito errors that mean the refresh token can no longer be used, so logging out with it is already done. */
const ALREADY_LOGGED_OUT = new Set(['NotAuthorizedException', 'UnsupportedTokenTypeException', 'InvalidParameterException']);

/** Seconds until a JWT's `exp` from its `iat`; the emulator reports no ExpiresIn, and the token's lifetime is the same number. */
function tokenLifetime(jwt: string): number {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown; iat?: unknown };
    return typeof payload.exp === 'number' && typeof payload.iat === 'number' ? Math.max(0, payload.exp - payload.iat) : 0;
  } catch {
    return 0;
  }
}

function sessionOf(result: AuthenticationResultType | undefined): SessionTokens {
  if (typeof result?.AccessToken !== 'string' || typeof result.IdToken !== 'string') {
    throw Object.assign(new Error('InitiateAuth returned no tokens'), { code: 'ChallengeRequired' });
  }
  const reported = result.ExpiresIn;
  return {
    accessToken: result.AccessToken,
    idToken: result.IdToken,
    expiresIn: typeof reported === 'number' && reported > 0 ? reported : tokenLifetime(result.AccessToken),
  };
}

export function createUserPoolFlows(options: UserPoolFlowsOptions): UserPoolFlows {
  const client = new CognitoIdentityProviderClient({
    region: options.region,
    // These operations are unsigned at Cognito; an emulator endpoint gets placeholder credentials so the SDK never looks for real ones.
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } }),
    // One attempt: a retried ForgotPassword mails a second code, and the client retries a 503 itself.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
  });
  const ClientId = options.clientId;
  // Only for SRP, which the SDK cannot compute.
  const pool = new CognitoUserPool({
    UserPoolId: options.userPoolId,
    ClientId,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    Storage: noStorage,
  });

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
  /** The emulator enforces no password policy: check Cognito's default one here, as Cognito would. */
  const checkPolicy = (password: string) => {
    const violation = options.emulator ? defaultPolicyViolation(password) : undefined;
    if (violation !== undefined) throw Object.assign(new Error(`Password did not conform with policy: ${violation}`), { code: 'InvalidPasswordException' });
  };

  const srpLogIn = (email: string, password: string) =>
    new Promise<CognitoUserSession>((resolve, reject) => {
      const challenge = () => reject(new ChallengeRequiredError());
      const user = new CognitoUser({ Username: email, Pool: pool, Storage: noStorage });
      user.setAuthenticationFlowType('USER_SRP_AUTH');
      user.authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), {
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

  return {
    signUp: (input) =>
      run('signup', async () => {
        checkPolicy(input.password);
        const attributes: AttributeType[] = [{ Name: 'email', Value: input.email }];
        if (input.name !== undefined) attributes.push({ Name: 'name', Value: input.name });
        if (input.phone !== undefined) attributes.push({ Name: 'phone_number', Value: input.phone });
        const result = await client.send(new SignUpCommand({ ClientId, Username: input.email, Password: input.password, UserAttributes: attributes }));
        if (result.UserSub === undefined) throw new Error('SignUp returned no sub');
        let confirmed = result.UserConfirmed === true;
        if (!confirmed && options.emulator) {
          try {
            await options.admin.confirmSignUp(input.email);
            confirmed = true;
          } catch {
            // Logged by the admin client; the user can still confirm with the code the emulator logs.
          }
        }
        return { userSub: result.UserSub, confirmed };
      }),

    confirmSignUp: (email, code) =>
      run('confirm', async () => {
        await client.send(new ConfirmSignUpCommand({ ClientId, Username: email, ConfirmationCode: code, ForceAliasCreation: false }));
      }),

    logIn: (email, password) =>
      run('login', async () => {
        if (options.authFlow === 'USER_SRP_AUTH') {
          const session = await srpLogIn(email, password);
          const accessToken = session.getAccessToken().getJwtToken();
          return {
            accessToken,
            idToken: session.getIdToken().getJwtToken(),
            refreshToken: session.getRefreshToken().getToken(),
            expiresIn: tokenLifetime(accessToken),
          };
        }
        const answer = await client.send(
          new InitiateAuthCommand({ ClientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }),
        );
        const refreshToken = answer.AuthenticationResult?.RefreshToken;
        if (typeof refreshToken !== 'string') throw Object.assign(new Error('InitiateAuth returned no refresh token'), { code: 'ChallengeRequired' });
        return { ...sessionOf(answer.AuthenticationResult), refreshToken };
      }),

    refresh: (refreshToken) =>
      run('refresh', async () => {
        const answer = await client.send(
          new InitiateAuthCommand({ ClientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refreshToken } }),
        );
        return sessionOf(answer.AuthenticationResult);
      }),

    forgotPassword: (email) =>
      run('forgot-password', async () => {
        try {
          await client.send(new ForgotPasswordCommand({ ClientId, Username: email }));
        } catch (error) {
          const code = cognitoCode(error);
          if (code === undefined || !SILENT_ON_FORGOT.has(code)) throw error;
          options.logger.info({ operation: 'forgot-password', cognitoError: code }, 'no reset code sent');
        }
      }),

    resetPassword: (email, code, password) =>
      run('reset-password', async () => {
        checkPolicy(password);
        await client.send(new ConfirmForgotPasswordCommand({ ClientId, Username: email, ConfirmationCode: code, Password: password }));
      }),

    logOut: (refreshToken) =>
      run('logout', async () => {
        try {
          await client.send(new RevokeTokenCommand({ ClientId, Token: refreshToken }));
        } catch (error) {
          const code = cognitoCode(error);
          if (code === undefined || !ALREADY_LOGGED_OUT.has(code)) throw error;
        }
      }),
  };
}
