import { access } from '../http/principal.js';
import { defineRoute, type ApiRouter } from '../http/route.js';
import { createAuthRateLimiters, type AuthRateLimitConfig } from './rate-limit.js';
import {
  confirmSchema,
  forgotPasswordSchema,
  loginResultSchema,
  loginSchema,
  logoutSchema,
  refreshResultSchema,
  refreshSchema,
  resetPasswordSchema,
  signUpResultSchema,
  signUpSchema,
} from './schemas.js';
import type { UserPoolFlows } from './user-pool-flows.js';

// Cognito users are platform-wide, so these routes need no tenant: they work through any restaurant's
// domain, or none.
const platformWide = '(platform-wide: served at any restaurant domain)';
const tags = ['auth'];
const identityDown = { service_unavailable: 'The user pool cannot be reached, or the rate-limit counters cannot be read' };

export function registerAuthRoutes(api: ApiRouter, options: { flows: UserPoolFlows; rateLimit: AuthRateLimitConfig }): void {
  const { flows } = options;
  const limiters = createAuthRateLimiters(options.rateLimit, { db: api.deps.db });

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/signup',
    summary: `Create an account in the user pool ${platformWide}`,
    description:
      'Creates a user with email as the username. Against Amazon Cognito a confirmation code goes by email (POST /v1/auth/confirm); the embedded identity server confirms at once. Limited per client IP.',
    tags,
    tenant: false,
    access: access.public,
    rateLimit: [limiters.perIp],
    body: signUpSchema,
    responses: { 201: { description: 'Account created', schema: signUpResultSchema } },
    errors: { conflict: 'An account with this email exists', ...identityDown },
    handler: async ({ body }) => {
      const result = await flows.signUp(body);
      return { status: 201, body: { user_sub: result.userSub, confirmed: result.confirmed } };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/confirm',
    summary: `Confirm an account with the code sent by email ${platformWide}`,
    description:
      'A wrong code and an unknown email get the same 400, so the route tells no one which emails have accounts. Limited per client IP, and failures per email.',
    tags,
    tenant: false,
    access: access.public,
    rateLimit: [limiters.perIp, limiters.failedPerEmail('confirm')],
    body: confirmSchema,
    responses: { 204: { description: 'Confirmed' } },
    errors: identityDown,
    handler: async ({ body }) => {
      await flows.confirmSignUp(body.email, body.code);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/login',
    summary: `Log in with email and password ${platformWide}`,
    description:
      'Returns Cognito tokens: send the access token as a bearer token, keep the refresh token for POST /v1/auth/refresh. Limited per client IP, and failed logins per email whatever the IP.',
    tags,
    tenant: false,
    access: access.public,
    rateLimit: [limiters.perIp, limiters.failedPerEmail('login')],
    body: loginSchema,
    responses: { 200: { description: 'Tokens', schema: loginResultSchema } },
    errors: { unauthenticated: 'Wrong email or password, or the account is not confirmed', ...identityDown },
    handler: async ({ body, res }) => {
      const tokens = await flows.logIn(body.email, body.password);
      res.setHeader('Cache-Control', 'no-store');
      return {
        status: 200,
        body: { access_token: tokens.accessToken, id_token: tokens.idToken, refresh_token: tokens.refreshToken, expires_in: tokens.expiresIn },
      };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/refresh',
    summary: `New access and id tokens for a refresh token ${platformWide}`,
    description: 'Answers the same shape as login without a new refresh token. A revoked (logged out) or expired refresh token is 401. Limited per client IP.',
    tags,
    tenant: false,
    access: access.public,
    rateLimit: [limiters.perIpForTokens],
    body: refreshSchema,
    responses: { 200: { description: 'Tokens', schema: refreshResultSchema } },
    errors: { unauthenticated: 'The refresh token is not valid, revoked or expired', ...identityDown },
    handler: async ({ body, res }) => {
      const tokens = await flows.refresh(body.refresh_token);
      res.setHeader('Cache-Control', 'no-store');
      return { status: 200, body: { access_token: tokens.accessToken, id_token: tokens.idToken, expires_in: tokens.expiresIn } };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/forgot-password',
    summary: `Send a password-reset code to an email ${platformWide}`,
    description:
      'Always 204, whether or not the email has an account, so nobody learns which do. The code goes by email (the embedded identity server writes it to the log); use it with POST /v1/auth/reset-password. Limited per client IP and per email.',
    tags,
    tenant: false,
    access: access.public,
    rateLimit: [limiters.perIp, limiters.perEmail('forgot-password')],
    body: forgotPasswordSchema,
    responses: { 204: { description: 'A code was sent if the account exists' } },
    errors: identityDown,
    handler: async ({ body }) => {
      await flows.forgotPassword(body.email);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/reset-password',
    summary: `Set a new password with the reset code ${platformWide}`,
    description:
      "A wrong or expired code, or an unknown email, is 400 naming `code`; a password the pool's policy refuses is 400 naming `password`. Limited per client IP, and failures per email.",
    tags,
    tenant: false,
    access: access.public,
    rateLimit: [limiters.perIp, limiters.failedPerEmail('reset-password')],
    body: resetPasswordSchema,
    responses: { 204: { description: 'The password is changed: log in with it' } },
    errors: identityDown,
    handler: async ({ body }) => {
      await flows.resetPassword(body.email, body.code, body.password);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/logout',
    summary: `Log out: revoke a refresh token ${platformWide}`,
    description:
      'After it, POST /v1/auth/refresh with this token is 401. Answers 204 too when the token was already invalid. Access tokens already issued stay valid until they expire (at most an hour). Limited per client IP.',
    tags,
    tenant: false,
    access: access.public,
    rateLimit: [limiters.perIpForTokens],
    body: logoutSchema,
    responses: { 204: { description: 'The refresh token no longer works' } },
    errors: { unauthenticated: 'The refresh token belongs to another app client', ...identityDown },
    handler: async ({ body }) => {
      await flows.logOut(body.refresh_token);
      return { status: 204 };
    },
  });
}
