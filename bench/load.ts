// The load generator, run as a child process of bench/run.ts so that autocannon's own work does not
// share an event loop (or a heap) with the service it measures. It receives one scenario over IPC,
// runs it (warm-up, then the measured run) and sends the figures back.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

export interface Customer {
  email: string;
  auth: string;
}

export type LoadSpec =
  | { kind: 'get'; url: string; headers: Record<string, string>; connections: number; warmupSeconds: number; seconds: number }
  | {
      kind: 'checkout';
      url: string;
      domain: string;
      customers: Customer[];
      recipeIds: number[];
      paymentMethod: 'card' | 'cash';
      connections: number;
      warmupSeconds: number;
      seconds: number;
    }
  | { kind: 'place'; url: string; domain: string; customers: Customer[]; recipeIds: number[]; orders: number; connections: number }
  | { kind: 'stream'; url: string; domain: string; staff: Customer; customer: Customer; recipeIds: number[]; streams: number; orders: number };

export interface Latency {
  p50: number;
  p99: number;
  mean: number;
}

export interface GetResult {
  kind: 'get';
  seconds: number;
  requests: number;
  perSecond: number;
  latency: Latency;
  non2xx: number;
  errors: number;
}

export interface CheckoutResult {
  kind: 'checkout';
  seconds: number;
  /** Every request: the two cart adds and the order. */
  requests: number;
  latency: Latency;
  orders: number;
  ordersPerSecond: number;
  /** POST /v1/orders alone. */
  orderLatency: Latency;
  statuses: Record<string, number>;
  errors: number;
}

export interface PlaceResult {
  kind: 'place';
  placed: number;
  failures: Record<string, number>;
  startedAt: number;
  finishedAt: number;
}

export interface StreamResult {
  kind: 'stream';
  /** Streams that were open (200, text/event-stream) when the orders were placed. */
  streams: number;
  refused: Record<string, number>;
  orders: number;
  /** Of streams × orders: how many `order.placed` events arrived, and how long after the order was sent. */
  expectedDeliveries: number;
  deliveries: number;
  deliveryMs: Latency;
  /** Order placing, one at a time, while the streams are open. */
  placeMs: Latency;
}

export type LoadResult = GetResult | CheckoutResult | PlaceResult | StreamResult;

function percentiles(samples: number[]): Latency {
  if (samples.length === 0) return { p50: Number.NaN, p99: Number.NaN, mean: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length };
}

