import { access } from '../http/principal.js';
import { defineRoute, type ApiRouter } from '../http/route.js';
import { createAuthRateLimiters, type AuthRateLimitConfig } from './rate-limit.js';
import { confirmSchema, loginResultSchema, loginSchema, refreshResultSchema, refreshSchema, signUpResultSchema, signUpSchema } from './schemas.js';
import type { UserPoolFlows } from './user-pool-flows.js';

const throttledResponse = { description: 'Too many attempts (problem+json, code rate_limited, with Retry-After)' };

// Cognito users are platform-wide, so these routes need no tenant: they work through any restaurant's
// domain, or none.
const platformWide = '(platform-wide: served at any restaurant domain)';

export function registerAuthRoutes(api: ApiRouter, options: { flows: UserPoolFlows; rateLimit: AuthRateLimitConfig }): void {
  const { flows } = options;
  const limiters = createAuthRateLimiters(options.rateLimit);
  // Before the route declarations, so a throttled request never reaches Cognito.
  api.router.post('/v1/auth/signup', limiters.perIp);
  api.router.post('/v1/auth/login', limiters.perIp, limiters.failedLoginsPerEmail);

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/signup',
    summary: `Create an account in the user pool ${platformWide}`,
    tags: ['auth'],
    tenant: false,
    access: access.public,
    body: signUpSchema,
    responses: {
      201: { description: 'Account created', schema: signUpResultSchema },
      409: { description: 'An account with this email exists (problem+json, code conflict)' },
      429: throttledResponse,
    },
    handler: async ({ body }) => {
      const result = await flows.signUp(body);
      return { status: 201, body: { user_sub: result.userSub, confirmed: result.confirmed } };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/confirm',
    summary: `Confirm an account with the code sent by email ${platformWide}`,
    tags: ['auth'],
    tenant: false,
    access: access.public,
    body: confirmSchema,
    responses: { 204: { description: 'Confirmed' }, 429: throttledResponse },
    handler: async ({ body }) => {
      await flows.confirmSignUp(body.email, body.code);
      return { status: 204 };
    },
  });

  defineRoute(api, {
    method: 'post',
    path: '/v1/auth/login',
    summary: `Log in with email and password ${platformWide}`,
    tags: ['auth'],
    tenant: false,
    access: access.public,
    body: loginSchema,
    responses: {
      200: { description: 'Tokens', schema: loginResultSchema },
      401: { description: 'Wrong email or password (problem+json, code unauthenticated)' },
      429: throttledResponse,
    },
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
    tags: ['auth'],
    tenant: false,
    access: access.public,
    body: refreshSchema,
    responses: {
      200: { description: 'Tokens', schema: refreshResultSchema },
      401: { description: 'The refresh token is not valid or has expired (problem+json, code unauthenticated)' },
      429: throttledResponse,
    },
    handler: async ({ body, res }) => {
      const tokens = await flows.refresh(body.refresh_token);
      res.setHeader('Cache-Control', 'no-store');
      return { status: 200, body: { access_token: tokens.accessToken, id_token: tokens.idToken, expires_in: tokens.expiresIn } };
    },
  });
}
