import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import type { Express } from 'express';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { createEmulatorVerifier } from '../../src/auth/token-verifier.js';
import type { Readiness } from '../../src/modules/health/routes.js';
import type { Authenticator } from '../../src/http/principal.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import type { EmbeddedCognito } from '../../src/local/cognito.js';

export const silentLogger = pino({ level: 'silent' });

export interface TestApp {
  app: Express;
  db: TestDatabase;
  cognito: EmbeddedCognito;
  readiness: Readiness & { shuttingDown: boolean };
  authenticator: Authenticator;
  close(): Promise<void>;
}

/**
 * The whole app on a database of this test file's own, with a real (embedded) Cognito behind the
 * token checks: tests sign users in exactly as clients do.
 */
export async function createTestApp(options: { production?: boolean } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-test-'));
  const { startEmbeddedCognito } = await import('../../src/local/cognito.js');
  const cognito = await startEmbeddedCognito({ dataDir, logger: silentLogger });
  const readiness = {
    shuttingDown: false,
    isShuttingDown() {
      return this.shuttingDown;
    },
    check: async () => undefined,
  };
  const verifier = createEmulatorVerifier({ issuer: cognito.issuer, jwksUri: cognito.jwksUri, clientId: cognito.clientId });
  const authenticator = createAuthenticator(verifier, silentLogger);
  const { app } = buildApp({
    production: options.production ?? false,
    db: db.knex,
    logger: silentLogger,
    authenticator,
    readiness,
  });
  return {
    app,
    db,
    cognito,
    readiness,
    authenticator,
    close: async () => {
      await cognito.stop();
      await db.destroy();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
