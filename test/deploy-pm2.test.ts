// ecosystem.config.js exercised: the built service under pm2 in cluster mode, with DATABASE_URL alone set
// (README: "the usual development setup"), as a developer would start it. The identity server and the
// orders queue then run once, in the app `tablekit-embedded`, for both instances; the database is one of
// this test's own on the real PostgreSQL server. test/support/pm2.ts keeps pm2 away from the machine's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DOMAIN } from '../seeds/demo-restaurant.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';
import { buildService, createPm2Sandbox, freePort, isAlive, portIsFree, ROOT, waitFor, type Pm2Sandbox } from './support/pm2.js';

const { nodeRuntimeArgs } = (await import(path.join(ROOT, 'ecosystem.config.js'))) as { nodeRuntimeArgs: string[] };

const APP = 'tablekit';
const EMBEDDED_APP = 'tablekit-embedded';
const INSTANCES = 2;

interface Answer {
  status: number;
  body: unknown;
}

describe.skipIf(!onRealPostgres)('pm2 cluster mode with ecosystem.config.js and DATABASE_URL alone (needs the real PostgreSQL server)', () => {
  let database: TestDatabase | undefined;
  let sandbox: Pm2Sandbox | undefined;
  let port = 0;
  let cognitoPort = 0;
  let sqsPort = 0;

  async function call(method: string, pathname: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
    const response = await fetch(`http://127.0.0.1:${port}${pathname}`, {
      method,
      headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body };
  }
  const get = (pathname: string, headers: Record<string, string> = {}) => call('GET', pathname, { headers });

  async function login(email: string, password: string): Promise<Answer> {
    return call('POST', '/v1/auth/login', { body: { email, password } });
  }

  beforeAll(async () => {
    await buildService();
    // Migrated, and nothing else: the demo restaurant is for `tablekit-embedded` to seed.
    database = await createTestDatabase({ poolMax: 2 });
    [port, cognitoPort, sqsPort] = [await freePort(), await freePort(), await freePort()];
    sandbox = await createPm2Sandbox({
      WEB_CONCURRENCY: String(INSTANCES),
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      DATABASE_URL: database.url ?? '',
      EMBEDDED_COGNITO_PORT: String(cognitoPort),
      EMBEDDED_SQS_PORT: String(sqsPort),
      // The per-email limit counts a login until it has succeeded, across instances (its counters are in
      // Postgres): the 8 simultaneous logins below for one account would otherwise trip the default 5.
      AUTH_RATE_LIMIT_FAILED_PER_EMAIL: '20',
    });
  }, 240_000);

  afterAll(async () => {
    await sandbox?.destroy();
    await database?.destroy();
  }, 60_000);

  it('starts the shared emulators once, then the instances in cluster mode, each once it says it is ready', async () => {
    const pm2 = sandbox!;
    const startedAt = performance.now();
    await pm2.pm2('start', 'ecosystem.config.js');
    const startMs = performance.now() - startedAt;

    const processes = await pm2.list();
    const embedded = processes.filter((p) => p.name === EMBEDDED_APP);
    expect(embedded).toHaveLength(1);
    expect(embedded[0]?.pm2_env).toMatchObject({
      status: 'online',
      exec_mode: 'fork_mode',
      wait_ready: true,
      restart_time: 0,
      pm_exec_path: path.join(ROOT, 'dist/src/cli/embedded.js'),
      args: ['identity', 'queue'],
    });
    const instances = processes.filter((p) => p.name === APP);
    expect(instances).toHaveLength(INSTANCES);
    for (const p of instances) {
      expect(p.pm2_env).toMatchObject({
        status: 'online',
        exec_mode: 'cluster_mode',
        wait_ready: true,
        listen_timeout: 30_000,
        kill_timeout: 15_000,
        restart_time: 0,
        pm_exec_path: path.join(ROOT, 'dist/src/main.js'),
      });
      // node's own arguments, which pm2 makes each cluster worker's execArgv (its process title hides them
      // from /proc/<pid>/cmdline).
      expect(p.pm2_env).toMatchObject({ node_args: nodeRuntimeArgs });
    }
    // With wait_ready, `pm2 start` returns once every process has sent 'ready', or after
    // listen_timeout (30 s) for one that never does: well under 30 s means all of them said it.
    expect(startMs).toBeLessThan(25_000);
    expect((await get('/healthz')).status).toBe(200);
    const banners = async () => ((await pm2.outLog(APP)).match(/Tablekit is listening on/g) ?? []).length;
    await waitFor(async () => (await banners()) >= INSTANCES, 5_000);
    expect(await banners()).toBe(INSTANCES);
    expect(await pm2.outLog(EMBEDDED_APP)).toContain('"msg":"shared emulators ready"');
    // Nothing failed on the way: no instance started before the queue it asks for its dead-letter queue.
    const errors = (await pm2.outLog(APP)).split('\n').filter((line) => /"level":(40|50|60)/.test(line));
    expect(errors).toEqual([]);
  }, 60_000);

  it('answers health, readiness and the demo restaurant (seeded by tablekit-embedded) on the shared port, many times', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ok' } });
    // Concurrent requests open several connections, which the cluster spreads over the instances.
    for (let round = 0; round < 5; round += 1) {
      const responses = await Promise.all(Array.from({ length: 10 }, () => get('/v1/restaurant', { 'X-Restaurant-Domain': DEMO_DOMAIN })));
      for (const response of responses) expect(response).toMatchObject({ status: 200, body: { domain: DEMO_DOMAIN } });
    }
    const instances = (await sandbox!.list()).filter((p) => p.name === APP);
    expect(instances.map((p) => [p.pm2_env.status, p.pm2_env.restart_time])).toEqual(Array.from({ length: INSTANCES }, () => ['online', 0]));
  });

  it('has one user pool behind every instance: a sign-up is confirmed, and its logins and tokens work on all of them', async () => {
    const email = `pm2-${randomUUID()}@example.com`;
    const password = 'Pm2-password-1!';
    expect(await call('POST', '/v1/auth/signup', { body: { email, password, name: 'Cluster' } })).toMatchObject({ status: 201, body: { confirmed: true } });

    // Side by side, so they arrive on both instances.
    const logins = await Promise.all(Array.from({ length: 8 }, () => login(email, password)));
    expect(logins.map((answer) => answer.status)).toEqual(Array.from({ length: 8 }, () => 200));
    const token = (logins[0]!.body as { access_token: string }).access_token;
    const profiles = await Promise.all(
      Array.from({ length: 10 }, () => get('/v1/customers/me', { 'X-Restaurant-Domain': DEMO_DOMAIN, Authorization: `Bearer ${token}` })),
    );
    for (const profile of profiles) expect(profile).toMatchObject({ status: 200, body: { email } });

    // The demo manager, created by tablekit-embedded, manages the restaurant it seeded.
    const manager = await login('manager@demo.localhost', 'Demo-password-1!');
    expect(manager.status).toBe(200);
    const staff = await get('/v1/staff', {
      'X-Restaurant-Domain': DEMO_DOMAIN,
      Authorization: `Bearer ${(manager.body as { access_token: string }).access_token}`,
    });
    expect(staff).toMatchObject({ status: 200, body: { data: [{ email: 'manager@demo.localhost', role: 'manager' }] } });
  });

  it('confirms an order through the one shared queue', async () => {
    const email = `pm2-order-${randomUUID()}@example.com`;
    const password = 'Pm2-password-1!';
    expect((await call('POST', '/v1/auth/signup', { body: { email, password } })).status).toBe(201);
    const token = ((await login(email, password)).body as { access_token: string }).access_token;
    const headers = { 'X-Restaurant-Domain': DEMO_DOMAIN, Authorization: `Bearer ${token}` };
    const recipes = (await get('/v1/recipes?available=true&limit=1', headers)).body as { data: Array<{ id: number }> };
    expect((await call('POST', '/v1/cart/items', { headers, body: { recipe_id: recipes.data[0]?.id, quantity: 1 } })).status).toBe(201);
    // Cash: the confirmation message is queued as the order is placed.
    const placed = await call('POST', '/v1/orders', {
      headers: { ...headers, 'Idempotency-Key': randomUUID() },
      body: { fulfillment: 'pickup', payment_method: 'cash' },
    });
    expect(placed).toMatchObject({ status: 201, body: { status: 'pending' } });
    const orderId = (placed.body as { id: number }).id;
    expect(await waitFor(async () => ((await get(`/v1/orders/${orderId}`, headers)).body as { status: string }).status === 'confirmed', 20_000)).toBe(true);
  });

  it("passes the Dockerfile's and docker-compose.yml's health check commands", async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    // Both are `node -e <script>`; the compose one has the container's port written in.
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\r?\n/g, ' ');
    const dockerCommand = JSON.parse(/^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? 'null') as string[] | null;
    expect(dockerCommand?.slice(0, 2)).toEqual(['node', '-e']);
    await expect(run(process.execPath, dockerCommand?.slice(1) ?? [], { env: { PORT: String(port) }, timeout: 10_000 })).resolves.toBeDefined();

    const { parse } = await import('yaml');
    const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: { api: { healthcheck: { test: string[] }; environment: Record<string, string> } };
    };
    const composeCommand = compose.services.api.healthcheck.test;
    expect(composeCommand.slice(0, 2)).toEqual(['CMD', 'node']);
    const containerPort = compose.services.api.environment.PORT;
    const args = composeCommand.slice(2).map((arg) => arg.replaceAll(`127.0.0.1:${containerPort}/`, `127.0.0.1:${port}/`));
    await expect(run(process.execPath, args, { timeout: 10_000 })).resolves.toBeDefined();
  });

  it('stops every process, gracefully, with pm2 delete all and pm2 kill, and frees the ports', async () => {
    const pm2 = sandbox!;
    const pids = (await pm2.list()).map((p) => p.pid);
    expect(pids).toHaveLength(INSTANCES + 1);
    const daemon = pm2.daemonPid();
    expect(daemon).toBeDefined();

    await pm2.pm2('delete', 'all');
    await pm2.pm2('kill');

    expect(await waitFor(() => pids.every((pid) => !isAlive(pid)), 5_000)).toBe(true);
    expect(await waitFor(() => daemon === undefined || !isAlive(daemon), 5_000)).toBe(true);
    for (const used of [port, cognitoPort, sqsPort]) expect(await waitFor(() => portIsFree(used), 5_000)).toBe(true);
    // Each process drained and exited 0 on pm2's signal (kill_timeout never reached for SIGKILL), and said so.
    const exits = [...(await pm2.daemonLog()).matchAll(/App \[([\w-]+):(\d+)\] exited with code \[(\d+)\] via signal \[(\w+)\]/g)];
    expect(exits.map((m) => [m[1], m[3], m[4]]).sort()).toEqual([
      [APP, '0', 'SIGINT'],
      [APP, '0', 'SIGINT'],
      [EMBEDDED_APP, '0', 'SIGINT'],
    ]);
    expect(((await pm2.outLog(APP)).match(/"msg":"stopped"/g) ?? []).length).toBe(INSTANCES);
    expect(await pm2.outLog(EMBEDDED_APP)).toContain('"msg":"stopped"');
  }, 45_000);
});

