import { isUtf8 } from 'node:buffer';
import express, { type Express } from 'express';
import helmet from 'helmet';
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
import { findRestaurantByDomain, restaurantDomainExists } from './modules/restaurants/service.js';
import { registerAuthRoutes } from './auth/routes.js';
import type { AuthRateLimitConfig } from './auth/rate-limit.js';
import type { IdentityServices } from './auth/identity.js';
import { registerStaffRoutes } from './modules/staff/routes.js';
import { registerCustomerRoutes } from './modules/customers/routes.js';
import { savedPreferences } from './modules/customers/service.js';
import { systemClock, type Clock } from './lib/clock.js';
import { registerIngredientRoutes } from './modules/catalog/ingredients-routes.js';
import { registerRecipeRoutes } from './modules/catalog/recipes-routes.js';
import { httpMetricsMiddleware, type Metrics } from './metrics.js';
import { registerCartRoutes } from './modules/cart/routes.js';
import { registerOrderRoutes } from './modules/orders/routes.js';
import { registerPaymentRoutes } from './modules/payments/routes.js';
import type { PaymentProvider } from './modules/payments/providers/types.js';
import { onOrderReleased } from './modules/orders/hooks.js';
import { refundReleasedOrder } from './modules/payments/settlement.js';
import { registerPricingRoutes } from './modules/pricing/routes.js';
import { registerLiveRoutes } from './modules/live/routes.js';
import type { OrderStreams } from './modules/live/stream.js';
import { kitchenScreen } from './kitchen/serve.js';
import type { TrustProxy } from './config/config.js';
import type { MediaStore } from './modules/media/store.js';
import type { RouteDeps } from './http/route.js';
import { registerDeliveryZoneRoutes } from './modules/delivery-zones/routes.js';
import { registerCouponRoutes } from './modules/coupons/routes.js';
import { registerScheduleRoutes } from './modules/schedule/routes.js';
import { onStockThresholdCrossed } from './modules/catalog/index.js';
import { onOrderPaymentStatusChanged } from './modules/orders/hooks.js';
import { emitIngredientWebhooks, emitOrderPaymentWebhooks, emitRestaurantEvent } from './modules/webhooks/index.js';
import { onPauseChanged } from './modules/schedule/service.js';
import { registerWebhookRoutes } from './modules/webhooks/routes.js';

export interface AppDeps {
  production: boolean;
  /** Which proxies' X-Forwarded-For decides the client address (TRUST_PROXY). */
  trustProxy: TrustProxy;
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
  /** Recipe pictures: S3 (embedded: the S3-compatible server in this process). */
  media: MediaStore;
  /** This process's open order streams (GET /v1/orders/stream), fed by its LISTEN connection. */
  orderStreams: OrderStreams;
  /** Tests pass one to fail on answers the OpenAPI document does not list. */
  onUndocumentedError?: RouteDeps['onUndocumentedError'];
  /** What "now" is for the schedule (hours, slots, pauses); tests set it. Default: the system clock. */
  clock?: Clock;
  /**
   * API.md "Limits on one customer": MAX_OPEN_UNPAID_ORDERS (default 3, the config's), and 10 checkouts and 10
   * card payment attempts a minute. Tests that place many orders as one customer loosen them.
   */
  customerLimits?: Partial<CustomerLimits>;
}

export interface CustomerLimits {
  maxOpenUnpaidOrders: number;
  checkoutsPerMinute: number;
  paymentAttemptsPerMinute: number;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The unparsed body, kept for routes that verify a signature over it (payment webhooks). */
    rawBody?: Buffer;
  }
}

