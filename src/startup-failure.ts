import { ConfigError, type Config } from './config/config.js';
import { DatabaseUnreachableError } from './db/database.js';

/**
 * The development dependencies behind the embedded parts (src/local), loaded only when a part is
 * embedded. An install without them (npm ci --omit=dev) has none.
 */
const EMBEDDED_PACKAGES = ['@electric-sql/pglite', 'knex-pglite', 'cognito-local', 'local-aws-sqs'];

export interface StartupFailure {
  /** One line: what failed and the variable to set or the thing to do. */
  message: string;
  /** Extra fields for the log line (the error itself when it is not one we can explain). */
  fields: Record<string, unknown>;
}

/** The variables whose absence made each part embedded, in the order the service starts them. */
function embeddedVariables(config: Config): string[] {
  return [
    ...(config.database.kind === 'embedded' ? ['DATABASE_URL'] : []),
    ...(config.cognito.kind === 'embedded' ? ['COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID'] : []),
    ...(config.workerEnabled && config.queue.kind === 'embedded' ? ['SQS_QUEUE_URL'] : []),
  ];
}

function listed(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * One of several cluster workers (pm2 cluster mode) cannot run embedded parts: each would open the same
 * PGlite directory, or start an identity server and a queue of its own, so users and messages would
 * depend on which instance a request reached.
 */
export function clusterFailure(config: Config): StartupFailure | undefined {
  const variables = embeddedVariables(config);
  if (variables.length === 0) return undefined;
  const databaseHint = config.database.kind === 'embedded' ? ' (the embedded database serves one process: a cluster needs DATABASE_URL)' : '';
  return {
    message:
      `a cluster instance cannot run embedded parts: set ${listed(variables)}${databaseHint}, ` +
      'or start the cluster with ecosystem.config.js, which runs one identity server and one queue for all instances',
    fields: { variables },
  };
}

/** Why `startService` failed, as the one line an operator needs, naming the variable or the fix. */
export function describeStartupFailure(error: unknown, config: Config): StartupFailure {
  if (error instanceof ConfigError) return { message: `invalid configuration: ${error.message}`, fields: { issues: error.issues } };
  if (error instanceof DatabaseUnreachableError) return { message: error.message, fields: {} };

  const { code, syscall, message } = (error ?? {}) as { code?: string; syscall?: string; message?: string };
  if (syscall === 'listen' && code === 'EADDRINUSE') {
    return { message: `PORT ${config.port} is already in use on ${config.host}: stop what listens there, or set PORT to a free port`, fields: {} };
  }
  if (syscall === 'listen' && code === 'EACCES') {
    return { message: `PORT ${config.port} needs privileges this process lacks: set PORT above 1023 (a balancer or proxy maps 80 and 443)`, fields: {} };
  }
  if (code === 'ERR_MODULE_NOT_FOUND') {
    const missing = /Cannot find package '([^']+)'/.exec(message ?? '')?.[1];
    if (missing !== undefined && EMBEDDED_PACKAGES.includes(missing)) {
      const variables = embeddedVariables(config);
      return {
        message:
          `${missing} is not installed: the embedded stand-ins for unset ${listed(variables)} are development dependencies. ` +
          `Set ${variables.length > 1 ? 'them' : 'it'} to use the real services, or install the development dependencies (npm install)`,
        fields: { variables },
      };
    }
    if (missing !== undefined) return { message: `${missing} is not installed: reinstall the dependencies (npm ci)`, fields: {} };
  }
  return { message: `could not start: ${message ?? String(error)}`, fields: { err: error } };
}
