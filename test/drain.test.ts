// The connection drain behind a graceful stop, on a bare node:http server: what a keep-alive client sees.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IDLE_CONNECTION_GRACE_MS, trackConnections, type ConnectionDrain } from '../src/http/drain.js';

/** One raw keep-alive connection: requests written when we choose, each answer read whole. */
function rawConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    waiting?.();
  });
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  socket.on('error', () => undefined);
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    closed,
    async request(path: string): Promise<{ status: number; head: string; body: string }> {
      await connected;
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(buffer)?.[1] ?? Number.NaN);
        if (end !== -1 && buffer.length >= end + 4 + length) {
          const head = buffer.slice(0, end);
          const body = buffer.slice(end + 4, end + 4 + length);
          buffer = buffer.slice(end + 4 + length);
          return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), head: head.toLowerCase(), body };
        }
        await new Promise<void>((resolve) => {
          waiting = resolve;
          socket.once('close', resolve);
        });
        if (socket.destroyed && buffer.indexOf('\r\n\r\n') === -1) throw new Error('connection closed before an answer');
      }
    },
    destroy: () => socket.destroy(),
  };
}

describe('draining the connections of a stopping server', () => {
  let server: http.Server;
  let drain: ConnectionDrain;
  let port: number;
  let release: (() => void) | undefined;

  async function start(): Promise<void> {
    server = http.createServer((req, res) => {
      // /now answers synchronously, before any later listener runs; /slow waits for the test.
      if (req.url === '/slow') {
        release = () => res.end('slow');
        return;
      }
      res.end('now');
    });
    drain = trackConnections(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }

  afterEach(() => {
    server.closeAllConnections();
    server.close();
  });

  it('answers the next request on a keep-alive connection with Connection: close instead of cutting it', async () => {
    await start();
    const connection = rawConnection(port);
    const first = await connection.request('/now');
    expect(first.head).toContain('connection: keep-alive');

    const drained = drain.drain(10_000);
    expect(drain.draining).toBe(true);
    // The client reuses its connection right after the drain began: it gets an answer, not a reset.
    const second = await connection.request('/now');
    expect(second).toMatchObject({ status: 200, body: 'now' });
    expect(second.head).toContain('connection: close');
    await connection.closed;
    await expect(drained).resolves.toBe(true);
  });

  it('refuses new connections at once', async () => {
    await start();
    void drain.drain(10_000);
    await expect(fetch(`http://127.0.0.1:${port}/now`)).rejects.toThrow();
  });

  it('lets a request in flight finish, then closes its connection', async () => {
    await start();
    const connection = rawConnection(port);
    const answer = connection.request('/slow');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const drained = drain.drain(10_000);
    release?.();
    const response = await answer;
    expect(response).toMatchObject({ status: 200, body: 'slow' });
    expect(response.head).toContain('connection: close');
    await expect(drained).resolves.toBe(true);
  });

  it('closes a connection its client left idle, after the grace period and not before', async () => {
    await start();
    const connection = rawConnection(port);
    await connection.request('/now');
    const began = Date.now();
    const drained = drain.drain(10_000);
    const closedAt = await connection.closed;
    expect(closedAt - began).toBeGreaterThanOrEqual(IDLE_CONNECTION_GRACE_MS - 50);
    expect(closedAt - began).toBeLessThan(IDLE_CONNECTION_GRACE_MS + 1_000);
    await expect(drained).resolves.toBe(true);
  });

  it('destroys what is left when the timeout comes, and says it did', async () => {
    await start();
    const connection = rawConnection(port);
    const answer = connection.request('/slow').catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(drain.drain(300)).resolves.toBe(false);
    expect(await answer).toBeInstanceOf(Error);
  });
});
