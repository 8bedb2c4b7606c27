import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { startMetricsServer, type MetricsServer } from '../src/metrics.js';
import { createTestApp, type TestApp } from './support/app.js';

describe('/metrics on its own listener', () => {
  let t: TestApp;
  let server: MetricsServer;
  beforeAll(async () => {
    t = await createTestApp();
    server = await startMetricsServer(t.metrics, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  it('is not served by the API, whatever the Host', async () => {
    for (const host of ['localhost', '127.0.0.1', 'api.example.com']) {
      const res = await request(t.app).get('/metrics').set('Host', host);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('tablekit_');
    }
  });

  it('is served on the metrics port, in the Prometheus text format', async () => {
    await request(t.app).get('/healthz').expect(200);
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/tablekit_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
    expect(text).toMatch(/tablekit_outbox_backlog 0/);
  });

  it('answers nothing else there', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/v1/recipes`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});

describe('METRICS_PORT and METRICS_HOST', () => {
  it('default to port 9464 on loopback', () => {
    expect(loadConfig({}).metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadConfig({ METRICS_PORT: '' }).metrics).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('take a port (0 for any free one), a host, or off', () => {
    expect(loadConfig({ METRICS_PORT: '9100', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(loadConfig({ METRICS_PORT: '0' }).metrics).toEqual({ host: '127.0.0.1', port: 0 });
    expect(loadConfig({ METRICS_PORT: 'off' }).metrics).toBeUndefined();
  });

  it.each(['65536', '-1', 'abc', '9.5'])('refuse METRICS_PORT=%s', (value) => {
    expect(() => loadConfig({ METRICS_PORT: value })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_PORT: value })).toThrow(/^METRICS_PORT /);
  });
});