async function getScenario(spec: Extract<LoadSpec, { kind: 'get' }>): Promise<GetResult> {
  const options = { url: spec.url, headers: spec.headers, connections: spec.connections };
  if (spec.warmupSeconds > 0) await autocannon({ ...options, duration: spec.warmupSeconds });
  const result = await autocannon({ ...options, duration: spec.seconds });
  const ok = result['2xx'];
  return {
    kind: 'get',
    seconds: result.duration,
    requests: ok,
    perSecond: ok / result.duration,
    latency: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average },
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/**
 * Each connection is one customer (its own cart): add recipe k, add recipe k+1, place the order with a
 * fresh Idempotency-Key; repeat. k is random per order.
 */
async function checkoutScenario(spec: Extract<LoadSpec, { kind: 'checkout' }>): Promise<CheckoutResult> {
  const run = async (seconds: number) => {
    let nextCustomer = 0;
    const orderDurations: number[] = [];
    const statuses: Record<string, number> = {};
    const last = spec.recipeIds.length - 2;
    const result = await autocannon({
      url: spec.url,
      connections: spec.connections,
      duration: seconds,
      headers: { 'content-type': 'application/json', 'x-restaurant-domain': spec.domain },
      setupClient: (client) => {
        const customer = spec.customers[nextCustomer % spec.customers.length];
        nextCustomer += 1;
        if (customer === undefined) throw new Error('no customers to check out as');
        let orderAnswered: number | undefined;
        const count = (status: number, what: string) => {
          statuses[`${what} ${status}`] = (statuses[`${what} ${status}`] ?? 0) + 1;
        };
        client.on('response', (_status: number, _bytes: number, duration: number) => {
          if (orderAnswered !== undefined) orderDurations.push(duration);
          orderAnswered = undefined;
        });
        client.setRequests([
          {
            method: 'POST',
            path: '/v1/cart/items',
            setupRequest: (req: autocannon.Request, context: Record<string, number>) => {
              context.k = Math.floor(Math.random() * (last + 1));
              return {
                ...req,
                headers: { ...req.headers, authorization: customer.auth },
                body: JSON.stringify({ recipe_id: spec.recipeIds[context.k], quantity: 1 }),
              };
            },
            onResponse: (status: number) => count(status, 'cart'),
          },
          {
            method: 'POST',
            path: '/v1/cart/items',
            setupRequest: (req: autocannon.Request, context: Record<string, number>) => ({
              ...req,
              headers: { ...req.headers, authorization: customer.auth },
              body: JSON.stringify({ recipe_id: spec.recipeIds[(context.k ?? 0) + 1], quantity: 1 }),
            }),
            onResponse: (status: number) => count(status, 'cart'),
          },
          {
            method: 'POST',
            path: '/v1/orders',
            setupRequest: (req: autocannon.Request) => ({
              ...req,
              headers: { ...req.headers, authorization: customer.auth, 'idempotency-key': randomUUID() },
              body: JSON.stringify({ fulfillment: 'pickup', payment_method: spec.paymentMethod }),
            }),
            onResponse: (status: number) => {
              count(status, 'order');
              orderAnswered = status;
            },
          },
        ] as autocannon.Request[]);
      },
    });
    return { result, orderDurations, statuses };
  };
  if (spec.warmupSeconds > 0) await run(spec.warmupSeconds);
  const { result, orderDurations, statuses } = await run(spec.seconds);
  const orders = statuses['order 201'] ?? 0;
  return {
    kind: 'checkout',
    seconds: result.duration,
    requests: result.requests.total,
    latency: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average },
    orders,
    ordersPerSecond: orders / result.duration,
    orderLatency: percentiles(orderDurations),
    statuses,
    errors: result.errors + result.timeouts,
  };
}

/** `orders` cash orders of one line each, over `connections` keep-alive connections, as fast as they go. */
async function placeScenario(spec: Extract<LoadSpec, { kind: 'place' }>): Promise<PlaceResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const target = new URL(spec.url);
  const post = (path: string, customer: Customer, body: unknown, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            'x-restaurant-domain': spec.domain,
            authorization: customer.auth,
            ...headers,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  let started = 0;
  let placed = 0;
  const failures: Record<string, number> = {};
  const fail = (what: string) => {
    failures[what] = (failures[what] ?? 0) + 1;
  };
  const startedAt = Date.now();
  await Promise.all(
    Array.from({ length: spec.connections }, async (_, c) => {
      const customer = spec.customers[c % spec.customers.length];
      if (customer === undefined) throw new Error('no customers to place orders as');
      while (started < spec.orders) {
        started += 1;
        const recipeId = spec.recipeIds[Math.floor(Math.random() * spec.recipeIds.length)];
        const added = await post('/v1/cart/items', customer, { recipe_id: recipeId, quantity: 1 });
        if (added !== 201) fail(`cart ${added}`);
        const status = await post('/v1/orders', customer, { fulfillment: 'pickup', payment_method: 'cash' }, { 'idempotency-key': randomUUID() });
        if (status === 201) placed += 1;
        else {
          fail(`order ${status}`);
          started -= 1; // try again: the scenario needs exactly `orders` orders
        }
        if (Object.values(failures).reduce((sum, n) => sum + n, 0) > 100) throw new Error(`placing orders keeps failing: ${JSON.stringify(failures)}`);
      }
    }),
  );
  agent.destroy();
  return { kind: 'place', placed, failures, startedAt, finishedAt: Date.now() };
}

