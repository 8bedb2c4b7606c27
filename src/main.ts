import { ConfigError, DEFAULT_DEMO_PASSWORD, loadConfig, type Config } from './config/config.js';
import { createLogger } from './http/logging.js';
import { startService, type RunningService } from './service.js';
import { BISTRO_MANAGER_EMAIL, DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL } from './auth/identity.js';
import { BISTRO_DOMAIN } from '../seeds/bistro-restaurant.js';

function banner(service: RunningService, config: Config): string {
  const lines = [`Tablekit is listening on ${service.url}  (API reference: ${service.url}/docs)`];
  if (service.metricsPort !== undefined && config.metrics !== undefined) lines.push(`Metrics: http://${config.metrics.host}:${service.metricsPort}/metrics`);
  if (service.demoDomain !== undefined) {
    lines.push(
      `Demo restaurant: ${service.demoDomain}`,
      `  curl -H 'X-Restaurant-Domain: ${service.demoDomain}' ${service.url}/v1/recipes`,
      `And ${BISTRO_DOMAIN}, with opening hours and slots (manager ${BISTRO_MANAGER_EMAIL}): curl -H 'X-Restaurant-Domain: ${BISTRO_DOMAIN}' ${service.url}/v1/restaurant/slots`,
    );
  }
  if (service.identity.demoUsers !== undefined) {
    lines.push(
      `Demo users (password from DEMO_PASSWORD${config.demoPassword === DEFAULT_DEMO_PASSWORD ? `, default ${DEFAULT_DEMO_PASSWORD}` : ''}):`,
      `  manager: ${DEMO_MANAGER_EMAIL}    platform admin: ${DEMO_ADMIN_EMAIL}`,
      `  curl -X POST -H 'Content-Type: application/json' -H 'X-Restaurant-Domain: ${service.demoDomain ?? 'demo.localhost'}' ` +
        // The documented default is no secret; a password the operator chose is never printed.
        `-d '{"email":"${DEMO_MANAGER_EMAIL}","password":"${config.demoPassword === DEFAULT_DEMO_PASSWORD ? DEFAULT_DEMO_PASSWORD : '<DEMO_PASSWORD>'}"}' ${service.url}/v1/auth/login`,
    );
  }
  const embedded = [
    config.database.kind === 'embedded' ? `database (PGlite in ${config.dataDir})` : undefined,
    config.queue.kind === 'embedded' ? 'queue (local SQS)' : undefined,
    config.cognito.kind === 'embedded' ? 'identity (local Cognito)' : undefined,
    config.payments.provider === 'test' ? 'payments (test provider)' : undefined,
  ].filter((part) => part !== undefined);
  if (embedded.length > 0) lines.push(`Embedded: ${embedded.join(', ')}. Set the variables in README.md to use real services.`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tablekit: invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let service: RunningService;
  try {
    service = await startService(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    process.exit(1);
  }

  process.stdout.write(`\n${banner(service, config)}\n\n`);
  // pm2 (wait_ready) routes traffic to this instance only once it says so.
  process.send?.('ready');

  const shutdown = (signal: string) => {
    if (service.isShuttingDown()) return;
    logger.info({ signal }, 'signal received');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
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
