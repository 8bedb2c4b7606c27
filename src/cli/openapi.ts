import fs from 'node:fs/promises';
import path from 'node:path';
import knexFactory from 'knex';
import { pino } from 'pino';
import { buildApp } from '../app.js';
import { createMetrics } from '../metrics.js';
import { TestPaymentProvider } from '../modules/payments/providers/test-provider.js';
import { OrderEventFeed } from '../modules/live/feed.js';
import { OrderStreams } from '../modules/live/stream.js';
import { createS3MediaStore } from '../modules/media/store.js';

/**
 * `npm run openapi -- <file>`: writes the OpenAPI document the service serves at /openapi.json, built by
 * the same buildApp, with no database, identity service or server started (CI lints it). Nothing here
 * answers a request: every dependency a handler would use refuses.
 */
const refuse = (what: string) => (): never => {
  throw new Error(`${what} is not available while generating the OpenAPI document`);
};

const out = process.argv[2];
// A client with no connection: knex connects on the first query, and no query is made.
const db = knexFactory({ client: 'pg' });
const logger = pino({ level: 'silent' });
try {
  const { openApiDocument } = buildApp({
    // Never started: its LISTEN connection is only opened by start().
    // An S3 client makes no request until it is used.
    media: createS3MediaStore({ bucket: 'openapi-generation-only', region: 'us-east-1', publicBaseUrl: 'https://media.invalid' }),
    orderStreams: new OrderStreams({ db, feed: new OrderEventFeed({ kind: 'postgres', url: 'postgres://unused' }, logger), logger, maxStreams: 0 }),
    production: false,
    trustProxy: false,
    db,
    logger,
    authenticator: { authenticate: refuse('authentication'), staffRole: refuse('staff roles') },
    readiness: { isShuttingDown: () => false, check: refuse('readiness') },
    identity: {
      flows: {
        signUp: refuse('the user pool'),
        confirmSignUp: refuse('the user pool'),
        logIn: refuse('the user pool'),
        refresh: refuse('the user pool'),
        forgotPassword: refuse('the user pool'),
        resetPassword: refuse('the user pool'),
        logOut: refuse('the user pool'),
      },
      directory: { findUser: refuse('the user pool') },
    },
    authRateLimit: { perIpPerMinute: 1, failedPerEmailPerMinute: 1 },
    metrics: createMetrics(db),
    paymentProvider: new TestPaymentProvider({ env: 'test', webhookSecret: 'openapi-generation-only' }),
  });
  const text = `${JSON.stringify(openApiDocument(), null, 2)}\n`;
  if (out === undefined) {
    process.stdout.write(text);
  } else {
    await fs.mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await fs.writeFile(out, text);
  }
} catch (error) {
  process.stderr.write(`tablekit openapi: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
