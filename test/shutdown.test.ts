import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { startService, type RunningService } from '../src/service.js';
import { captureLog } from './support/log-capture.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/** A raw HTTP/1.1 exchange whose body we finish sending when we choose, so it is in flight meanwhile. */
function slowRequest(port: number, requestLine: string, headers: Record<string, string>) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString('utf8');
  });
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const head = `${requestLine}\r\n${Object.entries({ ...headers, 'Content-Type': 'application/json', 'Content-Length': '2' })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n{`;
  return {
    started: connected.then(() => new Promise<void>((resolve) => socket.write(head, () => resolve()))),
    finish: () => socket.write('}'),
    response: closed,
  };
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);

describe('graceful shutdown of the service', () => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let service: RunningService;
  const log = captureLog('info');
  const messages = () => log.records().map((record) => String(record.msg));

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-shutdown-'));
    const env: Record<string, string> = {
      PORT: '0',
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      SHUTDOWN_TIMEOUT_MS: '5000',
    };
    db = await createTestDatabase();
    if (db.url !== undefined) env.DATABASE_URL = db.url;
    else {
      // PGlite allows one user of a data directory: the service gets its own, fresh one.
      await db.destroy();
      db = undefined;
    }
    service = await startService(loadConfig(env), log.logger);
  });

  afterAll(async () => {
    await service.stop();
    await db?.destroy();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('turns /readyz to 503 at once, refuses new connections, and lets in-flight requests finish', async () => {
    const readyBefore = await fetch(`http://127.0.0.1:${service.port}/readyz`);
    expect(readyBefore.status).toBe(200);

    const menuRequest = slowRequest(service.port, 'GET /v1/restaurant HTTP/1.1', { Host: 'demo.localhost' });
    const readyRequest = slowRequest(service.port, 'GET /readyz HTTP/1.1', { Host: 'demo.localhost' });
    await Promise.all([menuRequest.started, readyRequest.started]);
    // Let the server parse both request heads: until then a connection counts as idle and is closed.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const stopped = service.stop();
    expect(service.isShuttingDown()).toBe(true);

    // A new connection is refused (fetch could reuse the keep-alive connection of the first request,
    // which is answered with Connection: close rather than cut: test/drain.test.ts).
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(service.port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(refused).toBe('ECONNREFUSED');

    // The queue worker and the jobs stop claiming work first, while requests are still in flight (STYLE.md 16).
    const started = Date.now();
    while (!messages().includes('stopped claiming work: no more queue messages or background jobs')) {
      if (Date.now() - started > 10_000) throw new Error(`the worker and the jobs did not stop: ${messages().join(' | ')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(service.queue).toBeDefined();
    expect(messages()).not.toContain('in-flight requests drained');

    readyRequest.finish();
    menuRequest.finish();
    const [readyRaw, menuRaw] = await Promise.all([readyRequest.response, menuRequest.response]);
    expect(statusOf(readyRaw)).toBe(503);
    expect(statusOf(menuRaw)).toBe(200);
    expect(menuRaw).toContain('"domain":"demo.localhost"');
    expect(menuRaw.toLowerCase()).toContain('connection: close');
    await stopped;
    // Then HTTP drained, then the relay, the queue and the pools closed.
    expect(messages().filter((message) => /^(shutting down|stopped|in-flight)/.test(message))).toEqual([
      'shutting down: refusing new connections, draining in-flight requests',
      'stopped claiming work: no more queue messages or background jobs',
      'in-flight requests drained',
      'stopped',
    ]);
    expect(log.records().filter((record) => Number(record.level) >= 50)).toEqual([]);
  });

  it('a second stop is the same stop', async () => {
    await expect(Promise.all([service.stop(), service.stop()])).resolves.toBeDefined();
  });
});

describe('the process on SIGTERM', () => {
  it('drains, exits 0, and ignores a second signal', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-sigterm-'));
    const db = await createTestDatabase();
    try {
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        METRICS_PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
      };
      if (db.url !== undefined) env.DATABASE_URL = db.url;
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const started = Date.now();
      while (!/listening on http:\/\/127\.0\.0\.1:(\d+)/.test(output)) {
        if (Date.now() - started > 60_000) throw new Error(`service did not start:\n${output}`);
        if (child.exitCode !== null) throw new Error(`service exited early:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
      expect((await fetch(`http://127.0.0.1:${port}/v1/restaurant`, { headers: { 'X-Restaurant-Domain': 'demo.localhost' } })).status).toBe(200);

      child.kill('SIGTERM');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.match(/"msg":"shutting down/g)).toHaveLength(1);
      expect(output).toContain('"msg":"stopped"');
      // A deploy pages no one: the aborted long polls and the stopped jobs log nothing at error level.
      const severe = output.split('\n').filter((line) => line.startsWith('{') && Number((JSON.parse(line) as { level?: number }).level) >= 50);
      expect(severe).toEqual([]);
    } finally {
      await db.destroy();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
