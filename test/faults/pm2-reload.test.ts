// `pm2 reload tablekit` while keep-alive clients load the cluster: a deploy drops no request. Each old
// instance stops listening, answers its connections' next requests with `Connection: close`, finishes what
// is in flight, logs "stopped" and exits 0; the clients reconnect to the new instances (src/http/drain.ts).
// The load is a bounded loop on loopback; the whole test stays around a minute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DOMAIN } from '../../seeds/demo-restaurant.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from '../support/database.js';
import { buildService, createPm2Sandbox, freePort, type Pm2Sandbox } from '../support/pm2.js';
import { RecordingClient, sleep, type Outcome } from './support.js';

const APP = 'tablekit';
const INSTANCES = 2;
/** Keep-alive connections, as a balancer or many browsers hold them. */
const CONNECTIONS = 50;
/** Bounds on the load, whatever happens to the reload. */
const MAX_LOAD_MS = 90_000;
const MAX_REQUESTS = 150_000;

describe.skipIf(!onRealPostgres)('pm2 reload under keep-alive load (needs the real PostgreSQL server: set DATABASE_URL)', () => {
  let database: TestDatabase | undefined;
  let sandbox: Pm2Sandbox | undefined;
  let port = 0;

  beforeAll(async () => {
    await buildService();
    database = await createTestDatabase({ poolMax: 2 });
    port = await freePort();
    sandbox = await createPm2Sandbox({
      WEB_CONCURRENCY: String(INSTANCES),
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      DATABASE_URL: database.url ?? '',
      EMBEDDED_COGNITO_PORT: String(await freePort()),
      EMBEDDED_SQS_PORT: String(await freePort()),
    });
    await sandbox.pm2('start', 'ecosystem.config.js');
  }, 180_000);

  afterAll(async () => {
    await sandbox?.destroy();
    await database?.destroy();
  }, 60_000);

  it('answers every request with 200 while every instance is replaced, and each replaced one logs "stopped"', async () => {
    const pm2 = sandbox!;
    const before = (await pm2.list()).filter((p) => p.name === APP);
    expect(before.map((p) => p.pm2_env.status)).toEqual(Array.from({ length: INSTANCES }, () => 'online'));

    const client = new RecordingClient(CONNECTIONS);
    const base = `http://127.0.0.1:${port}`;
    const headers = { 'x-restaurant-domain': DEMO_DOMAIN };
    const paths = ['/v1/restaurant', '/v1/recipes?limit=5', '/healthz'];
    let stopLoad = false;
    const loadStarted = Date.now();
    const load = Array.from({ length: CONNECTIONS }, async (_, worker) => {
      for (let n = 0; !stopLoad && client.outcomes.length < MAX_REQUESTS && Date.now() - loadStarted < MAX_LOAD_MS; n += 1) {
        await client.send(base, 'GET', paths[(worker + n) % paths.length]!, { headers, timeoutMs: 20_000 });
      }
    });

    try {
      await sleep(1_500);
      const reloadStarted = Date.now();
      await pm2.pm2('reload', APP);
      const reloadMs = Date.now() - reloadStarted;
      // The new instances carry the load for a while too.
      await sleep(1_500);
      stopLoad = true;
      await Promise.all(load);

      const outcomes: Outcome[] = client.outcomes;
      const failed = outcomes.filter((outcome) => outcome.status !== 200);
      expect(
        failed.slice(0, 5).map((outcome) => ({ path: outcome.path, status: outcome.status, error: outcome.error })),
        `${failed.length} of ${outcomes.length} requests failed`,
      ).toEqual([]);
      // Load ran through the whole reload, not just around it.
      expect(outcomes.filter((outcome) => outcome.sentAt > reloadStarted && outcome.sentAt < reloadStarted + reloadMs).length).toBeGreaterThan(500);
    } finally {
      stopLoad = true;
      await Promise.all(load);
      client.close();
    }

    const after = (await pm2.list()).filter((p) => p.name === APP);
    expect(after.map((p) => [p.pm2_env.status, p.pm2_env.restart_time])).toEqual(Array.from({ length: INSTANCES }, () => ['online', 1]));
    expect(after.map((p) => p.pid).filter((pid) => before.some((old) => old.pid === pid))).toEqual([]);

    // Every replaced instance drained and exited 0 on pm2's SIGINT, and its last line made it to the log.
    const exits = [...(await pm2.daemonLog()).matchAll(/App \[tablekit:_old_\d+\] exited with code \[(\d+)\] via signal \[(\w+)\]/g)];
    expect(exits.map((m) => [m[1], m[2]])).toEqual(Array.from({ length: INSTANCES }, () => ['0', 'SIGINT']));
    const log = await pm2.outLog(APP);
    expect((log.match(/"msg":"stopped"/g) ?? []).length).toBe(INSTANCES);
    expect(log).not.toContain('drain timed out');
  }, 150_000);
});
