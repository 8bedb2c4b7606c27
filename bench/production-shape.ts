// The service as it is deployed: `node dist/src/main.js` in a process of its own (after `npm run build`),
// on the bench's PostgreSQL database, with the identity server and the queue it talks to in another
// process (`dist/src/cli/embedded.js`: Cognito, SQS and S3 stand-ins, as the real ones would be
// elsewhere). Its memory is read from /proc, so nothing of the bench, the load generator, the baselines
// or the stand-ins is counted.
import { execFile, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { EMBEDDED_S3_CREDENTIALS } from '../src/local/s3.js';

const run = promisify(execFile);

export interface ProductionService {
  url: string;
  pid: number;
  /** Resident set size of the service's process now, in MB. */
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * `count` distinct ports free now, below the kernel's ephemeral range: a port `listen(0)` hands out is an
 * ephemeral one, which an outgoing connection (the emulators' to PostgreSQL) may take before the service
 * listens on it.
 */
async function freePorts(count: number): Promise<number[]> {
  const [low] = (await fs.readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768 60999')).trim().split(/\s+/).map(Number);
  const ceiling = Math.min(Number.isFinite(low) ? Number(low) : 32768, 32768) - 1;
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * (ceiling - 20_000));
    if (ports.includes(port)) continue;
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      ports.push(port);
    }
  }
  return ports;
}

async function rssOf(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmRSS for process ${pid}`);
  return kb / 1024;
}

async function waitFor(what: string, child: ChildProcess, ready: () => Promise<boolean>, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} was not ready within ${seconds} s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * How production starts node, from ecosystem.config.js (the Dockerfile has the same): `nodeRuntimeEnv`,
 * its variables, and `nodeRuntimeArgs`, node's own arguments.
 */
async function nodeRuntime(root: string): Promise<{ env: Record<string, string>; args: string[] }> {
  const ecosystem: unknown = await import(pathToFileURL(path.join(root, 'ecosystem.config.js')).href);
  const { nodeRuntimeEnv: env, nodeRuntimeArgs: args } = ecosystem as { nodeRuntimeEnv?: unknown; nodeRuntimeArgs?: unknown };
  if (typeof env !== 'object' || env === null || !Object.values(env).every((value) => typeof value === 'string')) {
    throw new Error('ecosystem.config.js exports no nodeRuntimeEnv of strings');
  }
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) throw new Error('ecosystem.config.js exports no nodeRuntimeArgs of strings');
  return { env: env as Record<string, string>, args };
}

/** Builds the service (`npm run build`) and starts it and its shared emulators on `databaseUrl`. */
export async function startProductionShape(
  root: string,
  databaseUrl: string,
  extraEnv: Record<string, string>,
  log: (line: string) => void,
): Promise<ProductionService> {
  log('production shape: npm run build …');
  await run('npm', ['run', 'build'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-bench-prod-'));
  const [cognitoPort, sqsPort, s3Port, servicePort] = await freePorts(4);
  const shared: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    COGNITO_ENDPOINT: `http://127.0.0.1:${cognitoPort}`,
    COGNITO_USER_POOL_ID: 'local_tablekit',
    COGNITO_CLIENT_ID: 'tablekitlocalappclient0001',
    COGNITO_AUTH_FLOW: 'USER_PASSWORD_AUTH',
    SQS_QUEUE_URL: `http://127.0.0.1:${sqsPort}/000000000000/tablekit-orders`,
    AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${sqsPort}`,
    S3_BUCKET: 'tablekit-media',
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${s3Port}`,
    // The one key pair the S3 stand-in knows (src/local/s3.ts); the other two check none.
    AWS_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    // Any free port: the bench's own service holds the default one.
    METRICS_PORT: '0',
  };
  const runtime = await nodeRuntime(root);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), ...shared };
  // Their output goes to files, read back into the error when one of them does not start.
  const emulatorsFile = await fs.open(path.join(dataDir, 'emulators.log'), 'w');
  const serviceFile = await fs.open(path.join(dataDir, 'service.log'), 'w');
  const emulatorsLog = emulatorsFile.fd;
  const serviceLog = serviceFile.fd;
  const tail = async (name: string) => (await fs.readFile(path.join(dataDir, name), 'utf8').catch(() => '')).slice(-2000);
  const emulators = fork(path.join(root, 'dist', 'src', 'cli', 'embedded.js'), ['identity', 'queue', 'media'], {
    cwd: root,
    env,
    execArgv: [],
    stdio: ['ignore', emulatorsLog, emulatorsLog, 'ipc'],
  });
  let emulatorsReady = false;
  emulators.on('message', (message) => {
    if (message === 'ready') emulatorsReady = true;
  });
  try {
    await waitFor('the shared emulators', emulators, async () => emulatorsReady, 60);
  } catch (error) {
    await stopChild(emulators);
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${await tail('emulators.log')}`);
  }
  const service = fork(path.join(root, 'dist', 'src', 'main.js'), [], {
    cwd: root,
    // How production runs node (NODE_OPTIONS, MALLOC_ARENA_MAX, node's arguments), from where pm2 reads it.
    env: { ...env, ...runtime.env, PORT: String(servicePort), HOST: '127.0.0.1', ...extraEnv },
    // Not the bench's own flags (tsx's loader, --expose-gc): the service runs as production's `node … dist/src/main.js` does.
    execArgv: runtime.args,
    stdio: ['ignore', serviceLog, serviceLog, 'ipc'],
  });
  const url = `http://127.0.0.1:${servicePort}`;
  try {
    await waitFor('node dist/src/main.js', service, async () => (await fetch(`${url}/readyz`)).ok, 60);
  } catch (error) {
    await stopChild(service);
    await stopChild(emulators);
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${await tail('service.log')}`);
  }
  const pid = service.pid;
  if (pid === undefined) throw new Error('the service process has no pid');
  return {
    url,
    pid,
    rssMb: () => rssOf(pid),
    stop: async () => {
      await stopChild(service);
      await stopChild(emulators);
      await emulatorsFile.close();
      await serviceFile.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
