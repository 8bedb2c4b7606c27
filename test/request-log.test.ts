import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { httpLogger } from '../src/http/logging.js';
import { captureLog } from './support/log-capture.js';

/** An app with only the request log in front of a few answers. */
function appLoggingTo(level: 'info' | 'warn' = 'info') {
  const log = captureLog(level);
  const app = express();
  app.use(httpLogger(log.logger));
  app.get('/v1/fine', (req, res) => {
    req.log?.info({ step: 'inside' }, 'handler line');
    res.status(200).json({ ok: true });
  });
  app.get('/v1/broken', (_req, res) => {
    res.status(503).json({ code: 'service_unavailable' });
  });
  app.get('/v1/hangs', () => {
    // Never answers: the client goes away.
  });
  app.get('/healthz', (_req, res) => {
    res.status(200).end();
  });
  return { app, log };
}

const requestLines = (records: Array<Record<string, unknown>>) => records.filter((r) => typeof r.responseTime === 'number');

describe('the request log', () => {
  it('writes one line per answer with the request id, the picked request fields, the status and the time taken', async () => {
    const { app, log } = appLoggingTo();
    const res = await request(app)
      .get('/v1/fine?ticket=secret-ticket&limit=2')
      .set('X-Request-Id', 'req-42')
      .set('X-Restaurant-Domain', 'bistro.example')
      .set('Authorization', 'Bearer not-for-the-log')
      .set('Cookie', 'session=not-for-the-log-either');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('req-42');

    const lines = requestLines(log.records());
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? {};
    const req = (line.req ?? {}) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 30,
      msg: 'request completed',
      reqId: 'req-42',
      req: { id: 'req-42', method: 'GET', url: '/v1/fine?ticket=[redacted]&limit=2', tenant: 'bistro.example' },
      res: { status: 200 },
    });
    expect(Object.keys(req).sort()).toEqual(['host', 'id', 'method', 'remote', 'tenant', 'url']);
    expect(String(req.host)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(String(req.remote)).toMatch(/127\.0\.0\.1$/);
    expect(line.responseTime).toBeGreaterThanOrEqual(0);
    expect(log.text()).not.toContain('not-for-the-log');
    expect(log.text()).not.toContain('secret-ticket');
  });

  it("gives the handler a logger whose lines carry the request's id", async () => {
    const { app, log } = appLoggingTo();
    const res = await request(app).get('/v1/fine');
    const made = res.headers['x-request-id'];
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    const handlerLine = log.records().find((r) => r.msg === 'handler line');
    expect(handlerLine).toMatchObject({ reqId: made, step: 'inside' });
    expect(requestLines(log.records())[0]).toMatchObject({ reqId: made, req: { id: made } });
  });

  it('writes a 5xx at error level, with an error saying the status', async () => {
    const { app, log } = appLoggingTo();
    expect((await request(app).get('/v1/broken')).status).toBe(503);
    const [line] = requestLines(log.records());
    expect(line).toMatchObject({ level: 50, msg: 'request errored', res: { status: 503 }, err: { message: 'failed with status code 503' } });
  });

  it('says when the client went away before the answer', async () => {
    const { app, log } = appLoggingTo();
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('GET /v1/hangs HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      for (let waited = 0; requestLines(log.records()).length === 0 && waited < 2_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(requestLines(log.records())).toMatchObject([{ msg: 'request aborted', req: { url: '/v1/hangs' } }]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('leaves out the health probes, and writes nothing below its level', async () => {
    const info = appLoggingTo();
    expect((await request(info.app).get('/healthz')).status).toBe(200);
    expect(requestLines(info.log.records())).toEqual([]);

    const quiet = appLoggingTo('warn');
    const res = await request(quiet.app).get('/v1/fine');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(quiet.log.records()).toEqual([]);
    // A failure is still written at `warn`.
    await request(quiet.app).get('/v1/broken');
    expect(requestLines(quiet.log.records())).toMatchObject([{ level: 50, res: { status: 503 } }]);
  });
});
