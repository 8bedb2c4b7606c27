import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import type { Express } from 'express';
import { pino, type Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { createEmulatorVerifier } from '../../src/auth/token-verifier.js';
import { createIdentityServices } from '../../src/auth/identity.js';
import type { AuthRateLimitConfig } from '../../src/auth/rate-limit.js';
import type { Readiness } from '../../src/modules/health/routes.js';
import type { Authenticator } from '../../src/http/principal.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import type { EmbeddedCognito } from '../../src/local/cognito.js';
import { TestPaymentProvider } from '../../src/modules/payments/providers/test-provider.js';
import type { PaymentProvider } from '../../src/modules/payments/providers/types.js';
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
    /** Default: a fresh test provider. Stripe tests pass one pointed at their stand-in server. */
    paymentProvider?: PaymentProvider;
    /** "Now" for the app's rules (default: the system clock). */
    clock?: Clock;
  } = {},
): Promise<TestApp> {
  const logger = options.logger ?? silentLogger;
  const db = await createTestDatabase();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-test-'));
  const { startEmbeddedCognito } = await import('../../src/local/cognito.js');
  const cognito = await startEmbeddedCognito({ dataDir, logger });
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
  const { app } = buildApp({
    metrics,
    paymentProvider,
    production: options.production ?? false,
    db: db.knex,
    logger,
    authenticator,
    readiness,
    identity: createIdentityServices(
      { kind: 'embedded', userPoolId: cognito.userPoolId, clientId: cognito.clientId, endpoint: cognito.endpoint, region: 'us-east-1', authFlow: 'USER_PASSWORD_AUTH' },
      logger,
    ),
    authRateLimit: options.authRateLimit ?? { perIpPerMinute: 1000, failedPerEmailPerMinute: 1000 },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return {
    app,
    db,
    cognito,
    readiness,
    authenticator,
    metrics,
    paymentProvider,
    close: async () => {
      await cognito.stop();
      await db.destroy();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
