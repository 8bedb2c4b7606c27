import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import knexFactory from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { startService, type RunningService } from '../src/service.js';
import { silentLogger } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { adminUrlFor } from './support/urls.js';

describe('/readyz when the database is gone', () => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let service: RunningService;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-readyz-'));
    const env: Record<string, string> = { PORT: '0', METRICS_PORT: 'off', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', WORKER_ENABLED: 'false' };
    db = await createTestDatabase();
    if (db.url !== undefined) env.DATABASE_URL = db.url;
    else {
      // PGlite allows one user of a data directory: the service gets its own.
      await db.destroy();
      db = undefined;
    }
    service = await startService(loadConfig(env), silentLogger);
  });
  afterAll(async () => {
    await service.stop();
    await db?.destroy();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 while liveness stays 200', async () => {
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

    if (db?.url !== undefined) {
      // The server drops the database under the service's feet.
      const name = new URL(db.url).pathname.slice(1);
      const admin = knexFactory({ client: 'pg', connection: adminUrlFor(db.url), pool: { min: 0, max: 1 } });
      try {
        await admin.raw(`DROP DATABASE ${name} WITH (FORCE)`);
      } finally {
        await admin.destroy();
      }
    } else {
      await service.database.close(); // the embedded database stops
    }

    const res = await fetch(`${service.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', reason: 'database unavailable' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});
