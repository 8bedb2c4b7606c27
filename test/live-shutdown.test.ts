import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DEMO_PASSWORD, loadConfig } from '../src/config/config.js';
import { startService, type RunningService } from '../src/service.js';
import { DEMO_MANAGER_EMAIL } from '../src/auth/identity.js';
import { silentLogger } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { openSse } from './support/sse.js';

describe('order streams when the service stops', () => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let service: RunningService;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-live-shutdown-'));
    const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', WORKER_ENABLED: 'false' };
    db = await createTestDatabase();
    if (db.url !== undefined) env.DATABASE_URL = db.url;
    else {
      // PGlite allows one user of a data directory: the service gets its own, fresh one.
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

  it('end with a retry: hint, so clients reconnect elsewhere, and the stop does not wait for them', async () => {
    const login = await fetch(`${service.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Restaurant-Domain': 'demo.localhost' },
      body: JSON.stringify({ email: DEMO_MANAGER_EMAIL, password: DEFAULT_DEMO_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const stream = await openSse(`${service.url}/v1/orders/stream`, { 'X-Restaurant-Domain': 'demo.localhost', Authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);

    const started = Date.now();
    await service.stop();
    await stream.ended;
    // Well inside SHUTDOWN_TIMEOUT_MS (10 s): an open stream does not hold the drain up.
    expect(Date.now() - started).toBeLessThan(5_000);
    // The stream opened with one retry: hint; the stop sends another as its last words.
    expect(stream.frames.length).toBeGreaterThan(1);
    expect(stream.frames.at(-1)?.retry).toBeGreaterThan(0);
  });
});