describe.skipIf(!onRealPostgres)('pm2 cluster mode without DATABASE_URL (needs the built service: runs beside the tests above)', () => {
  let sandbox: Pm2Sandbox | undefined;

  afterAll(async () => {
    await sandbox?.destroy();
  }, 60_000);

  it('each instance refuses to start, in one line that names DATABASE_URL', async () => {
    sandbox = await createPm2Sandbox({ NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(await freePort()), LOG_LEVEL: 'info' });
    // Started without ecosystem.config.js, as `pm2 start dist/src/main.js -i 2` would.
    await sandbox.pm2('start', 'dist/src/main.js', '--name', 'bare', '-i', '1', '--no-autorestart', '--merge-logs');
    expect(await waitFor(async () => (await sandbox!.outLog('bare')).includes('"level":60'), 20_000)).toBe(true);
    const lines = (await sandbox.outLog('bare')).split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '') as { msg: string; variables: string[] };
    expect(line.msg).toMatch(/^a cluster instance cannot run embedded parts: set DATABASE_URL, COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID and SQS_QUEUE_URL/);
    expect(line.msg).toContain('ecosystem.config.js');
    expect(line.variables).toEqual(['DATABASE_URL', 'COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID', 'SQS_QUEUE_URL']);
  }, 60_000);
});

