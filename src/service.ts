import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { buildApp } from './app.js';
import { answerClientError } from './http/errors.js';
import { trackConnections } from './http/drain.js';
import { createDatabase, type Database } from './db/database.js';
import { migrateToLatest, pendingMigrations } from './db/migrate.js';
import { createAuthenticator } from './auth/authenticator.js';
import { createIdentityServices, startIdentity, type IdentityProvider } from './auth/identity.js';
import { seedDemoRestaurant, DEMO_DOMAIN, DEMO_MENU } from '../seeds/demo-restaurant.js';
import { BISTRO_DOMAIN, BISTRO_MENU, seedBistroRestaurant } from '../seeds/bistro-restaurant.js';
import { seedDemoPictures, type DemoPictureDeps } from '../seeds/demo-pictures.js';
import { createMetrics, startMetricsServer, type Metrics } from './metrics.js';
import { openOrdersQueue, findDeadLetterQueueUrl, RECEIVE_BATCH_SIZE, type OrdersQueue } from './queue/sqs.js';
import { OutboxRelay } from './queue/relay.js';
import { OrderWorker } from './queue/worker.js';
import { PaymentTimeoutSweeper } from './modules/orders/payment-timeout.js';
import { Periodic } from './queue/periodic.js';
import { createJobLock } from './db/job-lock.js';
import { sweepExpiredIdempotencyKeys } from './http/idempotency.js';
import { sweepExpiredRateLimitCounters } from './http/rate-limit-store.js';
import { createPaymentProvider } from './modules/payments/providers/index.js';
import { processOrderRefunds } from './modules/payments/service.js';
import { PaymentReconciler } from './modules/payments/reconciler.js';
import { confirmOrderBySystem } from './modules/orders/service.js';
import { startLiveOrders } from './modules/live/live-orders.js';
import { startMediaStore } from './modules/media/start.js';
import { sweepRetention } from './retention.js';
import { attemptWebhookDelivery, OrderEventWebhooks } from './modules/webhooks/index.js';
import { restoreTimedUnavailability } from './modules/catalog/index.js';
import { systemClock } from './lib/clock.js';

export interface RunningService {
  url: string;
  port: number;
  config: Config;
  database: Database;
  identity: IdentityProvider;
  demoDomain: string | undefined;
  /** Settles once the demo's pictures are drawn (at once without a demo): start-up work that runs after the listen. */
  demoPicturesDrawn: Promise<void>;
  metrics: Metrics;
  /** The port /metrics is served on (METRICS_PORT), undefined when it is off. */
  metricsPort: number | undefined;
  /** The orders queue, when this process runs the background work (WORKER_ENABLED). */
  queue: OrdersQueue | undefined;
  /** Stops in stages: refuse new work, drain in-flight requests, then close what they used. Idempotent. */
  stop(): Promise<void>;
  isShuttingDown(): boolean;
}

