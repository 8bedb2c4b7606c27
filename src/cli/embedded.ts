// `node dist/src/cli/embedded.js identity queue [media]`: the embedded identity server, orders queue and
// picture store as one process of their own, for several service processes to share. ecosystem.config.js
// runs it as the pm2 app `tablekit-embedded` beside the cluster whenever COGNITO_USER_POOL_ID or
// SQS_QUEUE_URL is unset, and gives it and every instance the same variables (COGNITO_ENDPOINT,
// COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID; SQS_QUEUE_URL, AWS_ENDPOINT_URL_SQS; S3_BUCKET,
// AWS_ENDPOINT_URL_S3): the instances use them as they would use Amazon Cognito, SQS and S3, and this
// process serves what they point at. One emulator for all instances is the point: each instance running
// its own would give each its own users and its own queue. The picture store (`media`) is the one part an
// instance could embed for itself; served here it is not loaded in the instances at all, as in production.
// Its clients sign with EMBEDDED_S3_CREDENTIALS (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the only
// key the S3 emulator knows; the other two emulators check none.
//
// With DATABASE_URL it also does what a single `npm start` does for itself: migrates that database and
// seeds the demo restaurant, managed by the demo manager. Development only, loopback only.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { createLogger, exitAfterLogs } from '../http/logging.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL } from '../auth/identity.js';
import { PLATFORM_ADMIN_GROUP } from '../auth/authenticator.js';
import { seedDemoRestaurant } from '../../seeds/demo-restaurant.js';
import { describeStartupFailure } from '../startup-failure.js';

type Part = 'identity' | 'queue' | 'media';
const PARTS: readonly Part[] = ['identity', 'queue', 'media'];

/** Where a variable's URL says to listen: a loopback host and an explicit port. */
function listenAddress(variable: string, value: string | undefined): { host: string; port: number } {
  const url = value === undefined ? undefined : new URL(value);
  const port = Number(url?.port);
  if (url === undefined || !Number.isInteger(port) || port <= 0) {
    throw new ConfigError(`${variable} must be set to a loopback URL with a port for the shared emulator to listen on, e.g. http://127.0.0.1:9324`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

async function serveIdentity(config: Config, logger: Logger) {
  if (config.cognito.kind !== 'cognito') {
    throw new ConfigError('COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID and COGNITO_ENDPOINT name the identity server to serve: set them');
  }
  const { host, port } = listenAddress('COGNITO_ENDPOINT', config.cognito.endpoint);
  const { startEmbeddedCognito, ensureUser } = await import('../local/cognito.js');
  const cognito = await startEmbeddedCognito({
    dataDir: config.dataDir,
    host,
    port,
    logger,
    shared: { userPoolId: config.cognito.userPoolId, clientId: config.cognito.clientId },
  });
  await ensureUser(cognito, { email: DEMO_ADMIN_EMAIL, password: config.demoPassword, groups: [PLATFORM_ADMIN_GROUP] });
  const manager = await ensureUser(cognito, { email: DEMO_MANAGER_EMAIL, password: config.demoPassword });
  return { stop: () => cognito.stop(), manager: { email: DEMO_MANAGER_EMAIL, sub: manager.sub } };
}

async function serveQueue(config: Config) {
  if (config.queue.kind !== 'sqs' || config.queue.endpoint === undefined) {
    throw new ConfigError('SQS_QUEUE_URL and AWS_ENDPOINT_URL_SQS name the queue to serve: set them');
  }
  const { host, port } = listenAddress('AWS_ENDPOINT_URL_SQS', config.queue.endpoint);
  const { startEmbeddedSqs } = await import('../local/sqs.js');
  const sqs = await startEmbeddedSqs({ host, port });
  if (sqs.queueUrl !== config.queue.queueUrl) {
    await sqs.stop();
    throw new ConfigError(`SQS_QUEUE_URL must be ${sqs.queueUrl}, the orders queue this emulator serves`);
  }
  return { stop: () => sqs.stop() };
}

async function serveMedia(config: Config) {
  if (config.media.kind !== 's3' || config.media.endpoint === undefined) {
    throw new ConfigError('S3_BUCKET and AWS_ENDPOINT_URL_S3 name the picture store to serve: set them');
  }
  const { host, port } = listenAddress('AWS_ENDPOINT_URL_S3', config.media.endpoint);
  const { startEmbeddedS3 } = await import('../local/s3.js');
  const s3 = await startEmbeddedS3({ dataDir: config.dataDir, bucket: config.media.bucket, host, port });
  return { stop: () => s3.stop() };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger('info').fatal({ issues: error.issues }, `invalid configuration: ${error.message}`);
    return exitAfterLogs(1);
  }
  const logger = createLogger(config.logLevel);
  const parts = process.argv.slice(2);
  const unknown = parts.filter((part) => !PARTS.includes(part as Part));

  const stops: Array<() => Promise<void>> = [];
  try {
    if (config.env === 'production') throw new ConfigError('NODE_ENV=production: the emulators are for development, production uses Amazon Cognito and SQS');
    if (cluster.isWorker) throw new ConfigError('the shared emulators run as one process: start this script in fork mode, not in a cluster');
    if (parts.length === 0 || unknown.length > 0) throw new ConfigError(`name the parts to serve: ${PARTS.join(', ')} (got: ${parts.join(' ') || 'none'})`);

    // The queue first: the service's instances ask it for its dead-letter queue as they start.
    if (parts.includes('queue')) stops.push((await serveQueue(config)).stop);
    if (parts.includes('media')) stops.push((await serveMedia(config)).stop);
    if (parts.includes('identity')) {
      const identity = await serveIdentity(config, logger);
      stops.push(identity.stop);
      if (config.database.kind === 'postgres') {
        const database = await createDatabase(config.database, { logger });
        try {
          // The instances migrate at start too; processes migrating at once take turns (src/db/migrate.ts).
          const applied = await migrateToLatest(database.knex);
          if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
          const seeded = await seedDemoRestaurant(database.knex, { manager: identity.manager });
          logger.info({ created: seeded.created }, 'demo restaurant ready, managed by the demo manager');
        } finally {
          await database.close();
        }
      }
    }
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    const failure = describeStartupFailure(error, config);
    logger.fatal(failure.fields, failure.message);
    return exitAfterLogs(1);
  }

  logger.info(
    {
      parts,
      ...(parts.includes('identity') && config.cognito.kind === 'cognito' ? { identity: config.cognito.endpoint, userPoolId: config.cognito.userPoolId } : {}),
      ...(parts.includes('queue') && config.queue.kind === 'sqs' ? { queue: config.queue.queueUrl } : {}),
      ...(parts.includes('media') && config.media.kind === 's3' ? { media: config.media.publicBaseUrl } : {}),
    },
    'shared emulators ready',
  );
  // pm2 (wait_ready) counts this app as started once it says so.
  process.send?.('ready');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    void Promise.allSettled(stops.reverse().map((stop) => stop())).then(() => {
      logger.info('stopped');
      exitAfterLogs(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('message', (message) => {
    if (message === 'shutdown') shutdown('message');
  });
}

await main();