/**
 * `spec.streams` staff streams (GET /v1/orders/stream) held open on one service process, then
 * `spec.orders` orders placed one after another by one customer; each stream must receive each order's
 * `order.placed`, and the time from sending the order to its arrival on every stream is the figure.
 */
async function streamScenario(spec: Extract<LoadSpec, { kind: 'stream' }>): Promise<StreamResult> {
  const base = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.streams + 10 });
  const sentAt = new Map<number, number>();
  const arrivals: Array<{ orderId: number; at: number }> = [];
  const refused: Record<string, number> = {};
  const open: http.ClientRequest[] = [];
  const openStream = () =>
    new Promise<boolean>((resolve) => {
      const req = http.get(
        {
          host: base.hostname,
          port: base.port,
          path: '/v1/orders/stream',
          agent,
          headers: { authorization: spec.staff.auth, 'x-restaurant-domain': spec.domain, accept: 'text/event-stream' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            refused[String(res.statusCode)] = (refused[String(res.statusCode)] ?? 0) + 1;
            res.resume();
            resolve(false);
            return;
          }
          res.setEncoding('utf8');
          let buffer = '';
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let end = buffer.indexOf('\n\n');
            while (end >= 0) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              if (frame.includes('event: order.placed')) {
                const data = frame.split('\n').find((line) => line.startsWith('data: '));
                if (data !== undefined) arrivals.push({ orderId: Number((JSON.parse(data.slice(6)) as { id: number }).id), at: performance.now() });
              }
              end = buffer.indexOf('\n\n');
            }
          });
          resolve(true);
        },
      );
      req.on('error', () => {
        refused.error = (refused.error ?? 0) + 1;
        resolve(false);
      });
      open.push(req);
    });
  let streams = 0;
  for (let batch = 0; batch < spec.streams; batch += 50) {
    const opened = await Promise.all(Array.from({ length: Math.min(50, spec.streams - batch) }, openStream));
    streams += opened.filter(Boolean).length;
  }
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          path,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            authorization: spec.customer.auth,
            'x-restaurant-domain': spec.domain,
            ...headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const placeDurations: number[] = [];
  for (let n = 0; n < spec.orders; n += 1) {
    const recipeId = spec.recipeIds[n % spec.recipeIds.length];
    const added = await post('/v1/cart/items', { recipe_id: recipeId, quantity: 1 });
    if (added.status !== 201) throw new Error(`stream scenario: a cart add answered ${added.status} ${added.body}`);
    const t0 = performance.now();
    const placed = await post('/v1/orders', { fulfillment: 'pickup', payment_method: 'card' }, { 'idempotency-key': randomUUID() });
    if (placed.status !== 201) throw new Error(`stream scenario: an order answered ${placed.status} ${placed.body}`);
    placeDurations.push(performance.now() - t0);
    sentAt.set(Number((JSON.parse(placed.body) as { id: number }).id), t0);
    // Orders of a rush, not a flood: one every 200 ms.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // What has not arrived 5 s after the last order counts as not delivered.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  for (const req of open) req.destroy();
  agent.destroy();
  const delays = arrivals.flatMap((arrival) => {
    const t0 = sentAt.get(arrival.orderId);
    return t0 === undefined ? [] : [arrival.at - t0];
  });
  return {
    kind: 'stream',
    streams,
    refused,
    orders: sentAt.size,
    expectedDeliveries: streams * sentAt.size,
    deliveries: delays.length,
    deliveryMs: percentiles(delays),
    placeMs: percentiles(placeDurations),
  };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  switch (spec.kind) {
    case 'get':
      return getScenario(spec);
    case 'checkout':
      return checkoutScenario(spec);
    case 'place':
      return placeScenario(spec);
    case 'stream':
      return streamScenario(spec);
  }
}

if (process.send !== undefined) {
  process.once('message', (spec: LoadSpec) => {
    runLoad(spec).then(
      (result) => process.send?.({ ok: true, result }, () => process.exit(0)),
      (error: unknown) => process.send?.({ ok: false, error: error instanceof Error ? error.stack : String(error) }, () => process.exit(1)),
    );
  });
}
