// The newcomer's path through README.md, as written: `npm start` prints the banner the quick start shows,
// every fenced ```sh walk block runs line by line in bash against it (browse, cart, order, pay, watch it
// confirmed, and the 3-D Secure webhook), and one SIGTERM to npm, or one Ctrl-C, stops it for good.
// Embedded mode, a DATA_DIR of its own and a free port on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { banner } from '../src/banner.js';
import { loadConfig } from '../src/config/config.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The address README.md's lines use; the test's service listens elsewhere. */
const README_ADDRESS = 'localhost:3000';

/** The contents of the fenced blocks whose info string is exactly `info`, in document order. */
function fencedBlocks(markdown: string, info: string): string[] {
  const blocks: string[] = [];
  const pattern = /^```([^\n]*)\n([\s\S]*?)^```\s*$/gm;
  for (const match of markdown.matchAll(pattern)) if (match[1]?.trim() === info) blocks.push(match[2] ?? '');
  return blocks;
}

/** A block as the commands a reader pastes: continuation lines joined, comments and blank lines left out. */
function commandsOf(block: string): string[] {
  const commands: string[] = [];
  let pending = '';
  for (const line of block.split('\n')) {
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line}\n`;
      continue;
    }
    commands.push(pending + line);
    pending = '';
  }
  return commands;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every process below `pid`, from /proc (Linux). */
async function descendantsOf(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after its last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(ppid)) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

interface NpmStart {
  npm: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start`, as typed in a terminal: its own process group, so a Ctrl-C can be sent to the group. */
async function npmStart(dataDir: string): Promise<NpmStart> {
  const port = await freePort();
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      npm_config_update_notifier: 'false',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const started = Date.now();
  while (!output.includes('Tablekit is listening on')) {
    if (npm.exitCode !== null || npm.signalCode !== null) throw new Error(`npm start exited before listening:\n${output}`);
    if (Date.now() - started > 90_000) {
      process.kill(-(npm.pid ?? 0), 'SIGKILL');
      throw new Error(`npm start did not listen within 90 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The rest of the banner follows in the same write.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { npm, port, output: () => output, exited };
}

/** Signals npm the way `how` says and checks that npm, node and everything below them are gone, the port free. */
async function expectStoppedBy(how: 'SIGTERM to npm' | 'Ctrl-C', started: NpmStart): Promise<void> {
  const npmPid = started.npm.pid ?? 0;
  const below = await descendantsOf(npmPid);
  expect(below.length).toBeGreaterThan(0);
  if (how === 'Ctrl-C') process.kill(-npmPid, 'SIGINT');
  else process.kill(npmPid, 'SIGTERM');
  const exit = await Promise.race([started.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 30_000))]);
  expect(exit, `npm still running 30 s after one ${how}`).toBeDefined();
  const deadline = Date.now() + 10_000;
  while ([npmPid, ...below].some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  expect([npmPid, ...below].filter(isAlive)).toEqual([]);
  expect(await portIsFree(started.port)).toBe(true);
  expect(started.output()).toContain('"msg":"stopped"');
}

describe('README.md, followed as written', () => {
  let readme: string;
  let dataDir: string;
  let service: NpmStart | undefined;

  beforeAll(async () => {
    readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-readme-'));
    service = await npmStart(dataDir);
  }, 120_000);

  afterAll(async () => {
    // The whole process group, whatever is left of it (an orphaned node included): npm may be gone.
    const pid = service?.npm.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // nothing left in the group
      }
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('shows the banner npm start prints', () => {
    const [shown] = fencedBlocks(readme, 'text banner');
    expect(shown).toBeDefined();
    // What `npm install && npm start` prints on a fresh clone: defaults, port 3000.
    expect(shown?.trimEnd()).toBe(banner({ url: `http://${README_ADDRESS}`, demoDomain: 'demo.localhost', demoUsers: true }, loadConfig({})));
    // And what this one printed, but for its address and data directory.
    const printed = service!
      .output()
      .replaceAll(`http://127.0.0.1:${service!.port}`, `http://${README_ADDRESS}`)
      .replaceAll(`PGlite in ${dataDir}`, 'PGlite in .data');
    expect(printed).toContain(shown?.trimEnd());
  });

  it('runs every line of the walk in order: browse, cart, order, pay, confirmed, then 3-D Secure through the webhook', async () => {
    const blocks = fencedBlocks(readme, 'sh walk');
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const commands = blocks.flatMap(commandsOf).map((command) => command.replaceAll(README_ADDRESS, `localhost:${service!.port}`));
    // One bash for the whole walk (its variables carry over); after each command, a marker with its exit status.
    const script = commands.map((command, index) => `${command}\n__status=$?; printf '\\n@@step %d exit %d@@\\n' ${index} "$__status"\n`).join('');
    const bash = spawn('bash', ['--noprofile', '--norc', '-s'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), DATA_DIR: dataDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    bash.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    bash.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
    bash.stdin.end(script);
    const timer = setTimeout(() => bash.kill('SIGKILL'), 100_000);
    await new Promise((resolve) => bash.once('exit', resolve));
    clearTimeout(timer);

    const steps = commands.map((command, index) => {
      const end = output.indexOf(`@@step ${index} exit `);
      const begin = index === 0 ? 0 : output.indexOf('@@\n', output.indexOf(`@@step ${index - 1} exit `)) + 3;
      const status = end === -1 ? undefined : Number(/^@@step \d+ exit (\d+)@@/.exec(output.slice(end))?.[1]);
      return { command, status, output: end === -1 ? '' : output.slice(begin, end) };
    });
    for (const step of steps) {
      expect(step.status, `${step.command}\n→ ${step.output}\nstderr: ${errors}`).toBe(0);
      // No answer was an error: problem details carry a numeric status.
      expect(step.output, step.command).not.toMatch(/"status":\s*[45]\d\d/);
    }
    const output$ = (pattern: RegExp) => steps.filter((step) => pattern.test(step.command)).map((step) => step.output);
    expect(output$(/\/v1\/auth\/signup/).every((answer) => answer.includes('"confirmed":true'))).toBe(true);
    expect(output$(/webhooks\/test/)).toHaveLength(1);
    // Both orders (paid by card; paid through 3-D Secure and its webhook) end confirmed.
    const watches = output$(/^for try in/);
    expect(watches).toHaveLength(2);
    for (const watch of watches) expect(watch.trim().split('\n').at(-1)).toMatch(/^order \d+: confirmed$/);
  }, 120_000);

  it('stops with one SIGTERM to npm: npm, node and everything under them exit, the port is free', async () => {
    await expectStoppedBy('SIGTERM to npm', service!);
  }, 60_000);

  it('stops with one Ctrl-C as well', async () => {
    service = await npmStart(dataDir);
    await expectStoppedBy('Ctrl-C', service);
  }, 150_000);
});
