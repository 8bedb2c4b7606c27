// The database drops the service's connections under load (pg_terminate_backend, as a failover or a
// restart does): requests fail with 503 service_unavailable for a moment, then succeed again; never a
// 500, never a driver's message.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import knexFactory from 'knex';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedCognito, type EmbeddedCognito } from '../../src/local/cognito.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from '../support/database.js';
import { adminUrlFor } from '../support/urls.js';
import { signInCustomer, type SignedInUser } from '../support/users.js';
import { logRecords, RecordingClient, seedFaultMenu, sleep, startServiceProcess, type FaultMenu, type ServiceProcess } from './support.js';

const CONNECTIONS = 30;

describe.skipIf(!onRealPostgres)('database connections killed under load (needs the real PostgreSQL server: set DATABASE_URL)', () => {
  let db: TestDatabase;
  let cognito: EmbeddedCognito;
  let dataDir: string;
  let menu: FaultMenu;
  let customers: SignedInUser[];
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase({ poolMax: 2 });
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-fault-pg-'));
    cognito = await startEmbeddedCognito({ dataDir: path.join(dataDir, 'cognito'), port: 0, logger: pino({ level: 'silent' }) });
    menu = await seedFaultMenu(db.knex, 'dbkill.example.com');
    customers = [];
    for (let i = 0; i < 10; i += 1) customers.push(await signInCustomer(cognito));
  }, 120_000);

  afterAll(async () => {
    if (service !== undefined && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    await cognito?.stop();
    await db?.destroy();
    if (dataDir !== undefined) await fs.rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('answers 503 service_unavailable while its connections are killed, then serves again', async () => {
    service = await startServiceProcess({
      DATABASE_URL: db.url ?? '',
      DATA_DIR: path.join(dataDir, 'data'),
      LOG_LEVEL: 'warn',
      COGNITO_USER_POOL_ID: cognito.userPoolId,
      COGNITO_CLIENT_ID: cognito.clientId,
      COGNITO_ENDPOINT: cognito.endpoint,
      COGNITO_AUTH_FLOW: 'USER_PASSWORD_AUTH',
    });
    const running = service;
    const client = new RecordingClient(CONNECTIONS);
    const tenant = { 'x-restaurant-domain': menu.domain };
    const databaseName = new URL(db.url ?? '').pathname.slice(1);
    const admin = knexFactory({ client: 'pg', connection: adminUrlFor(db.url ?? ''), pool: { min: 0, max: 1 } });
    let stop = false;

    // Reads, writes in transactions (cart lines, orders), and the readiness probe.
    const workers = Array.from({ length: CONNECTIONS }, async (_, w) => {
      const customer = customers[w % customers.length]!;
      const auth = { ...tenant, authorization: customer.auth };
      for (let n = 0; !stop; n += 1) {
        switch ((w + n) % 5) {
          case 0:
            await client.send(running.url, 'GET', '/v1/recipes?limit=20', { headers: tenant });
            break;
          case 1:
            await client.send(running.url, 'GET', '/v1/cart', { headers: auth });
            break;
          case 2:
            await client.send(running.url, 'POST', '/v1/cart/items', {
              headers: auth,
              body: { recipe_id: menu.recipes[n % menu.recipes.length]!.id, quantity: 1 },
            });
            break;
          case 3:
            await client.send(running.url, 'POST', '/v1/orders', {
              headers: { ...auth, 'idempotency-key': `${w}-${n}-${Date.now()}` },
              body: { fulfillment: 'pickup', payment_method: 'cash' },
            });
            break;
          default:
            await client.send(running.url, 'GET', '/readyz');
        }
      }
    });

    let terminated = 0;
    let lastKill = 0;
    try {
      await sleep(1_500);
      for (let round = 0; round < 4; round += 1) {
        const { rows } = (await admin.raw(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = ? AND application_name = 'tablekit' AND pid <> pg_backend_pid()`,
          [databaseName],
        )) as { rows: Array<{ n: string }> };
        terminated += Number(rows[0]?.n ?? 0);
        lastKill = Date.now();
        await sleep(700);
      }
      // Long enough after the last kill for the pool to have replaced every connection.
      await sleep(3_000);
    } finally {
      stop = true;
      await Promise.all(workers);
      client.close();
      await admin.destroy();
    }

    const answered = client.outcomes.filter((o) => o.status !== undefined);
    expect(client.outcomes.filter((o) => o.error !== undefined).map((o) => `${o.method} ${o.path}: ${o.error}`)).toEqual([]);
    expect(terminated).toBeGreaterThan(0);

    // Never a 500; every failure is a 503 service_unavailable problem that names no driver detail.
    expect(answered.filter((o) => (o.status ?? 0) >= 500 && o.status !== 503).map((o) => `${o.method} ${o.path} → ${o.status} ${o.body}`)).toEqual([]);
    const unavailable = answered.filter((o) => o.status === 503 && o.path !== '/readyz');
    for (const o of unavailable) {
      expect(o.contentType).toMatch(/^application\/problem\+json/);
      const problem = JSON.parse(o.body ?? '{}') as { code?: string; detail?: string };
      expect(problem.code).toBe('service_unavailable');
      expect(o.body).not.toMatch(/terminat|administrator|connection|pg_|postgres|sql|knex|ECONN/i);
    }
    // Other answers are the ordinary ones (4xx only where the request itself was refused: a full cart, an empty one).
    const other = answered.filter((o) => o.status !== 503 && !((o.status ?? 0) >= 200 && (o.status ?? 0) < 300));
    expect(other.map((o) => `${o.method} ${o.path} → ${o.status} ${o.body?.slice(0, 120)}`).filter((line) => !/cart_empty|at most 50/.test(line))).toEqual([]);

    // A moment after the last kill, everything is served again.
    const after = answered.filter((o) => o.sentAt > lastKill + 1_500);
    expect(after.length).toBeGreaterThan(50);
    expect(after.filter((o) => o.status === 503 || (o.status ?? 0) >= 500).map((o) => `${o.method} ${o.path} → ${o.status}`)).toEqual([]);
    expect(running.child.exitCode).toBeNull();

    // The service logged the failures (with the driver's words, for the operator), but did not crash.
    expect(logRecords(running.output()).some((r) => r.level === 60)).toBe(false);
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
    console.info(
      `connections killed: ${terminated} backends terminated in 4 rounds; ${answered.length} answers, ${unavailable.length} of them 503 service_unavailable, ${after.length} after the last kill all served`,
    );
  }, 180_000);
});