describe('ecosystem.config.js: what it runs for which environment', () => {
  /** The apps pm2 would get, loaded as pm2 loads the file, with this environment and pm2 command line. */
  function appsFor(env: Record<string, string>, pm2Args: string[] = ['start', 'ecosystem.config.js']) {
    const result = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "const { apps } = await import('./ecosystem.config.js'); console.log(JSON.stringify(apps))", '--', ...pm2Args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as Array<{ name: string; args?: string[]; env?: Record<string, string> }>).map((app) => ({
      name: app.name,
      args: app.args,
      variables: Object.keys(app.env ?? {}).sort(),
    }));
  }
  const identityVariables = ['COGNITO_AUTH_FLOW', 'COGNITO_CLIENT_ID', 'COGNITO_ENDPOINT', 'COGNITO_USER_POOL_ID'];
  const queueVariables = ['AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL_SQS', 'AWS_SECRET_ACCESS_KEY', 'SQS_QUEUE_URL'];
  // How node runs every instance (its heap bounds, glibc's arenas), whatever is embedded.
  const runtimeVariables = ['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'NODE_OPTIONS'];

  it('with DATABASE_URL alone: the shared identity server and queue, and the instances pointed at them', () => {
    const variables = [...identityVariables, ...queueVariables].sort();
    expect(appsFor({ DATABASE_URL: 'postgres://localhost/tablekit' })).toEqual([
      { name: EMBEDDED_APP, args: ['identity', 'queue'], variables },
      { name: APP, variables: [...runtimeVariables, ...variables].sort() },
    ]);
  });

  it('shares only what is not configured', () => {
    expect(appsFor({ SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/orders' })).toEqual([
      { name: EMBEDDED_APP, args: ['identity'], variables: identityVariables },
      { name: APP, variables: [...runtimeVariables, ...identityVariables].sort() },
    ]);
    expect(appsFor({ SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/orders', COGNITO_USER_POOL_ID: 'eu-west-1_AbC', COGNITO_CLIENT_ID: 'c' })).toEqual([
      { name: APP, variables: runtimeVariables },
    ]);
  });

  it('embeds nothing in production, so the instances name what is missing', () => {
    expect(appsFor({}, ['start', 'ecosystem.config.js', '--env', 'production'])).toEqual([{ name: APP, variables: runtimeVariables }]);
    expect(appsFor({ NODE_ENV: 'production' })).toEqual([{ name: APP, variables: runtimeVariables }]);
  });
});
