import fs from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { inject } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { createPglite, knexOnPglite } from '../../src/local/pglite.js';
import type { NotificationSource } from '../../src/db/listener.js';
import { adminUrlFor, databaseUrlFor } from './urls.js';

/** True when the suite runs against the real PostgreSQL server (many connections, real locking). */
export const onRealPostgres = inject('templateDatabase') !== undefined;

export interface TestDatabase {
  knex: Knex;
  kind: 'postgres' | 'embedded';
  /** Only on real Postgres: its URL, for tests that start the service as a separate process. */
  url: string | undefined;
  /** Where an app's LISTEN connection comes from. */
  notifications: NotificationSource;
  destroy(): Promise<void>;
}

/** A fresh, migrated database of this test file's own, dropped by `destroy()`. */
export async function createTestDatabase(options: { poolMax?: number } = {}): Promise<TestDatabase> {
  const template = inject('templateDatabase');
  const baseUrl = process.env.DATABASE_URL;
  if (template !== undefined && baseUrl !== undefined) {
    const name = `tablekit_test_${randomBytes(6).toString('hex')}`;
    const admin = knexFactory({ client: 'pg', connection: adminUrlFor(baseUrl), pool: { min: 0, max: 1 } });
    try {
      // Copies from one template must not overlap: Postgres refuses a template with other sessions on it.
      await createFromTemplateWithRetry(admin, name, template);
    } finally {
      await admin.destroy();
    }
    const url = databaseUrlFor(baseUrl, name);
    const database = await createDatabase({ kind: 'postgres', url, poolMax: options.poolMax ?? 10 });
    return {
      knex: database.knex,
      kind: 'postgres',
      url,
      notifications: database.notifications,
      destroy: async () => {
        await database.close();
        const dropper = knexFactory({ client: 'pg', connection: adminUrlFor(baseUrl), pool: { min: 0, max: 1 } });
        try {
          await dropper.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await dropper.destroy();
        }
      },
    };
  }
  const dumpPath = inject('pgliteTemplatePath');
  if (dumpPath === undefined) throw new Error('the global setup provided no template database');
  const dump = new Blob([await fs.readFile(dumpPath)]);
  const pglite = await createPglite({ loadDataDir: dump });
  const knex = knexOnPglite(pglite);
  return { knex, kind: 'embedded', url: undefined, notifications: { kind: 'embedded', pglite }, destroy: () => knex.destroy() };
}

async function createFromTemplateWithRetry(admin: Knex, name: string, template: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      return;
    } catch (error) {
      const busy = error instanceof Error && /being accessed by other users/.test(error.message);
      if (!busy || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
    }
  }
}
