// Baselines A and B, served from the bench process itself, like the service (same event loop model,
// same process): they bound what the service could do on this machine at best.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface BaselineServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<BaselineServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A: bare Express answering a small JSON, nothing else. The ceiling of any Express route on this machine. */
export function startBaselineA(): Promise<BaselineServer> {
  const app = express();
  app.get('/', (_req, res) => {
    res.json({ status: 'ok', service: 'baseline-a' });
  });
  return listen(http.createServer(app));
}

/**
 * B and B′: `node:http` and a database query per request, answering the page `body` makes of it (see
 * bench/run.ts). No framework, no middleware, no tenant or token checks.
 */
export function startBaselineB(page: () => Promise<string>): Promise<BaselineServer> {
  const server = http.createServer((req, res) => {
    page().then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(error instanceof Error ? error.message : 'error');
      },
    );
    req.resume();
  });
  return listen(server);
}