/** The express app with its middleware in order and every router mounted; performs no I/O itself. */
export function buildApp(deps: AppDeps): { app: Express; openApiDocument: () => OpenApiDocument } {
  const app = express();
  // Only the proxies in front of us may say who the client is: trusting more lets a client forge X-Forwarded-For.
  app.set('trust proxy', deps.trustProxy);
  app.set('etag', 'strong');
  app.disable('x-powered-by');

  app.use(httpLogger(deps.logger));
  app.use(httpMetricsMiddleware(deps.metrics));
  if (deps.production) app.use(requireHttps());
  app.use(helmet());
  app.use(corsMiddleware((domain) => restaurantDomainExists(deps.db, domain), deps.production));
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

  // Orders announce, payments listen: payments depends on orders, never the reverse.
  onOrderReleased(refundReleasedOrder);
  // Catalog and orders announce, webhooks listens (and writes its deliveries in their transaction).
  onStockThresholdCrossed(emitIngredientWebhooks);
  onOrderPaymentStatusChanged(emitOrderPaymentWebhooks);
  onPauseChanged((trx, change) =>
    emitRestaurantEvent(
      trx,
      change.restaurantId,
      change.kind === 'paused' ? 'restaurant.paused' : 'restaurant.resumed',
      change.kind === 'paused' ? { paused_until: change.pausedUntil.toISOString(), reason: change.reason } : {},
    ).then(() => undefined),
  );

  const registry = createRegistry();
  const api = createApiRouter(
    {
      db: deps.db,
      logger: deps.logger,
      authenticator: deps.authenticator,
      tenants: createTenantResolver((domain) => findRestaurantByDomain(deps.db, domain)),
      media: deps.media,
      onUndocumentedError: deps.onUndocumentedError,
    },
    registry,
  );
  registerHealthRoutes(api, deps.readiness);
  registerAuthRoutes(api, { flows: deps.identity.flows, rateLimit: deps.authRateLimit });
  const clock = deps.clock ?? systemClock;
  const limits: CustomerLimits = { maxOpenUnpaidOrders: 3, checkoutsPerMinute: 10, paymentAttemptsPerMinute: 10, ...deps.customerLimits };
  registerRestaurantRoutes(api, deps.identity.directory, clock);
  registerScheduleRoutes(api, clock);
  registerStaffRoutes(api, deps.identity.directory);
  registerCustomerRoutes(api, deps.identity.directory);
  registerIngredientRoutes(api, deps.clock ?? systemClock);
  // The menu applies a customer's saved preferences; customers own them, the catalog only asks.
  registerRecipeRoutes(api, { preferencesOf: (restaurantId, userSub) => savedPreferences(deps.db, restaurantId, userSub) });
  registerCartRoutes(api, deps.identity.directory);
  registerLiveRoutes(api, deps.identity.directory, deps.orderStreams, deps.metrics.registry);
  registerOrderRoutes(api, deps.identity.directory, () => deps.nudgeOutbox?.(), clock, limits);
  registerPaymentRoutes(api, deps.identity.directory, deps.paymentProvider, () => deps.nudgeOutbox?.(), {
    clock,
    attemptsPerMinute: limits.paymentAttemptsPerMinute,
  });
  registerPricingRoutes(api);
  registerDeliveryZoneRoutes(api);
  registerCouponRoutes(api);
  registerWebhookRoutes(api, { production: deps.production });
  app.use(api.router);
  app.use('/kitchen', kitchenScreen({ production: deps.production }));

  // The document and Swagger UI (which keeps its own copy, as a script) are built on the first request
  // for them, not at start: megabytes of heap that a process answering only the API would carry for good.
  let openApi: OpenApiDocument | undefined;
  const openApiDocument = () => {
    openApi ??= generateOpenApiDocument(registry);
    return openApi;
  };
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  let docs: Promise<express.RequestHandler> | undefined;
  // Swagger UI ships inline scripts and styles; relax the CSP for /docs only.
  app.use('/docs', helmet({ contentSecurityPolicy: false }), (req, res, next) => {
    docs ??= swaggerDocs(openApiDocument());
    docs.then((serve) => serve(req, res, next), next);
  });

  app.use((req, res) => {
    sendProblem(res, new AppError('not_found', 404, `No route for ${req.method} ${req.path}`));
  });
  app.use(errorMiddleware(deps.logger));
  return { app, openApiDocument };
}

/** Swagger UI for the document, its module loaded with the first visit to /docs. */
async function swaggerDocs(document: OpenApiDocument): Promise<express.RequestHandler> {
  const { default: swaggerUi } = await import('swagger-ui-express');
  const router = express.Router();
  router.use(swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'Tablekit API' }));
  return router;
}
