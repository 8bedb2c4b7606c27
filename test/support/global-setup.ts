import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import type { TestProject } from 'vitest/node';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createPglite, knexOnPglite } from '../../src/local/pglite.js';
import { adminUrlFor, databaseUrlFor } from './urls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Real Postgres: the template database every test file copies. */
    templateDatabase: string | undefined;
    /** PGlite: a dumped, migrated data directory every test file loads. */
    pgliteTemplatePath: string | undefined;
  }
}

/**
 * Migrating is the slow part of a fresh database (seconds on PGlite), so it happens once per run into
 * a template; each test file then gets its own copy (CREATE DATABASE ... TEMPLATE, or a loaded dump).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.DATABASE_URL;
  if (url !== undefined && url !== '') {
    const template = `tablekit_template_${process.pid}_${Date.now().toString(36)}`;
    const admin = knexFactory({ client: 'pg', connection: adminUrlFor(url), pool: { min: 0, max: 1 } });
    await admin.raw(`CREATE DATABASE ${template}`);
    const knex = knexFactory({ client: 'pg', connection: databaseUrlFor(url, template), pool: { min: 0, max: 1 } });
    try {
      await migrateToLatest(knex);
    } finally {
      await knex.destroy();
    }
    project.provide('templateDatabase', template);
    project.provide('pgliteTemplatePath', undefined);
    return async () => {
      await admin.raw(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
      await admin.destroy();
    };
  }

  const pglite = await createPglite({});
  const knex = knexOnPglite(pglite);
  await migrateToLatest(knex);
  const dump = await pglite.dumpDataDir('none');
  await knex.destroy();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-template-'));
  const dumpPath = path.join(dir, 'template.tar');
  await fs.writeFile(dumpPath, Buffer.from(await dump.arrayBuffer()));
  project.provide('templateDatabase', undefined);
  project.provide('pgliteTemplatePath', dumpPath);
  return async () => {
    await fs.rm(dir, { recursive: true, force: true });
  };
}
