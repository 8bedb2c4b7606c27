import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import type { Express } from 'express';
import { pino, type Logger } from 'pino';
import { buildApp, type AppDeps, type CustomerLimits } from '../../src/app.js';
import type { TrustProxy } from '../../src/config/config.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { createEmulatorVerifier } from '../../src/auth/token-verifier.js';
import { createIdentityServices } from '../../src/auth/identity.js';
import type { AuthRateLimitConfig } from '../../src/auth/rate-limit.js';
import type { Readiness } from '../../src/modules/health/routes.js';
import type { Authenticator } from '../../src/http/principal.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import type { EmbeddedCognito } from '../../src/local/cognito.js';
import { startMediaStore } from '../../src/modules/media/start.js';
import type { MediaStore } from '../../src/modules/media/store.js';
import { TestPaymentProvider } from '../../src/modules/payments/providers/test-provider.js';
import type { PaymentProvider } from '../../src/modules/payments/providers/types.js';
import { startLiveOrders, type LiveOrders } from '../../src/modules/live/live-orders.js';
import type { Clock } from '../../src/lib/clock.js';

/** The test provider's webhook secret in tests built by `createTestApp`. */
export const TEST_WEBHOOK_SECRET = 'whsec_test_tablekit_suite_secret';

export const silentLogger = pino({ level: 'silent' });

export interface TestApp {
  app: Express;
  db: TestDatabase;
  cognito: EmbeddedCognito;
  readiness: Readiness & { shuttingDown: boolean };
  authenticator: Authenticator;
  metrics: Metrics;
  /** The payment provider the app charges through (by default a `TestPaymentProvider` signing with TEST_WEBHOOK_SECRET). */
  paymentProvider: PaymentProvider;
  /** The app's LISTEN connection and open order streams. */
  live: LiveOrders;
  /** Where the app keeps pictures (an embedded S3 server of this file's own). */
  media: MediaStore;
  /** Another instance of the app on the same database and user pool, as a second process behind a balancer would be. */
  anotherInstance(): Express;
  /** Answers this file's requests got whose code the route's OpenAPI document does not list (close() fails on any). */
  undocumentedErrors: string[];
  close(): Promise<void>;
}

/**
 * The whole app on a database of this test file's own, with a real (embedded) Cognito behind the
 * token checks: tests sign users in exactly as clients do.
 */
export async function createTestApp(
  options: {
    production?: boolean;
    /** Where the app and the embedded Cognito log (default: nowhere); tests that inspect the log pass their own. */
    logger?: Logger;
    /** Default: generous, so tests that sign up and log in many times are not throttled. */
    authRateLimit?: AuthRateLimitConfig;
    /** Default: generous, so tests that place and pay many orders as one customer are not refused; limit tests pass the real ones. */
    customerLimits?: Partial<CustomerLimits>;
    /** Default: a fresh test provider. Stripe tests pass one pointed at their stand-in server. */
    paymentProvider?: PaymentProvider;
    /**
     * A second instance of the service: another app (with its own LISTEN connection and streams) on the
     * first one's database and identity server, as behind a load balancer. Closing it leaves those open.
     */
    besideApp?: TestApp;
    /** Order streams: the limit and the heartbeat. */
    maxStreams?: number;
    heartbeatMs?: number;
    /** What "now" is for the schedule and the streams (ticket expiry, replay window); tests set it. Default: the system clock. */
    clock?: Clock;
    /** Default: no proxy trusted (TRUST_PROXY unset), so X-Forwarded-For is ignored. */
    trustProxy?: TrustProxy;
  } = {},
): Promise<TestApp> {
  const logger = options.logger ?? silentLogger;
  const beside = options.besideApp;
  const db = beside?.db ?? (await createTestDatabase());
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-test-'));
  const { startEmbeddedCognito } = await import('../../src/local/cognito.js');
  const cognito = beside?.cognito ?? (await startEmbeddedCognito({ dataDir, logger }));
  const media = await startMediaStore({ kind: 'embedded', dataDir }, 'us-east-1');
  const live = await startLiveOrders({
    db: db.knex,
    notifications: db.notifications,
    logger,
    maxStreams: options.maxStreams ?? 100,
    heartbeatMs: options.heartbeatMs,
    clock: options.clock,
    reconnectDelayMs: 50,
  });
  const readiness = {
    shuttingDown: false,
    isShuttingDown() {
      return this.shuttingDown;
    },
    check: async () => undefined,
  };
  const verifier = createEmulatorVerifier({ issuer: cognito.issuer, jwksUri: cognito.jwksUri, clientId: cognito.clientId });
  const authenticator = createAuthenticator(verifier, logger);
  const metrics = createMetrics(db.knex);
  const paymentProvider = options.paymentProvider ?? new TestPaymentProvider({ env: 'test', webhookSecret: TEST_WEBHOOK_SECRET });
  const undocumentedErrors: string[] = [];
  const deps: AppDeps = {
    orderStreams: live.streams,
    media: media.store,
    metrics,
    paymentProvider,
    production: options.production ?? false,
    trustProxy: options.trustProxy ?? false,
    db: db.knex,
    logger,
    authenticator,
    readiness,
    identity: createIdentityServices(
      {
        kind: 'embedded',
        userPoolId: cognito.userPoolId,
        clientId: cognito.clientId,
        endpoint: cognito.endpoint,
        region: 'us-east-1',
        authFlow: 'USER_PASSWORD_AUTH',
      },
      logger,
    ),
    authRateLimit: options.authRateLimit ?? { perIpPerMinute: 1000, failedPerEmailPerMinute: 1000 },
    customerLimits: { maxOpenUnpaidOrders: 1000, checkoutsPerMinute: 1000, paymentAttemptsPerMinute: 1000, ...options.customerLimits },
    onUndocumentedError: ({ operationId, code, status }) => {
      const finding = `${operationId} answered ${status} ${code}`;
      if (!undocumentedErrors.includes(finding)) undocumentedErrors.push(finding);
    },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  };
  const { app } = buildApp(deps);
  return {
    app,
    db,
    cognito,
    readiness,
    authenticator,
    metrics,
    paymentProvider,
    live,
    media: media.store,
    anotherInstance: () => buildApp({ ...deps, metrics: createMetrics(db.knex) }).app,
    undocumentedErrors,
    close: async () => {
      await live.stop();
      await media.stop();
      if (beside === undefined) {
        await cognito.stop();
        await db.destroy();
      }
      await fs.rm(dataDir, { recursive: true, force: true });
      // Every answer a test provoked must be one the OpenAPI document promises (src/http/error-catalog.ts).
      if (undocumentedErrors.length > 0) {
        throw new Error(`answers missing from the OpenAPI document (add the codes to the route's \`errors\`):\n${undocumentedErrors.join('\n')}`);
      }
    },
  };
}
