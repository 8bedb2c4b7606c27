import path from 'node:path';
import fs from 'node:fs/promises';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
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
    acquireConnectionTimeout: 10_000,
  };
}

export async function createDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.kind === 'postgres') {
    const knex = knexFactory({
      ...baseConfig(),
      client: 'pg',
      connection: {
        connectionString: config.url,
        // A statement that runs away must not hold a pooled connection for ever.
        statement_timeout: 30_000,
        application_name: 'tablekit',
      } as Knex.PgConnectionConfig,
      pool: { min: 0, max: config.poolMax },
    });
    return { knex, kind: 'postgres', notifications: { kind: 'postgres', url: config.url }, close: () => knex.destroy() };
  }
  await fs.mkdir(config.dataDir, { recursive: true });
  const { openEmbeddedPostgres } = await import('../local/pglite.js');
  const { knex, pglite } = await openEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'pglite') });
  return { knex, kind: 'embedded', notifications: { kind: 'embedded', pglite }, close: () => knex.destroy() };
}
