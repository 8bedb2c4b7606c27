// What an operator sees when the service cannot start: one JSON log line that names the variable to set
// or the thing to do, and a non-zero exit; never a stack trace or a driver's own console output.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Makes the embedded parts' packages unresolvable, as in an install without development dependencies. */
const WITHOUT_DEV_DEPENDENCIES = path.join(ROOT, 'test/support/without-dev-dependencies.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The service with exactly this environment, run to its exit. */
function runService(env: Record<string, string>, nodeArgs: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service neither failed nor exited within 60 s:\n${stdout}${stderr}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The one fatal line, after checking it is the only line that is not a JSON record below fatal. */
function fatalLine(run: Run): { msg: string; [field: string]: unknown } {
  const lines = run.stdout.split('\n').filter((line) => line.trim() !== '');
  for (const line of lines) expect(() => JSON.parse(line), `not a JSON log line: ${line}`).not.toThrow();
  const records = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
  const fatal = records.filter((record) => record.level >= 50);
  expect(fatal, run.stdout).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  return fatal[0] as { msg: string };
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('startup failures', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-startup-'));
  });

  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('a database that does not answer: one line naming DATABASE_URL and where it points, without the password', async () => {
    const port = await closedPort();
    const run = await runService({ DATABASE_URL: `postgres://tablekit:s3cret-pw@127.0.0.1:${port}/tablekit`, DATA_DIR: dataDir });
    expect(run.code).toBe(1);
    const line = fatalLine(run);
    expect(line.msg).toBe(
      `DATABASE_URL: cannot use the database at postgres://tablekit@127.0.0.1:${port}/tablekit: connect ECONNREFUSED 127.0.0.1:${port} (is PostgreSQL running there?)`,
    );
    expect(run.stdout + run.stderr).not.toContain('s3cret-pw');
    expect(run.stdout + run.stderr).not.toContain('Acquire connection error');
  });

  it('an install without the development dependencies: one line naming every variable left embedded', async () => {
    const run = await runService({ DATA_DIR: dataDir }, ['--import', WITHOUT_DEV_DEPENDENCIES]);
    expect(run.code).toBe(1);
    const line = fatalLine(run);
    expect(line.msg).toBe(
      '@electric-sql/pglite is not installed: the embedded stand-ins for unset DATABASE_URL, COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID and SQS_QUEUE_URL are development dependencies. Set them to use the real services, or install the development dependencies (npm install)',
    );
    expect(line.variables).toEqual(['DATABASE_URL', 'COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID', 'SQS_QUEUE_URL']);
  });

  it('a port already taken: one line naming PORT', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const run = await runService({ PORT: String(port), DATA_DIR: dataDir, WORKER_ENABLED: 'false' });
      expect(run.code).toBe(1);
      expect(fatalLine(run).msg).toBe(`PORT ${port} is already in use on 127.0.0.1: stop what listens there, or set PORT to a free port`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 90_000);
});
