import { isUtf8 } from 'node:buffer';
import express, { type Express } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { httpLogger } from './http/logging.js';
import { AppError, errorMiddleware, sendProblem, validationFailed } from './http/errors.js';
import { corsMiddleware } from './http/cors.js';
import { requireHttps } from './http/https.js';
import { createRegistry, generateOpenApiDocument, type OpenApiDocument } from './http/openapi.js';
import { createApiRouter } from './http/route.js';
import { createTenantResolver } from './http/tenant.js';
import type { Authenticator } from './http/principal.js';
import { registerHealthRoutes, type Readiness } from './modules/health/routes.js';
import { registerRestaurantRoutes } from './modules/restaurants/routes.js';
import { registerAuthRoutes } from './auth/routes.js';
import type { AuthRateLimitConfig } from './auth/rate-limit.js';
import type { IdentityServices } from './auth/identity.js';
import { registerStaffRoutes } from './modules/staff/routes.js';
import { registerCustomerRoutes } from './modules/customers/routes.js';
import { registerIngredientRoutes } from './modules/ingredients/routes.js';
import { registerRecipeRoutes } from './modules/recipes/routes.js';
import { httpMetricsMiddleware, type Metrics } from './metrics.js';
import { registerCartRoutes } from './modules/cart/routes.js';
import { registerOrderRoutes } from './modules/orders/routes.js';
import { registerPaymentRoutes } from './modules/payments/routes.js';
import type { PaymentProvider } from './modules/payments/providers/types.js';

export interface AppDeps {
  production: boolean;
  db: Knex;
  logger: Logger;
  authenticator: Authenticator;
  readiness: Readiness;
  /** The user pool's flows (/v1/auth) and directory (looking users up by email or sub). */
  identity: IdentityServices;
  authRateLimit: AuthRateLimitConfig;
  metrics: Metrics;
  /** The card payment provider PAYMENT_PROVIDER names (`test` when embedded). */
  paymentProvider: PaymentProvider;
  /** Asks the outbox relay to send now rather than at its next poll (absent in an API-only process). */
  nudgeOutbox?: () => void;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The unparsed body, kept for routes that verify a signature over it (payment webhooks). */
    rawBody?: Buffer;
  }
}

/** The express app with its middleware in order and every router mounted; performs no I/O itself. */
export function buildApp(deps: AppDeps): { app: Express; openApi: OpenApiDocument } {
  const app = express();
  // One proxy hop: the load balancer. Trusting more would let a client forge X-Forwarded-For.
  app.set('trust proxy', 1);
  app.set('etag', 'strong');
  app.disable('x-powered-by');

  app.use(httpLogger(deps.logger));
  app.use(httpMetricsMiddleware(deps.metrics));
  if (deps.production) app.use(requireHttps());
  app.use(helmet());
  app.use(corsMiddleware(deps.db, deps.production));
  app.use(
    express.json({
      limit: '100kb',
      strict: true,
      verify: (req, _res, buf, encoding) => {
        // The decoder would put U+FFFD for bytes that are not UTF-8; refuse them instead of storing that.
        if (encoding.toLowerCase().replace('-', '') === 'utf8' && !isUtf8(buf)) throw validationFailed('The request body is not valid UTF-8');
        (req as express.Request).rawBody = buf;
      },
    }),
  );

  const registry = createRegistry();
  const api = createApiRouter({ db: deps.db, logger: deps.logger, authenticator: deps.authenticator, tenants: createTenantResolver(deps.db) }, registry);
  registerHealthRoutes(api, deps.readiness);
  registerAuthRoutes(api, { flows: deps.identity.flows, rateLimit: deps.authRateLimit });
  registerRestaurantRoutes(api, deps.identity.directory);
  registerStaffRoutes(api, deps.identity.directory);
  registerCustomerRoutes(api, deps.identity.directory);
  registerIngredientRoutes(api);
  registerRecipeRoutes(api);
  registerCartRoutes(api, deps.identity.directory);
  registerOrderRoutes(api, deps.identity.directory, () => deps.nudgeOutbox?.());
  registerPaymentRoutes(api, deps.identity.directory, deps.paymentProvider, () => deps.nudgeOutbox?.());
  app.use(api.router);

  const openApi = generateOpenApiDocument(registry);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  // Swagger UI ships inline scripts and styles; relax the CSP for /docs only.
  app.use('/docs', helmet({ contentSecurityPolicy: false }), swaggerUi.serve, swaggerUi.setup(openApi, { customSiteTitle: 'Tablekit API' }));

  app.use((req, res) => {
    sendProblem(res, new AppError('not_found', 404, `No route for ${req.method} ${req.path}`));
  });
  app.use(errorMiddleware(deps.logger));
  return { app, openApi };
}
