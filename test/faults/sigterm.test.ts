// SIGTERM while 50 connections load the API: what was accepted before the signal is answered as usual,
// and the process exits 0 within its drain timeout.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedCognito, type EmbeddedCognito } from '../../src/local/cognito.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from '../support/database.js';
import { signInCustomer, type SignedInUser } from '../support/users.js';
import { logRecords, RecordingClient, seedFaultMenu, sleep, startServiceProcess, type FaultMenu, type Outcome, type ServiceProcess } from './support.js';

const CONNECTIONS = 50;
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** A request whose body we finish when we choose: the server has parsed its head, so it is accepted and in flight. */
function heldRequest(port: number, pathname: string, headers: Record<string, string>, body: string) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('utf8')));
  const response = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
  socket.on('error', () => undefined);
  const head = `POST ${pathname} HTTP/1.1\r\n${Object.entries({
    ...headers,
    host: '127.0.0.1',
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  })
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n')}\r\n\r\n`;
  const written = new Promise<void>((resolve) => socket.once('connect', () => socket.write(`${head}${body.slice(0, 1)}`, () => resolve())));
  return { written, finish: () => socket.write(body.slice(1)), response };
}

describe.skipIf(!onRealPostgres)('SIGTERM under load (needs the real PostgreSQL server: set DATABASE_URL)', () => {
  let db: TestDatabase;
  let cognito: EmbeddedCognito;
  let dataDir: string;
  let menu: FaultMenu;
  let customers: SignedInUser[];
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase({ poolMax: 2 });
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-fault-sigterm-'));
    cognito = await startEmbeddedCognito({ dataDir: path.join(dataDir, 'cognito'), port: 0, logger: pino({ level: 'silent' }) });
    menu = await seedFaultMenu(db.knex, 'sigterm.example.com');
    customers = [];
    for (let i = 0; i < 10; i += 1) customers.push(await signInCustomer(cognito));
  }, 120_000);

  afterAll(async () => {
    if (service !== undefined && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    await cognito?.stop();
    await db?.destroy();
    if (dataDir !== undefined) await fs.rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('answers every request accepted before the signal as usual, then exits 0 within the drain timeout', async () => {
    service = await startServiceProcess({
      DATABASE_URL: db.url ?? '',
      DATA_DIR: path.join(dataDir, 'data'),
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      WORKER_ENABLED: 'false',
      COGNITO_USER_POOL_ID: cognito.userPoolId,
      COGNITO_CLIENT_ID: cognito.clientId,
      COGNITO_ENDPOINT: cognito.endpoint,
      COGNITO_AUTH_FLOW: 'USER_PASSWORD_AUTH',
    });
    const running = service;
    const client = new RecordingClient(CONNECTIONS);
    const tenant = { 'x-restaurant-domain': menu.domain };
    const expected = new Map<string, number>();
    let stopLoad = false;
    let signalledAt = Number.POSITIVE_INFINITY;

    // 50 connections: the menu, the restaurant, and customers adding to their carts.
    const workers = Array.from({ length: CONNECTIONS }, async (_, w) => {
      let failuresAfterSignal = 0;
      for (let n = 0; !stopLoad && failuresAfterSignal < 3; n += 1) {
        const customer = customers[w % customers.length]!;
        const kind = (w + n) % 3;
        const outcome =
          kind === 0
            ? await client.send(running.url, 'GET', '/v1/recipes?limit=20', { headers: tenant })
            : kind === 1
              ? await client.send(running.url, 'GET', '/v1/restaurant', { headers: tenant })
              : await client.send(running.url, 'POST', '/v1/cart/items', {
                  headers: { ...tenant, authorization: customer.auth },
                  body: { recipe_id: menu.recipes[n % menu.recipes.length]!.id, quantity: 1 },
                });
        expected.set(outcome.id, kind === 2 ? 201 : 200);
        // Every cart holds at most 50 lines: empty it now and then (also a request under test).
        if (kind === 2 && n % 20 === 19) {
          const emptied = await client.send(running.url, 'DELETE', '/v1/cart', { headers: { ...tenant, authorization: customer.auth } });
          expected.set(emptied.id, 204);
        }
        if (outcome.error !== undefined && Date.now() >= signalledAt) failuresAfterSignal += 1;
      }
    });

    await sleep(2_500);
    // Three requests certainly accepted (their heads parsed) and still in flight when the signal comes.
    const held = customers
      .slice(0, 3)
      .map((customer, i) =>
        heldRequest(
          running.port,
          '/v1/cart/items',
          { ...tenant, authorization: customer.auth },
          JSON.stringify({ recipe_id: menu.recipes[i]!.id, quantity: 1 }),
        ),
      );
    await Promise.all(held.map((h) => h.written));
    await sleep(300);

    signalledAt = Date.now();
    running.child.kill('SIGTERM');
    await sleep(500);
    for (const h of held) h.finish();
    const exit = await Promise.race([running.exited, sleep(SHUTDOWN_TIMEOUT_MS + 15_000).then(() => undefined)]);
    stopLoad = true;
    await Promise.all(workers);
    client.close();

    expect(exit, `the service did not exit:\n${running.output().slice(-3000)}`).toBeDefined();
    expect(exit?.code, running.output().slice(-3000)).toBe(0);
    expect((exit?.at ?? Number.POSITIVE_INFINITY) - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);

    // The held requests: accepted before the signal, answered 201 after it, and told to reconnect elsewhere.
    for (const raw of await Promise.all(held.map((h) => h.response))) {
      expect(raw).toMatch(/^HTTP\/1\.1 201 /);
      expect(raw.toLowerCase()).toContain('connection: close');
    }

    const outcomes = client.outcomes;
    const answered = outcomes.filter((o) => o.status !== undefined);
    const inFlightAtSignal = outcomes.filter((o) => o.sentAt < signalledAt && (o.answeredAt ?? Number.POSITIVE_INFINITY) > signalledAt);
    // Every answer is the request's normal one: no 5xx, no 503 for a request it accepted.
    const abnormal = answered.filter((o) => o.status !== expected.get(o.id));
    expect(abnormal.map((o) => `${o.method} ${o.path} → ${o.status} ${o.body?.slice(0, 200)}`)).toEqual([]);
    expect(inFlightAtSignal.length).toBeGreaterThan(0);

    // What the service itself says it accepted: every request it logged as completed reached its client
    // with that status, and every request the client saw fail was never accepted.
    const completed = new Map(
      logRecords(running.output())
        .filter((r) => r.msg === 'request completed')
        .map((r) => [String((r.req as { id?: unknown } | undefined)?.id), Number((r.res as { status?: unknown } | undefined)?.status)]),
    );
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    const lost = [...completed].filter(([id, status]) => byId.has(id) && byId.get(id)?.status !== status);
    expect(
      lost.map(([id, status]) => `${byId.get(id)?.method} ${byId.get(id)?.path}: server ${status}, client ${byId.get(id)?.status ?? byId.get(id)?.error}`),
    ).toEqual([]);
    const failed: Outcome[] = outcomes.filter((o) => o.error !== undefined);
    expect(failed.filter((o) => completed.has(o.id)).map((o) => `${o.method} ${o.path}: ${o.error}`)).toEqual([]);
    // Requests that failed were all sent around or after the signal (a connection the server was closing).
    expect(failed.filter((o) => o.sentAt < signalledAt - 1_000).map((o) => `${o.method} ${o.path} at ${o.sentAt - signalledAt} ms: ${o.error}`)).toEqual([]);

    const messages = logRecords(running.output()).map((r) => r.msg);
    expect(messages.filter((m) => m === 'shutting down: refusing new connections, draining in-flight requests')).toHaveLength(1);
    expect(messages).toContain('stopped');
    expect(messages).not.toContain('drain timed out; closing remaining connections');
    // A deploy under load pages no one: nothing at error level or above (the aborted long polls included).
    expect(
      logRecords(running.output())
        .filter((r) => Number(r.level) >= 50)
        .map((r) => r.msg),
    ).toEqual([]);
    console.info(
      `SIGTERM: ${answered.length} answered (${inFlightAtSignal.length} in flight at the signal), ${failed.length} refused after it; exit ${exit?.code} ${(exit?.at ?? 0) - signalledAt} ms after the signal`,
    );
  }, 180_000);
});