/**
 * Composes the service: database (migrated and seeded when embedded or in development), identity,
 * the HTTP server. Each part started is stopped by `stop()` in reverse order.
 */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const stack: Array<() => Promise<void>> = [];
  const unwind = async () => {
    for (const stopPart of stack.reverse()) await stopPart().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
  };
  try {
    const database = await createDatabase(config.database, { logger });
    stack.push(() => database.close());

    // In production migrations are a deploy step (npm run migrate): instances never race to alter a live schema.
    if (config.env !== 'production') {
      const applied = await migrateToLatest(database.knex);
      if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    }

    const identity = await startIdentity(config.cognito, { demoPassword: config.demoPassword, logger });
    stack.push(() => identity.stop());

    let demoDomain: string | undefined;
    if (database.kind === 'embedded' || identity.demoUsers !== undefined) {
      const manager = identity.demoUsers?.manager;
      await seedDemoRestaurant(database.knex, manager === undefined ? {} : { manager });
      const bistroManager = identity.demoUsers?.bistroManager;
      await seedBistroRestaurant(database.knex, bistroManager === undefined ? {} : { manager: bistroManager });
      demoDomain = DEMO_DOMAIN;
    }

    const live = await startLiveOrders({ db: database.knex, notifications: database.notifications, logger, maxStreams: config.maxStreams });
    stack.push(() => live.stop());

    const media = await startMediaStore(config.media, config.queue.region);
    stack.push(() => media.stop());

    const metrics = createMetrics(database.knex);
    // Up until the database closes, so a scrape during the drain still sees the shutdown.
    const metricsServer = config.metrics === undefined ? undefined : await startMetricsServer(metrics, config.metrics);
    if (metricsServer !== undefined) stack.push(() => metricsServer.stop());
    const paymentProvider = await createPaymentProvider(config, logger);
    let relay: OutboxRelay | undefined;

    let shuttingDown = false;
    const { app } = buildApp({
      orderStreams: live.streams,
      media: media.store,
      metrics,
      paymentProvider,
      nudgeOutbox: () => relay?.nudge(),
      production: config.env === 'production',
      trustProxy: config.trustProxy,
      db: database.knex,
      logger,
      authenticator: createAuthenticator(identity.verifier, logger),
      identity: createIdentityServices(identity, logger),
      authRateLimit: config.authRateLimit,
      customerLimits: {
        maxOpenUnpaidOrders: config.maxOpenUnpaidOrders,
        checkoutsPerMinute: config.checkoutsPerMinute,
        paymentAttemptsPerMinute: config.paymentAttemptsPerMinute,
      },
      readiness: {
        isShuttingDown: () => shuttingDown,
        check: async () => {
          try {
            const pending = await pendingMigrations(database.knex);
            return pending.length === 0 ? undefined : `migrations pending: ${pending.join(', ')}`;
          } catch {
            return 'database unavailable';
          }
        },
      },
    });

    const server = http.createServer(app);
    server.on('clientError', answerClientError);
    // Above the load balancer's 60 s idle timeout, so the balancer, not us, closes idle connections:
    // otherwise it may send a request down a socket we are closing and answer the client with a 502.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    // From the first connection, so a drain can tell the connections clients still use from idle ones.
    const connections = trackConnections(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;

    // The demo's pictures are drawn while the service already answers (a first start would otherwise wait
    // seconds for them); a stop cuts the drawing short between two dishes.
    let demoPicturesDrawn = Promise.resolve();
    if (demoDomain !== undefined) {
      const drawing = new AbortController();
      const drawn = drawDemoPictures({ db: database.knex, media: media.store, logger }, drawing.signal);
      demoPicturesDrawn = drawn;
      stack.push(async () => {
        drawing.abort();
        await drawn;
      });
    }

    // Background work starts once the server is up. At shutdown the workers and the jobs stop claiming
    // first (STYLE.md 16); the relay keeps sending what in-flight requests commit until the drain is over.
    let queue: OrdersQueue | undefined;
    const stopClaiming: Array<() => Promise<void>> = [];
    if (config.workerEnabled) {
      queue = await openOrdersQueue(config.queue);
      stack.push(queue.stop);
      relay = new OutboxRelay({ db: database.knex, sqs: queue.client, queueUrl: queue.queueUrl, logger, metrics });
      const workerOptions: ConstructorParameters<typeof OrderWorker>[0] = {
        confirmOrder: (restaurantId, orderId) => confirmOrderBySystem(database.knex, restaurantId, orderId),
        sqs: queue.client,
        queueUrl: queue.queueUrl,
        deadLetterQueueUrl: await findDeadLetterQueueUrl(queue.client, queue.queueUrl).catch((error: unknown) => {
          logger.warn({ err: error }, 'cannot find the dead-letter queue; unparseable messages will be left to the redrive policy');
          return undefined;
        }),
        batchSize: RECEIVE_BATCH_SIZE,
        logger,
        metrics,
        processRefunds: (restaurantId, orderId) => processOrderRefunds({ db: database.knex, provider: paymentProvider, logger }, restaurantId, orderId),
        deliverWebhook: (restaurantId, deliveryId, attempt) =>
          attemptWebhookDelivery({ db: database.knex, logger, production: config.env === 'production' }, restaurantId, deliveryId, attempt),
      };
      // Several consumers where the queue hands out one message per receive (the embedded emulator): see src/queue/sqs.ts.
      const workers = Array.from({ length: queue.receiveConsumers }, () => new OrderWorker(workerOptions));
      // One instance at a time runs each job (an advisory lock on Postgres).
      const lock = createJobLock(database.knex, database.kind);
      const sweeper = new PaymentTimeoutSweeper({ db: database.knex, timeoutMs: config.orderPaymentTimeoutMs, logger, metrics, lock });
      const keySweeper = new Periodic(
        'idempotency-key and rate-limit sweep',
        10 * 60_000,
        async () => (await sweepExpiredIdempotencyKeys(database.knex)) + (await sweepExpiredRateLimitCounters(database.knex)),
        logger,
        lock,
      );
      const retention = new Periodic(
        'retention sweep',
        60 * 60_000,
        async () => {
          const swept = await sweepRetention(database.knex, systemClock);
          if (Object.values(swept).some((count) => count > 0)) logger.info({ swept }, 'old rows swept');
        },
        logger,
        lock,
      );
      // Every 5 s, so a timed "86" ends within 10 s of its time (API.md); one instance per tick does the work.
      const un86 = new Periodic('timed unavailability', 5_000, () => restoreTimedUnavailability(database.knex, systemClock()), logger, lock);
      const startedRelay = relay;
      const reconciler = new PaymentReconciler({
        db: database.knex,
        provider: paymentProvider,
        logger,
        reconcileAfterMs: config.paymentReconcileAfterMs,
        abandonAfterMs: config.orderPaymentTimeoutMs,
        afterChanges: () => startedRelay.nudge(),
        lock,
      });
      const orderWebhooks = new OrderEventWebhooks({ db: database.knex, feed: live.feed, logger });
      startedRelay.start();
      orderWebhooks.start();
      for (const worker of workers) worker.start();
      sweeper.start();
      keySweeper.start();
      retention.start();
      un86.start();
      reconciler.start();
      stopClaiming.push(
        () => orderWebhooks.stop(),
        () => Promise.all(workers.map((worker) => worker.stop())).then(() => undefined),
        () => sweeper.stop(),
        () => keySweeper.stop(),
        () => retention.stop(),
        () => un86.stop(),
        () => reconciler.stop(),
      );
      // Also unwound if starting fails later; a stop already done is a no-op.
      stack.push(() => startedRelay.stop(), ...stopClaiming);
    }
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        shuttingDown = true;
        logger.info('shutting down: refusing new connections, draining in-flight requests');
        // Streams never finish by themselves: end them now, with a hint to reconnect (elsewhere) and resume.
        live.streams.closeAll();
        // The drain stops listening at once; work is no longer claimed before in-flight requests are waited for.
        const draining = connections.drain(config.shutdownTimeoutMs);
        await Promise.all(stopClaiming.map((stopPart) => stopPart().catch((error: unknown) => logger.error({ err: error }, 'stop failed'))));
        logger.info('stopped claiming work: no more queue messages or background jobs');
        const drained = await draining;
        if (!drained) logger.warn({ timeoutMs: config.shutdownTimeoutMs }, 'drain timed out; closed the remaining connections');
        logger.info('in-flight requests drained');
        await unwind();
        logger.info('stopped');
      })();
      return stopping;
    };

    return {
      url: `http://${host}:${port}`,
      port,
      config,
      database,
      identity,
      demoDomain,
      demoPicturesDrawn,
      metrics,
      metricsPort: metricsServer?.port,
      queue,
      stop,
      isShuttingDown: () => shuttingDown,
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/**
 * The demo menus' drawn pictures, for the recipes that have none yet (only the first start draws). A failure
 * leaves the demo without pictures, not without a service: it is logged and the start goes on.
 */
async function drawDemoPictures(deps: DemoPictureDeps, signal: AbortSignal): Promise<void> {
  try {
    let drawn = 0;
    for (const [domain, menu] of [
      [DEMO_DOMAIN, DEMO_MENU],
      [BISTRO_DOMAIN, BISTRO_MENU],
    ] as const) {
      drawn += await seedDemoPictures(deps, domain, menu, signal);
    }
    if (drawn > 0) deps.logger.info({ pictures: drawn }, 'demo pictures drawn');
  } catch (error) {
    deps.logger.warn({ err: error }, 'could not draw the demo pictures; the demo menus show none');
  }
}
