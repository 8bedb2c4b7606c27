import path from 'node:path';
import fs from 'node:fs/promises';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../config/config.js';
import type { NotificationSource } from './listener.js';

export type Db = Knex;
export type Tx = Knex.Transaction;
/** Service functions take whichever of the two they must use, explicitly (STYLE.md §5). */
export type Queryable = Knex | Knex.Transaction;

export interface Database {
  knex: Knex;
  kind: 'postgres' | 'embedded';
  /** Where a LISTEN connection comes from (src/db/listener.ts). */
  notifications: NotificationSource;
  close(): Promise<void>;
}

const INT8_OID = 20;
const ACQUIRE_TIMEOUT_MS = 10_000;
const NUMERIC_OID = 1700;

/**
 * `pg` returns int8 (ids from bigserial, count(*), sum()) and numeric as strings, PGlite returns int8
 * as a number. Every value we store fits in 2^53, so both drivers are told to return numbers and
 * repositories never see a string where they expect a count or an amount.
 */
pg.types.setTypeParser(INT8_OID, (value) => Number(value));
pg.types.setTypeParser(NUMERIC_OID, (value) => Number(value));

/** Options shared by both drivers. The migration table names are ours so `knex_migrations` tooling stays out of the way. */
function baseConfig(): Partial<Knex.Config> {
  return {
    // A query on the root instance while a transaction holds PGlite's only connection would wait forever;
    // fail loudly instead. On pg this bounds the wait for a pooled connection under overload.
    acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
  };
}

/** The database at DATABASE_URL did not answer at start; `message` says where and why, without the password. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';

  constructor(url: string, cause: unknown) {
    super(`DATABASE_URL: cannot use the database at ${displayUrl(url)}: ${reason(cause)}`, { cause });
  }
}

function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}

function reason(error: unknown): string {
  const { code, message, name } = (error ?? {}) as { code?: string; message?: string; name?: string };
  // knex's own words for this ("the pool is probably full") would mislead here.
  if (name === 'KnexTimeoutError') return `no connection within ${ACQUIRE_TIMEOUT_MS / 1000} s (is the host reachable from here?)`;
  const text = message ?? String(error);
  if (code === 'ECONNREFUSED') return `${text} (is PostgreSQL running there?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${text} (the host name does not resolve)`;
  if (code === '3D000') return `${text} (create it, or name an existing database)`;
  if (code === '28P01' || code === '28000') return `${text} (check the user and password)`;
  return text;
}

export interface DatabaseOptions {
  /** Receives the driver's own warnings; without one they go to the console (the CLIs). */
  logger?: Logger;
}

/**
 * knex's warnings, one JSON line each when a logger is given. A failed connection attempt is left out:
 * the query that needed it fails with the same error, and its caller reports it (a 503, the startup line).
 */
function knexLog(logger: Logger | undefined): Knex.Config['log'] {
  const warn = (message: unknown) => {
    if (typeof message === 'string' && message.startsWith('Acquire connection error')) return;
    if (logger === undefined) console.warn(message);
    else logger.warn({ detail: message }, 'database client warning');
  };
  return { warn, error: warn, deprecate: warn, debug: (message: unknown) => logger?.debug({ detail: message }, 'database client') };
}

/**
 * Opens the configured database. A real server must answer one query here, so a wrong DATABASE_URL
 * stops the start with `DatabaseUnreachableError` rather than an instance that is never ready.
 */
export async function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Promise<Database> {
  if (config.kind === 'postgres') {
    const knex = knexFactory({
      ...baseConfig(),
      log: knexLog(options.logger),
      client: 'pg',
      connection: {
        connectionString: config.url,
        // A statement that runs away must not hold a pooled connection for ever.
        statement_timeout: 30_000,
        application_name: 'tablekit',
      } as Knex.PgConnectionConfig,
      pool: { min: 0, max: config.poolMax },
    });
    try {
      await knex.raw('select 1');
    } catch (error) {
      await knex.destroy();
      throw new DatabaseUnreachableError(config.url, error);
    }
    return { knex, kind: 'postgres', notifications: { kind: 'postgres', url: config.url }, close: () => knex.destroy() };
  }
  await fs.mkdir(config.dataDir, { recursive: true });
  const { openEmbeddedPostgres } = await import('../local/pglite.js');
  const { knex, pglite } = await openEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'pglite') });
  return { knex, kind: 'embedded', notifications: { kind: 'embedded', pglite }, close: () => knex.destroy() };
}
