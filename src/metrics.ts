import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What an operator watches: HTTP latency, the outbox backlog, and the confirmation pipeline. */
export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  queueMessagesHandled: Counter<'type' | 'outcome'>;
  queueMessagesFailed: Counter<'type' | 'reason'>;
  outboxSent: Counter;
  outboxSendFailures: Counter;
  orderConfirmationLatency: Histogram;
  ordersCancelledUnpaid: Counter;
}

/** A registry per app (not prom-client's global one), so several apps in one test process do not collide. */
export function createMetrics(db: Knex): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'tablekit_outbox_backlog',
    help: 'Outbox events written but not yet sent to the queue',
    registers: [registry],
    async collect() {
      const row = await db('outbox').whereNull('sent_at').count({ n: '*' }).first();
      this.set(Number(row?.n ?? 0));
    },
  });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'tablekit_http_request_duration_seconds',
      help: 'HTTP request duration by route template',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    queueMessagesHandled: new Counter({
      name: 'tablekit_queue_messages_handled_total',
      help: 'Queue messages handled, by event type and outcome (confirmed, duplicate, stale)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    queueMessagesFailed: new Counter({
      name: 'tablekit_queue_messages_failed_total',
      help: 'Queue messages that failed (left for redelivery) or were dead-lettered',
      labelNames: ['type', 'reason'],
      registers: [registry],
    }),
    outboxSent: new Counter({ name: 'tablekit_outbox_sent_total', help: 'Outbox events sent to the queue', registers: [registry] }),
    outboxSendFailures: new Counter({
      name: 'tablekit_outbox_send_failures_total',
      help: 'Outbox events whose send failed and will be retried with backoff',
      registers: [registry],
    }),
    orderConfirmationLatency: new Histogram({
      name: 'tablekit_order_confirmation_latency_seconds',
      help: 'From placement (or payment) to confirmation by the worker',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    ordersCancelledUnpaid: new Counter({
      name: 'tablekit_orders_cancelled_unpaid_total',
      help: 'Card orders cancelled by the system because payment did not arrive in time',
      registers: [registry],
    }),
  };
}

/** Labels by route template (`/v1/recipes/:id`), never the raw path, so ids cannot explode the series count. */
export function httpMetricsMiddleware(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpRequestDuration.startTimer();
    res.once('finish', () => {
      // A stream lasts as long as its client stays: its duration is no latency.
      if (String(res.getHeader('content-type')).startsWith('text/event-stream')) return;
      const route = req.route?.path === undefined ? 'unmatched' : `${req.baseUrl}${String(req.route.path)}`;
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

export interface MetricsServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * `/metrics` on a listener of its own (METRICS_PORT, loopback by default), so the public API port never
 * answers it whatever the Host or the balancer's rules: what the service reports stays inside.
 */
export async function startMetricsServer(metrics: Metrics, listen: { host: string; port: number }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics could not be collected\n'),
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('only GET /metrics is served here\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
