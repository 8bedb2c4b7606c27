// The built service under pm2, as on EC2, for the tests that run ecosystem.config.js: a PM2_HOME of its
// own (never the machine's pm2), the environment given and nothing of the test process's, and cleanup
// that kills the daemon and every process it started whatever happened.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PM2_BIN = path.join(ROOT, 'node_modules/pm2/bin/pm2');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

export interface Pm2Process {
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
    args?: string[];
  };
}

/** `npm run build`: the instances run dist/, compiled now from the current sources. */
export async function buildService(): Promise<void> {
  await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: ROOT, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (error: { stdout?: string; message: string }) => {
      throw new Error(`npm run build failed:\n${error.stdout ?? error.message}`);
    },
  );
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function portIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => server.close(() => resolve()));
  return free;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}

export interface Pm2Sandbox {
  /** The directory holding PM2_HOME and DATA_DIR; removed by `destroy()`. */
  dir: string;
  pm2Home: string;
  /** The environment pm2 runs with and hands on to the apps. */
  env: NodeJS.ProcessEnv;
  /** The pm2 CLI, with that environment. */
  pm2(...args: string[]): Promise<string>;
  /** `pm2 jlist`, every process pm2 knows (their pids are remembered for cleanup). */
  list(): Promise<Pm2Process[]>;
  daemonPid(): number | undefined;
  /** What the processes of an app wrote to stdout (merge_logs: one file per app). */
  outLog(app: string): Promise<string>;
  /** pm2's own log: starts, stops and exit codes. */
  daemonLog(): Promise<string>;
  destroy(): Promise<void>;
}

/**
 * A pm2 of its own running with exactly `env` (plus PATH, PM2_HOME and a DATA_DIR inside the sandbox):
 * no stray variable of the machine's (a DATABASE_URL, an SQS_QUEUE_URL, a PM2_HOME) reaches the apps.
 */
export async function createPm2Sandbox(env: Record<string, string>): Promise<Pm2Sandbox> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tablekit-pm2-'));
  const pm2Home = path.join(dir, 'pm2');
  fs.mkdirSync(pm2Home);
  const fullEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, PM2_HOME: pm2Home, DATA_DIR: path.join(dir, 'data'), ...env };
  const seenPids = new Set<number>();

  const pm2 = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, [PM2_BIN, ...args], { cwd: ROOT, env: fullEnv, timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  };
  const daemonPid = () => {
    try {
      return Number(fs.readFileSync(path.join(pm2Home, 'pm2.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };

  return {
    dir,
    pm2Home,
    env: fullEnv,
    pm2,
    async list() {
      const output = await pm2('jlist');
      const processes = JSON.parse(output.slice(output.indexOf('['))) as Pm2Process[];
      for (const p of processes) if (p.pid > 0) seenPids.add(p.pid);
      return processes;
    },
    daemonPid,
    outLog: (app) => readFile(path.join(pm2Home, 'logs', `${app}-out.log`), 'utf8').catch(() => ''),
    daemonLog: () => readFile(path.join(pm2Home, 'pm2.log'), 'utf8').catch(() => ''),
    async destroy() {
      if (daemonPid() !== undefined) {
        await pm2('kill').catch(() => undefined);
        const daemon = daemonPid();
        if (daemon !== undefined && isAlive(daemon)) process.kill(daemon, 'SIGKILL');
      }
      for (const pid of seenPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
