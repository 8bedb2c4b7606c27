import cluster from 'node:cluster';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { createLogger, exitAfterLogs } from './http/logging.js';
import { startService, type RunningService } from './service.js';
import { banner } from './banner.js';
import { clusterFailure, describeStartupFailure } from './startup-failure.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // LOG_LEVEL may be among the bad values: this one line is written at the default level.
      createLogger('info').fatal({ issues: error.issues }, `invalid configuration: ${error.message}`);
      return exitAfterLogs(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const clustered = cluster.isWorker ? clusterFailure(config) : undefined;
  if (clustered !== undefined) {
    logger.fatal(clustered.fields, clustered.message);
    return exitAfterLogs(1);
  }
  let service: RunningService;
  try {
    service = await startService(config, logger);
  } catch (error) {
    const failure = describeStartupFailure(error, config);
    logger.fatal(failure.fields, failure.message);
    return exitAfterLogs(1);
  }

  if (service.metricsPort !== undefined && config.metrics !== undefined)
    logger.info({ url: `http://${config.metrics.host}:${service.metricsPort}/metrics` }, 'metrics served');
  process.stdout.write(`\n${banner({ url: service.url, demoDomain: service.demoDomain, demoUsers: service.identity.demoUsers !== undefined }, config)}\n\n`);
  // pm2 (wait_ready) routes traffic to this instance only once it says so.
  process.send?.('ready');

  const shutdown = (signal: string) => {
    if (service.isShuttingDown()) return;
    logger.info({ signal }, 'signal received');
    service.stop().then(
      () => exitAfterLogs(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        return exitAfterLogs(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // pm2 sends 'shutdown' on Windows and when configured; treat it as SIGTERM.
  process.on('message', (message) => {
    if (message === 'shutdown') shutdown('message');
  });
}

await main();
