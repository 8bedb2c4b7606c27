import { z } from '../../http/zod.js';
import { access } from '../../http/principal.js';
import { defineRoute, type ApiRouter } from '../../http/route.js';

export interface Readiness {
  /** True from the moment shutdown begins: the balancer must stop sending new requests. */
  isShuttingDown(): boolean;
  /** Resolves to a reason when not ready (database down, migrations pending), else undefined. */
  check(): Promise<string | undefined>;
}

const statusSchema = z.object({ status: z.enum(['ok', 'unavailable']), reason: z.string().optional() });

export function registerHealthRoutes(api: ApiRouter, readiness: Readiness): void {
  defineRoute(api, {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process is running',
    description: 'Answers 200 while the process runs; touches nothing else, so it stays cheap for a process manager to poll.',
    tags: ['health'],
    tenant: false,
    access: access.public,
    responses: { 200: { description: 'Alive', schema: statusSchema } },
    handler: async () => ({ status: 200, body: { status: 'ok' } }),
  });

  defineRoute(api, {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the database answers, migrations are current, and shutdown has not begun',
    description:
      'For the load balancer: 503 (with a reason) while the database is unreachable or behind on migrations, and from the moment shutdown begins, so traffic moves away before the process stops.',
    tags: ['health'],
    tenant: false,
    access: access.public,
    responses: {
      200: { description: 'Ready for traffic', schema: statusSchema },
      503: { description: 'Not ready', schema: statusSchema },
    },
    handler: async ({ res }) => {
      res.setHeader('Cache-Control', 'no-store');
      if (readiness.isShuttingDown()) return { status: 503, body: { status: 'unavailable', reason: 'shutting down' } };
      const reason = await readiness.check();
      return reason === undefined ? { status: 200, body: { status: 'ok' } } : { status: 503, body: { status: 'unavailable', reason } };
    },
  });
}
