// ecosystem.config.js exercised: the built service under pm2 in cluster mode, as on EC2.
//
// Cluster instances cannot share the embedded PGlite, nor each run their own Cognito, so this test
// provides what they share: a database of its own on the real PostgreSQL server (seeded with the demo
// restaurant) and one embedded Cognito in this process. pm2 runs with a PM2_HOME of its own, so it
// never touches a pm2 of the machine's, and its daemon is killed in afterAll whatever happened.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DOMAIN, seedDemoRestaurant } from '../seeds/demo-restaurant.js';
import { startEmbeddedCognito, type EmbeddedCognito } from '../src/local/cognito.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';

const run = promisify(execFile);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PM2 = path.join(ROOT, 'node_modules/pm2/bin/pm2');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const APP = 'tablekit';
const INSTANCES = 2;

interface Pm2Process {
  name: string;
  pid: number;
  pm_id: number;
  pm2_env: {
    status: string;
    exec_mode: string;
    wait_ready?: boolean;
    listen_timeout?: number;
    kill_timeout?: number;
    restart_time: number;
    pm_exec_path: string;
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function portIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => server.close(() => resolve()));
  return free;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}

describe.skipIf(!onRealPostgres)('pm2 cluster mode with ecosystem.config.js (needs the real PostgreSQL server: set DATABASE_URL)', () => {
  let database: TestDatabase | undefined;
  let cognito: EmbeddedCognito | undefined;
  let tempDir: string | undefined;
  let pm2Home = '';
  let port = 0;
  let env: NodeJS.ProcessEnv = {};
  const seenPids = new Set<number>();

  /** The pm2 CLI with our PM2_HOME and environment (which pm2 hands on to the instances). */
  async function pm2(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [PM2, ...args], { cwd: ROOT, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  }

  async function list(): Promise<Pm2Process[]> {
    const output = await pm2('jlist');
    const processes = JSON.parse(output.slice(output.indexOf('['))) as Pm2Process[];
    for (const p of processes) if (p.pid > 0) seenPids.add(p.pid);
    return processes.filter((p) => p.name === APP);
  }

  function daemonPid(): number | undefined {
    try {
      return Number(fs.readFileSync(path.join(pm2Home, 'pm2.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  }

  async function get(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${port}${pathname}`, { headers, signal: AbortSignal.timeout(5_000) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body };
  }

  beforeAll(async () => {
    // The instances run what `npm run build` produces: build it now, from the current sources.
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }).catch(
      (error: { stdout?: string; message: string }) => {
        throw new Error(`npm run build failed:\n${error.stdout ?? error.message}`);
      },
    );

    tempDir = await mkdtemp(path.join(os.tmpdir(), 'tablekit-pm2-'));
    pm2Home = path.join(tempDir, 'pm2');
    fs.mkdirSync(pm2Home);

    database = await createTestDatabase({ poolMax: 2 });
    await seedDemoRestaurant(database.knex);
    // Only this test's process talks to the database from here on: the instances have their own pools.
    cognito = await startEmbeddedCognito({ dataDir: path.join(tempDir, 'cognito'), port: 0, logger: pino({ level: 'silent' }) });
    port = await freePort();

    // A clean environment, not this process's: nothing of the machine's (a stray SQS_QUEUE_URL,
    // a PM2_HOME) may leak into the instances.
    env = {
      PATH: process.env.PATH,
      PM2_HOME: pm2Home,
      WEB_CONCURRENCY: String(INSTANCES),
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATA_DIR: path.join(tempDir, 'data'),
      DATABASE_URL: database.url,
      COGNITO_USER_POOL_ID: cognito.userPoolId,
      COGNITO_CLIENT_ID: cognito.clientId,
      COGNITO_ENDPOINT: cognito.endpoint,
      COGNITO_AUTH_FLOW: 'USER_PASSWORD_AUTH',
    };
  }, 120_000);

  afterAll(async () => {
    // Whatever happened: no pm2 daemon, and no instance of ours, outlives the test.
    if (pm2Home !== '' && daemonPid() !== undefined) {
      await pm2('kill').catch(() => undefined);
      const daemon = daemonPid();
      if (daemon !== undefined && isAlive(daemon)) process.kill(daemon, 'SIGKILL');
    }
    for (const pid of seenPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await cognito?.stop();
    await database?.destroy();
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  }, 60_000);

  it('starts the instances in cluster mode and waits for each to say it is ready', async () => {
    const startedAt = performance.now();
    await pm2('start', 'ecosystem.config.js');
    const startMs = performance.now() - startedAt;

    const processes = await list();
    expect(processes).toHaveLength(INSTANCES);
    for (const p of processes) {
      expect(p.pm2_env).toMatchObject({
        status: 'online',
        exec_mode: 'cluster_mode',
        wait_ready: true,
        listen_timeout: 30_000,
        kill_timeout: 15_000,
        restart_time: 0,
        pm_exec_path: path.join(ROOT, 'dist/src/main.js'),
      });
    }
    // With wait_ready, `pm2 start` returns once every instance has sent 'ready', or after
    // listen_timeout (30 s) for one that never does: so well under 30 s means both said it.
    expect(startMs).toBeLessThan(20_000);
    // 'ready' is sent once listening: the port answers at once, no retry needed.
    expect((await get('/healthz')).status).toBe(200);
    // Both instances started the service (the banner precedes 'ready').
    const outLog = path.join(pm2Home, 'logs', `${APP}-out.log`);
    const banners = async () => ((await readFile(outLog, 'utf8').catch(() => '')).match(/Tablekit is listening on/g) ?? []).length;
    await waitFor(async () => (await banners()) >= INSTANCES, 5_000);
    expect(await banners()).toBe(INSTANCES);
  }, 45_000);

  it('answers health, readiness and the demo restaurant on the shared port, many times', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ok' } });
    // Concurrent requests open several connections, which the cluster spreads over the instances.
    for (let round = 0; round < 5; round += 1) {
      const responses = await Promise.all(Array.from({ length: 10 }, () => get('/v1/restaurant', { 'X-Restaurant-Domain': DEMO_DOMAIN })));
      for (const response of responses) {
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ domain: DEMO_DOMAIN });
      }
    }
    const processes = await list();
    expect(processes.map((p) => [p.pm2_env.status, p.pm2_env.restart_time])).toEqual(Array.from({ length: INSTANCES }, () => ['online', 0]));
  });

  it("passes the Dockerfile's and docker-compose.yml's health check commands", async () => {
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

  it('stops every instance, gracefully, with pm2 delete all and pm2 kill, and frees the port', async () => {
    const pids = (await list()).map((p) => p.pid);
    expect(pids).toHaveLength(INSTANCES);
    const daemon = daemonPid();
    expect(daemon).toBeDefined();

    await pm2('delete', 'all');
    await pm2('kill');

    expect(await waitFor(() => pids.every((pid) => !isAlive(pid)), 5_000)).toBe(true);
    expect(await waitFor(() => daemon === undefined || !isAlive(daemon), 5_000)).toBe(true);
    expect(await waitFor(() => portIsFree(port), 5_000)).toBe(true);
    // Each instance drained and exited 0 on pm2's signal (kill_timeout never reached for SIGKILL).
    const daemonLog = await readFile(path.join(pm2Home, 'pm2.log'), 'utf8');
    const exits = [...daemonLog.matchAll(/App \[tablekit:(\d+)\] exited with code \[(\d+)\] via signal \[(\w+)\]/g)];
    expect(exits.map((m) => [m[2], m[3]])).toEqual(Array.from({ length: INSTANCES }, () => ['0', 'SIGINT']));
  }, 45_000);
});
