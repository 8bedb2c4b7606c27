import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import ClientPgLite from 'knex-pglite';
import knexFactory, { type Knex } from 'knex';

const NUMERIC_OID = 1700;

export interface EmbeddedPostgresOptions {
  /** Where the data directory lives; omitted means in memory. */
  dataDir?: string;
  /** A data directory dumped by `dumpDataDir()`, to start from (tests copy a migrated template this way). */
  loadDataDir?: Blob | File;
}

/** PGlite is real Postgres compiled to WebAssembly: the embedded default needs no server installed. */
export async function createPglite(options: EmbeddedPostgresOptions): Promise<PGlite> {
  return PGlite.create({
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.loadDataDir === undefined ? {} : { loadDataDir: options.loadDataDir }),
    extensions: { pg_trgm },
    // pg is told the same in db/database.ts: numeric comes back as a number on both drivers.
    parsers: { [NUMERIC_OID]: (value: string) => Number(value) },
  });
}

export function knexOnPglite(pglite: PGlite): Knex {
  return knexFactory({
    client: ClientPgLite as unknown as typeof Knex.Client,
    dialect: 'postgres',
    connection: () => ({ pglite }) as unknown as Knex.StaticConnectionConfig,
    // Single connection: a query on the root instance inside a transaction would otherwise hang for ever.
    acquireConnectionTimeout: 10_000,
  });
}

/** The knex instance, and PGlite itself for what knex cannot do (LISTEN: src/db/listener.ts). */
export async function openEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<{ knex: Knex; pglite: PGlite }> {
  const pglite = await createPglite(options);
  return { knex: knexOnPglite(pglite), pglite };
}
