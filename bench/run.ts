// npm run bench: the service's speed as ratios against baselines measured in the same run, on the
// same machine (see bench/README.md for what each figure means and what bounds it).
import { execFile, fork } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import pg from 'pg';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/http/logging.js';
import { startService, type RunningService } from '../src/service.js';
import { pricedRecipesQuery } from '../src/modules/catalog/recipes-repo.js';
import { startBaselineA, startBaselineB, type BaselineServer } from './baselines.js';
import type { CheckoutResult, Customer, GetResult, Latency, LoadResult, LoadSpec, PlaceResult, StreamResult } from './load.js';
import {
  currentCheckoutScript,
  plainCheckoutScript,
  statementsOf,
  renderPgbenchScript,
  runPlainCheckout,
  bindStep,
  type PlainConnection,
  type PlainScript,
} from './plain-checkout.js';
import { seedBenchRestaurant, type BenchMenu } from './seed.js';
import { countStatements, type StatementCount } from './statements.js';
import { startProductionShape } from './production-shape.js';
import { SCALE, seedScale } from './scale.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

const settings = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
  seconds: Number(process.env.BENCH_SECONDS ?? 10),
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 3),
  queueOrders: Number(process.env.BENCH_QUEUE_ORDERS ?? 5000),
  menuPageSize: 20,
  /** Card orders in the checkout scenario: the placing transaction alone, no queue work behind it (the queue scenario measures that). */
  checkoutPaymentMethod: 'card' as const,
  logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn',
  /** Quiet time before the final RSS reading. */
  idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 10),
  /** bulk (default): the queue alone; api: end to end, then bounded by checkout's throughput. */
  queuePlacedVia: (process.env.BENCH_QUEUE_VIA === 'api' ? 'api' : 'bulk') as 'bulk' | 'api',
  /** Open order streams on the service in the stream scenario, and the orders placed meanwhile. */
  streams: Number(process.env.BENCH_STREAMS ?? 1000),
  streamOrders: Number(process.env.BENCH_STREAM_ORDERS ?? 20),
};

interface Target {
  name: string;
  value: number;
  target: number;
  met: boolean;
}

interface PlainResult {
  tool: 'pgbench' | 'pg' | 'embedded';
  seconds: number;
  orders: number;
  ordersPerSecond: number;
  latency: Latency;
  failures: number;
  /** Statements per unit, BEGIN and COMMIT included. */
  statements?: number;
}

interface QueueResult {
  /** bulk: written in one transaction, then the pipeline drains them; api: placed through POST /v1/orders meanwhile. */
  placedVia: 'bulk' | 'api';
  orders: number;
  placedPerSecond: number;
  placingSeconds: number;
  /** From the first order placed to the last one confirmed. */
  allConfirmedSeconds: number;
  confirmedPerSecond: number;
  /** Confirmations recorded per order (must be 1 for each). */
  confirmationEvents: number;
  confirmationLagMs: Latency;
  failures: Record<string, number>;
}

interface Results {
  /** Targets of the scenarios beyond the first ones (scale, streams, the service's memory). */
  extraTargets?: Target[];
  /** Per request of the checkout scenario and the menu page, with the statements' text. */
  statements?: Record<string, StatementCount>;
  a?: GetResult;
  b?: GetResult;
  bPrime?: GetResult;
  menu?: GetResult;
  c0?: PlainResult;
  c?: PlainResult;
  checkout?: CheckoutResult;
  queue?: QueueResult;
  /** Right after the last scenario (garbage collected). */
  rssAfterLoadMb?: number;
  /** After `idleSeconds` without load: what the target is judged on. */
  rssMb?: number;
  peakRssMb?: number;
  memoryMb?: Record<string, number>;
  /** The staff's order list (GET /v1/orders?limit=20 as a manager) on the small database. */
  orderList?: GetResult;
  /** The same three on the 1,000-restaurant database (bench/scale.ts), in the same run. */
  scale?: { seed: Record<string, number>; menu: GetResult; checkout: CheckoutResult; orderList: GetResult };
  /** 1,000 staff streams on the service while orders are placed. */
  stream?: StreamResult;
  /** `node dist/src/main.js` in its own process (bench/production-shape.ts). */
  production?: ProductionResult;
}

interface ProductionResult {
  /** RSS in MB: 5 s after it was ready, the highest seen under load, right after the load, after `idleSeconds` idle. */
  startedMb: number;
  peakMb: number;
  afterLoadMb: number;
  idleMb: number;
  menu: GetResult;
  checkout: CheckoutResult;
}

/** BENCH_ONLY=menu,b (for profiling one scenario): run only those; the report is then partial.json. */
const only =
  process.env.BENCH_ONLY === undefined || process.env.BENCH_ONLY === '' ? undefined : new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim()));
const wanted = (scenario: 'a' | 'b' | 'b2' | 'menu' | 'c0' | 'c' | 'checkout' | 'queue' | 'list' | 'scale' | 'stream' | 'service') =>
  only === undefined || only.has(scenario);

const log = (line: string) => process.stdout.write(`${line}\n`);

const ms = (value: number | null | undefined) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(value < 10 ? 1 : 0) : 'n/a');
const rate = (value: number, unit: string) => `${Number.isFinite(value) ? value.toFixed(0) : 'n/a'} ${unit}`;
const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(0)}%`;

/** The table, and each target met or not (only those whose figures this run has). */
function report(r: Results): { table: string; targets: Target[] } {
  const targets: Target[] = [];
  const target = (name: string, value: number, goal: number, met: (value: number) => boolean) =>
    targets.push({ name, value: Number(value.toFixed(3)), target: goal, met: Number.isFinite(value) && met(value) });
  // Issue 19's targets; each bound is explained in bench/README.md.
  if (r.menu !== undefined && r.b !== undefined) target('menu req/s ÷ baseline B req/s (≥ 1.0)', r.menu.perSecond / r.b.perSecond, 1, (v) => v >= 1);
  if (r.menu !== undefined && r.bPrime !== undefined)
    target('menu req/s ÷ baseline B′ req/s (≥ 0.8)', r.menu.perSecond / r.bPrime.perSecond, 0.8, (v) => v >= 0.8);
  if (r.checkout !== undefined && r.c0 !== undefined)
    target('checkout orders/s ÷ baseline C0 orders/s (≥ 1.0)', r.checkout.ordersPerSecond / r.c0.ordersPerSecond, 1, (v) => v >= 1);
  if (r.checkout !== undefined && r.c !== undefined)
    target('checkout orders/s ÷ baseline C orders/s (≥ 0.5)', r.checkout.ordersPerSecond / r.c.ordersPerSecond, 0.5, (v) => v >= 0.5);
  if (r.menu !== undefined) target('menu p99 ÷ p50 (≤ 3)', r.menu.latency.p99 / r.menu.latency.p50, 3, (v) => v <= 3);
  if (r.checkout !== undefined) target('POST /v1/orders p99 ÷ p50 (≤ 3)', r.checkout.orderLatency.p99 / r.checkout.orderLatency.p50, 3, (v) => v <= 3);
  for (const t of r.extraTargets ?? []) targets.push(t);
  if (r.scale !== undefined && r.menu !== undefined)
    target('scale: menu req/s ÷ small database menu req/s (≥ 0.8)', r.scale.menu.perSecond / r.menu.perSecond, 0.8, (v) => v >= 0.8);
  if (r.scale !== undefined && r.checkout !== undefined)
    target('scale: checkout orders/s ÷ small database orders/s (≥ 0.8)', r.scale.checkout.ordersPerSecond / r.checkout.ordersPerSecond, 0.8, (v) => v >= 0.8);
  if (r.stream !== undefined) {
    const complete = r.stream.streams >= settings.streams && r.stream.deliveries === r.stream.expectedDeliveries;
    target(
      `streams: ${settings.streams} open, every order on every one, delivery p99 ms (< 1000)`,
      complete ? r.stream.deliveryMs.p99 : Number.NaN,
      1000,
      (v) => v < 1000,
    );
  }
  if (r.production !== undefined) {
    target('service RSS MB after the load (< 150)', r.production.afterLoadMb, 150, (v) => v < 150);
    target('service RSS MB idle (< 120)', r.production.idleMb, 120, (v) => v < 120);
  }
  if (r.queue !== undefined) target('queue confirmations/s (≥ 300)', r.queue.confirmedPerSecond, 300, (v) => v >= 300);

  const rows: string[][] = [['scenario', 'throughput', 'p50 ms', 'p99 ms', 'note']];
  if (r.a !== undefined) rows.push(['A  bare Express, small JSON', rate(r.a.perSecond, 'req/s'), ms(r.a.latency.p50), ms(r.a.latency.p99), '']);
  if (r.b !== undefined) rows.push(['B  node:http + pg, frozen menu SQL', rate(r.b.perSecond, 'req/s'), ms(r.b.latency.p50), ms(r.b.latency.p99), '']);
  if (r.bPrime !== undefined)
    rows.push(["B′ node:http + pg, today's menu SQL", rate(r.bPrime.perSecond, 'req/s'), ms(r.bPrime.latency.p50), ms(r.bPrime.latency.p99), '']);
  if (r.menu !== undefined) {
    const ratios = [
      r.b === undefined ? '' : `${percent(r.menu.perSecond, r.b.perSecond)} of B`,
      r.bPrime === undefined ? '' : `${percent(r.menu.perSecond, r.bPrime.perSecond)} of B′`,
      r.a === undefined ? '' : `${percent(r.menu.perSecond, r.a.perSecond)} of A`,
    ];
    const errors = r.menu.non2xx + r.menu.errors > 0 ? `; ${r.menu.non2xx} non-2xx, ${r.menu.errors} errors` : '';
    rows.push([
      'menu  GET /v1/recipes?limit=20',
      rate(r.menu.perSecond, 'req/s'),
      ms(r.menu.latency.p50),
      ms(r.menu.latency.p99),
      ratios.filter(Boolean).join(', ') + errors,
    ]);
  }
  if (r.c0 !== undefined)
    rows.push([
      `C0 place order, frozen plain SQL (${r.c0.tool})`,
      rate(r.c0.ordersPerSecond, 'orders/s'),
      ms(r.c0.latency.p50),
      ms(r.c0.latency.p99),
      `${r.c0.statements} statements`,
    ]);
  if (r.c !== undefined)
    rows.push([
      `C  place order, plain SQL now (${r.c.tool})`,
      rate(r.c.ordersPerSecond, 'orders/s'),
      ms(r.c.latency.p50),
      ms(r.c.latency.p99),
      `${r.c.statements} statements`,
    ]);
  if (r.checkout !== undefined) {
    const all = `all requests ${rate(r.checkout.requests / r.checkout.seconds, '/s')}, p50 ${ms(r.checkout.latency.p50)} p99 ${ms(r.checkout.latency.p99)}`;
    rows.push([
      'checkout  2 cart adds + POST /v1/orders',
      rate(r.checkout.ordersPerSecond, 'orders/s'),
      ms(r.checkout.orderLatency.p50),
      ms(r.checkout.orderLatency.p99),
      `${r.c0 === undefined ? '' : `${percent(r.checkout.ordersPerSecond, r.c0.ordersPerSecond)} of C0; `}${r.c === undefined ? '' : `${percent(r.checkout.ordersPerSecond, r.c.ordersPerSecond)} of C; `}${all}; latency of POST /v1/orders`,
    ]);
  }
  if (r.queue !== undefined) {
    rows.push([
      `queue  ${r.queue.orders} cash orders`,
      rate(r.queue.confirmedPerSecond, 'confirmed/s'),
      ms(r.queue.confirmationLagMs.p50),
      ms(r.queue.confirmationLagMs.p99),
      r.queue.placedVia === 'bulk'
        ? `placed in one transaction (${r.queue.placingSeconds.toFixed(1)} s), all confirmed ${r.queue.allConfirmedSeconds.toFixed(1)} s after its commit; latency = placed → confirmed`
        : `placed through the API in ${r.queue.placingSeconds.toFixed(1)} s (${rate(r.queue.placedPerSecond, '/s')}), all confirmed ${r.queue.allConfirmedSeconds.toFixed(1)} s after the first; latency = placed → confirmed`,
    ]);
  }
  if (r.orderList !== undefined)
    rows.push(['list  GET /v1/orders?limit=20, staff', rate(r.orderList.perSecond, 'req/s'), ms(r.orderList.latency.p50), ms(r.orderList.latency.p99), '']);
  if (r.scale !== undefined) {
    const seed = r.scale.seed;
    const note = `${seed.restaurants} restaurants, ${seed.orders} historical orders (seeded in ${seed.seed_seconds} s)`;
    const small = (value: number, base: GetResult | CheckoutResult | undefined, of: (x: GetResult | CheckoutResult) => number) =>
      base === undefined ? '' : `${percent(value, of(base))} of the small database's`;
    rows.push([
      'scale: menu',
      rate(r.scale.menu.perSecond, 'req/s'),
      ms(r.scale.menu.latency.p50),
      ms(r.scale.menu.latency.p99),
      `${small(r.scale.menu.perSecond, r.menu, (x) => (x as GetResult).perSecond)}; ${note}`,
    ]);
    rows.push([
      'scale: checkout',
      rate(r.scale.checkout.ordersPerSecond, 'orders/s'),
      ms(r.scale.checkout.orderLatency.p50),
      ms(r.scale.checkout.orderLatency.p99),
      small(r.scale.checkout.ordersPerSecond, r.checkout, (x) => (x as CheckoutResult).ordersPerSecond),
    ]);
    rows.push([
      'scale: staff order list',
      rate(r.scale.orderList.perSecond, 'req/s'),
      ms(r.scale.orderList.latency.p50),
      ms(r.scale.orderList.latency.p99),
      small(r.scale.orderList.perSecond, r.orderList, (x) => (x as GetResult).perSecond),
    ]);
  }
  if (r.stream !== undefined) {
    const st = r.stream;
    rows.push([
      `streams  ${st.streams} open SSE, ${st.orders} orders`,
      `${st.deliveries}/${st.expectedDeliveries} delivered`,
      ms(st.deliveryMs.p50),
      ms(st.deliveryMs.p99),
      `latency = order sent → order.placed on a stream; placing p50 ${ms(st.placeMs.p50)} ms${Object.keys(st.refused).length > 0 ? `; refused ${JSON.stringify(st.refused)}` : ''}`,
    ]);
  }
  if (r.production !== undefined) {
    const p = r.production;
    rows.push([
      'service (node dist/src/main.js): menu',
      rate(p.menu.perSecond, 'req/s'),
      ms(p.menu.latency.p50),
      ms(p.menu.latency.p99),
      'its own process, emulators in another',
    ]);
    rows.push([
      'service (node dist/src/main.js): checkout',
      rate(p.checkout.ordersPerSecond, 'orders/s'),
      ms(p.checkout.orderLatency.p50),
      ms(p.checkout.orderLatency.p99),
      '',
    ]);
    rows.push([
      'RSS  service process',
      `${p.idleMb.toFixed(0)} MB`,
      '',
      '',
      `after ${settings.idleSeconds} s idle; ${p.startedMb.toFixed(0)} MB at start, ${p.afterLoadMb.toFixed(0)} MB right after the load, peak ${p.peakMb.toFixed(0)} MB`,
    ]);
  }
  if (r.rssMb !== undefined) {
    rows.push([
      'RSS  bench process (service, A, B)',
      `${r.rssMb.toFixed(0)} MB`,
      '',
      '',
      `after ${settings.idleSeconds} s idle; ${(r.rssAfterLoadMb ?? 0).toFixed(0)} MB right after the load, peak ${(r.peakRssMb ?? 0).toFixed(0)} MB; includes tsx and the embedded Cognito and SQS`,
    ]);
  }

  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const render = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const lines = [render(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(render), ''];
  const nameWidth = Math.max(0, ...targets.map((t) => t.name.length));
  for (const t of targets)
    lines.push(`${t.met ? 'met    ' : 'NOT MET'}  ${t.name.padEnd(nameWidth)}  ${Number.isFinite(t.value) ? t.value.toFixed(t.value < 10 ? 2 : 0) : 'n/a'}`);
  return { table: lines.join('\n'), targets };
}

function percentiles(samples: number[]): Latency {
  if (samples.length === 0) return { p50: Number.NaN, p99: Number.NaN, mean: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length };
}

/** Runs one load scenario in a child process (bench/load.ts) and returns its figures. */
function runLoad<R extends LoadResult>(spec: LoadSpec): Promise<R> {
  // Profiling flags are for the service (this process), not the load generator.
  const nodeOptions = (process.env.NODE_OPTIONS ?? '').replace(/--cpu-prof\S*(\s+\S+)?/g, '').trim();
  const child = fork(path.join(ROOT, 'bench', 'load.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<R>((resolve, reject) => {
    let answered = false;
    child.once('message', (message: { ok: boolean; result?: R; error?: string }) => {
      answered = true;
      if (message.ok && message.result !== undefined) resolve(message.result);
      else reject(new Error(`load generator failed: ${message.error ?? 'no result'}`));
    });
    child.once('exit', (code) => {
      if (!answered) reject(new Error(`load generator exited with ${code} before answering`));
    });
    child.send(spec);
  });
}

async function signUpCustomers(baseUrl: string, count: number, runId: string): Promise<Customer[]> {
  const password = 'Bench-password-1!';
  const post = async (pathname: string, body: unknown) => {
    const response = await fetch(`${baseUrl}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await response.text();
    if (!response.ok) throw new Error(`${pathname} answered ${response.status}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const customers: Customer[] = [];
  for (let batch = 0; batch < count; batch += 10) {
    const emails = Array.from({ length: Math.min(10, count - batch) }, (_, i) => `bench-${runId}-${batch + i}@example.com`);
    customers.push(
      ...(await Promise.all(
        emails.map(async (email) => {
          await post('/v1/auth/signup', { email, password, name: 'Bench Customer' });
          const login = await post('/v1/auth/login', { email, password });
          return { email, auth: `Bearer ${String(login.access_token)}` };
        }),
      )),
    );
  }
  return customers;
}

async function request(
  baseUrl: string,
  method: string,
  pathname: string,
  customer: Customer | undefined,
  domain: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { 'x-restaurant-domain': domain, ...extraHeaders };
  if (customer !== undefined) headers.authorization = customer.auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${pathname}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: await response.text() };
}

const PGBENCH_VARIABLES: Record<string, string> = { restaurant: ':rid', r1: ':r1', r2: ':r2' };

/** A statement with named bindings (frozen ones, or the live one's sentinels) for the scripts: `$n` → `:variable`. */
function withVariables(sql: string, bindingNames: readonly string[]): string {
  return sql.replace(/\$(\d+)/g, (_match, n: string) => {
    const variable = PGBENCH_VARIABLES[bindingNames[Number(n) - 1] ?? ''];
    if (variable === undefined) throw new Error(`the menu statement has a binding the plain-SQL baselines do not know: ${bindingNames[Number(n) - 1]}`);
    return variable;
  });
}

/** The statement checkout prices its lines with, as it is now, for the recipes given by sentinels, with named bindings. */
function liveMenuSql(knex: Knex, recipes: 1 | 2): string {
  const sentinels = new Map<number, string>([
    [-1001, 'restaurant'],
    [-1002, 'r1'],
    [-1003, 'r2'],
  ]);
  const { sql, bindings } = pricedRecipesQuery(knex, -1001, recipes === 1 ? [-1002] : [-1002, -1003])
    .toSQL()
    .toNative();
  return withVariables(
    sql,
    bindings.map((value) => sentinels.get(Number(value)) ?? String(value)),
  );
}

interface FrozenStatement {
  name: string;
  sql: string;
  bindings: string[];
}

/** The menu statements of before issue 19, for B and C0 (bench/frozen/menu-statements.json). */
async function frozenMenuStatements(): Promise<{ page: FrozenStatement; lines: FrozenStatement }> {
  return JSON.parse(await fs.readFile(path.join(ROOT, 'bench', 'frozen', 'menu-statements.json'), 'utf8')) as { page: FrozenStatement; lines: FrozenStatement };
}

async function plainViaPgbench(url: string, script: PlainScript, fileName: string): Promise<PlainResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-pgbench-'));
  try {
    const file = path.join(dir, 'place-order.pgbench');
    await fs.writeFile(file, renderPgbenchScript(script));
    await fs.mkdir(RESULTS_DIR, { recursive: true });
    await fs.copyFile(file, path.join(RESULTS_DIR, fileName));
    const args = (seconds: number) => ['-n', '-M', 'extended', '-c', String(settings.connections), '-j', '2', '-T', String(seconds), '-f', file];
    if (settings.warmupSeconds > 0) await run('pgbench', [...args(settings.warmupSeconds), url], { maxBuffer: 16 * 1024 * 1024 });
    const { stdout, stderr } = await run('pgbench', [...args(settings.seconds), '-l', '--log-prefix', path.join(dir, 'tx'), url], {
      maxBuffer: 16 * 1024 * 1024,
    });
    if (/aborted/i.test(stderr)) throw new Error(`pgbench clients aborted:\n${stderr}`);
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]);
    const processed = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    const durations: number[] = [];
    for (const name of await fs.readdir(dir)) {
      if (!name.startsWith('tx')) continue;
      for (const line of (await fs.readFile(path.join(dir, name), 'utf8')).split('\n')) {
        const micros = Number(line.split(' ')[2]);
        if (Number.isFinite(micros) && line !== '') durations.push(micros / 1000);
      }
    }
    if (!Number.isFinite(tps)) throw new Error(`cannot read pgbench's figures:\n${stdout}\n${stderr}`);
    return { tool: 'pgbench', seconds: settings.seconds, orders: processed, ordersPerSecond: tps, latency: percentiles(durations), failures: failed };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Baseline C without pgbench: the same statements, the same number of connections, through pg (or the embedded database). */
async function plainViaConnections(
  tool: 'pg' | 'embedded',
  connect: () => Promise<PlainConnection & { close(): Promise<void> }>,
  script: PlainScript,
): Promise<PlainResult> {
  const connections = await Promise.all(Array.from({ length: settings.connections }, connect));
  try {
    const drive = async (seconds: number) => {
      const deadline = performance.now() + seconds * 1000;
      const durations: number[] = [];
      let failures = 0;
      const started = performance.now();
      await Promise.all(
        connections.map(async (connection, clientId) => {
          while (performance.now() < deadline) {
            const t0 = performance.now();
            try {
              await runPlainCheckout(script, clientId, connection);
              durations.push(performance.now() - t0);
            } catch {
              failures += 1;
            }
          }
        }),
      );
      return { durations, failures, elapsed: (performance.now() - started) / 1000 };
    };
    if (settings.warmupSeconds > 0) await drive(settings.warmupSeconds);
    const { durations, failures, elapsed } = await drive(settings.seconds);
    return { tool, seconds: elapsed, orders: durations.length, ordersPerSecond: durations.length / elapsed, latency: percentiles(durations), failures };
  } finally {
    await Promise.all(connections.map((connection) => connection.close()));
  }
}

function pgConnection(url: string) {
  return async (): Promise<PlainConnection & { close(): Promise<void> }> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const runOn = async (sql: string, vars: Record<string, number | string>) => {
      const { text, values } = bindStep(sql, vars);
      return (await client.query(text, values)).rows as Array<Record<string, unknown>>;
    };
    return {
      run: runOn,
      begin: async () => {
        await client.query('BEGIN');
        return { run: runOn, commit: async () => void (await client.query('COMMIT')), rollback: async () => void (await client.query('ROLLBACK')) };
      },
      close: () => client.end(),
    };
  };
}

function knexConnection(knex: Knex) {
  const runOn = (db: Knex | Knex.Transaction) => async (sql: string, vars: Record<string, number | string>) => {
    const { text, values } = bindStep(sql, vars, '?');
    const result = (await db.raw(text, values)) as { rows: Array<Record<string, unknown>> };
    return result.rows;
  };
  return async (): Promise<PlainConnection & { close(): Promise<void> }> => ({
    run: runOn(knex),
    begin: async () => {
      const trx = await knex.transaction();
      return { run: runOn(trx), commit: async () => void (await trx.commit()), rollback: async () => void (await trx.rollback()) };
    },
    close: async () => undefined,
  });
}

/**
 * The cash orders of the queue scenario, as checkout leaves them (order, item, first event, outbox row),
 * written in one transaction, so the scenario measures the pipeline (outbox relay → SQS → worker) and
 * not checkout, which the checkout scenario measures. Stock is not reserved: the queue never reads it.
 */
async function placeCashOrdersInBulk(
  query: (sql: string, bindings: Array<number | string>) => Promise<Array<Record<string, unknown>>>,
  menu: BenchMenu,
  count: number,
): Promise<void> {
  await query(
    `WITH placed AS (
       INSERT INTO orders (restaurant_id, customer_id, payment_method, fulfillment, currency, total_cents)
       SELECT ?::bigint, ?::bigint + (g % ?::int) * ?::bigint, 'cash', 'pickup', ?, ?::int + ?::int * (g % ?::int)
         FROM generate_series(0, ?::int - 1) AS g
       RETURNING id, restaurant_id, total_cents
     ), items AS (
       INSERT INTO order_items (restaurant_id, order_id, recipe_id, name, description, quantity, unit_price_cents, line_total_cents)
       SELECT p.restaurant_id, p.id, r.id, r.name, r.description, 1, p.total_cents, p.total_cents
         FROM placed p JOIN recipes r ON r.restaurant_id = p.restaurant_id AND r.id = ?::bigint + ((p.total_cents - ?::int) / ?::int) * ?::bigint
     ), events AS (
       INSERT INTO order_events (restaurant_id, order_id, status, actor) SELECT restaurant_id, id, 'pending', 'customer' FROM placed
     )
     INSERT INTO outbox (restaurant_id, type, payload)
     SELECT restaurant_id, 'order.confirmation_requested', jsonb_build_object('order_id', id) FROM placed ORDER BY id`,
    [
      menu.restaurantId,
      menu.plainCustomers.firstId,
      menu.plainCustomers.count,
      menu.idStep,
      menu.currency,
      menu.priceOf.base,
      menu.priceOf.perIndex,
      menu.recipeIds.length,
      count,
      menu.recipeIds[0] ?? 0,
      menu.priceOf.base,
      menu.priceOf.perIndex,
      menu.idStep,
    ],
  );
}

async function queueScenario(
  service: RunningService,
  menu: BenchMenu,
  customers: Customer[],
  query: (sql: string, bindings: Array<number | string>) => Promise<Array<Record<string, unknown>>>,
): Promise<QueueResult> {
  const [before] = await query('SELECT coalesce(max(id), 0)::bigint AS id FROM orders WHERE restaurant_id = ?', [menu.restaurantId]);
  const afterId = Number(before?.id ?? 0);
  const count = settings.queueOrders;
  let placing: Promise<PlaceResult | undefined>;
  let placedAt: number;
  if (settings.queuePlacedVia === 'api') {
    for (const customer of customers) await request(service.url, 'DELETE', '/v1/cart', customer, menu.domain);
    placing = runLoad<PlaceResult>({
      kind: 'place',
      url: service.url,
      domain: menu.domain,
      customers,
      recipeIds: menu.recipeIds,
      orders: count,
      connections: settings.connections,
    });
    placedAt = Number.NaN; // the first order's placed_at, read below
  } else {
    const started = Date.now();
    await placeCashOrdersInBulk(query, menu, count);
    const [now] = await query('SELECT extract(epoch FROM clock_timestamp())::float8 AS at', []);
    placedAt = Number(now?.at);
    placing = Promise.resolve({ kind: 'place', placed: count, failures: {}, startedAt: started, finishedAt: Date.now() });
  }
  let placed: PlaceResult | undefined;
  placing.then((result) => (placed = result)).catch(() => undefined);
  const deadline = Date.now() + 240_000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (placed !== undefined) {
      const [row] = await query(
        `SELECT count(*)::bigint AS n FROM orders WHERE restaurant_id = ? AND id > ? AND payment_method = 'cash' AND status = 'confirmed'`,
        [menu.restaurantId, afterId],
      );
      if (Number(row?.n) >= placed.placed) break;
    }
    if (Date.now() > deadline) throw new Error('the queue did not confirm every order within 4 minutes');
  }
  const result = (await placing) as PlaceResult;
  const [stats] = await query(
    `SELECT count(DISTINCT o.id)::bigint AS orders, count(e.id)::bigint AS events,
            extract(epoch FROM min(o.placed_at))::float8 AS first_placed,
            extract(epoch FROM max(e.created_at))::float8 AS last_confirmed,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM e.created_at - o.placed_at))::float8 AS lag_p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM e.created_at - o.placed_at))::float8 AS lag_p99,
            avg(extract(epoch FROM e.created_at - o.placed_at))::float8 AS lag_mean
       FROM orders o
       LEFT JOIN order_events e ON e.restaurant_id = o.restaurant_id AND e.order_id = o.id AND e.status = 'confirmed'
      WHERE o.restaurant_id = ? AND o.id > ? AND o.payment_method = 'cash'`,
    [menu.restaurantId, afterId],
  );
  const orders = Number(stats?.orders);
  // In bulk, every order is there at the commit; through the API, from the first order placed.
  const start = Number.isFinite(placedAt) ? placedAt : Number(stats?.first_placed);
  const allConfirmedSeconds = Number(stats?.last_confirmed) - start;
  const placingSeconds = (result.finishedAt - result.startedAt) / 1000;
  return {
    placedVia: settings.queuePlacedVia,
    orders,
    placingSeconds,
    placedPerSecond: orders / placingSeconds,
    allConfirmedSeconds,
    confirmedPerSecond: orders / allConfirmedSeconds,
    confirmationEvents: Number(stats?.events),
    confirmationLagMs: { p50: Number(stats?.lag_p50) * 1000, p99: Number(stats?.lag_p99) * 1000, mean: Number(stats?.lag_mean) * 1000 },
    failures: result.failures,
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const runId = Date.now().toString(36);
  const baseUrl = process.env.DATABASE_URL;
  const embedded = baseUrl === undefined || baseUrl === '';
  if (embedded) {
    const bar = '!'.repeat(100);
    log(
      `${bar}\n!! DATABASE_URL is not set: benchmarking the EMBEDDED database (PGlite, in this process, ONE connection).\n` +
        `!! Every query and transaction runs one at a time, so these figures measure a different system and are not\n` +
        `!! comparable with runs on PostgreSQL. Set DATABASE_URL=postgres://... for the real benchmark.\n${bar}`,
    );
  }

  // A fresh database of its own on the server DATABASE_URL names, dropped at the end.
  let benchUrl: string | undefined;
  let dropDatabase = async () => {};
  if (!embedded) {
    const name = `tablekit_bench_${runId}`;
    const adminUrl = new URL(baseUrl);
    adminUrl.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    benchUrl = url.toString();
    dropDatabase = async () => {
      if (process.env.BENCH_KEEP_DATABASE === 'true') {
        log(`kept the bench database ${name}`);
        return;
      }
      const dropper = new pg.Client({ connectionString: adminUrl.toString() });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    };
  }
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-bench-'));

  let service: RunningService | undefined;
  const servers: BaselineServer[] = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    const env: Record<string, string> = {
      NODE_ENV: 'development',
      PORT: '0',
      // Any free port: the default (9464) may be a running service's, and the bench must not take it.
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: settings.logLevel,
      DATA_DIR: dataDir,
      AUTH_RATE_LIMIT_PER_IP: '100000',
      // 50 customers place hundreds of orders each in a minute, card orders left unpaid: the per-customer
      // limits (10 checkouts a minute, 3 unpaid card orders) would refuse nearly all of them. Lifted, not
      // removed: each order still runs the limiter's counter and the unpaid count.
      ORDER_RATE_LIMIT_PER_CUSTOMER: '100000000',
      MAX_OPEN_UNPAID_ORDERS: '100000000',
      // Room for the stream scenario's streams (the default is 1,000 an instance) and the few a test leaves.
      MAX_STREAMS: String(settings.streams + 50),
    };
    if (benchUrl !== undefined) env.DATABASE_URL = benchUrl;
    if (process.env.DATABASE_POOL_MAX !== undefined) env.DATABASE_POOL_MAX = process.env.DATABASE_POOL_MAX;
    const config = loadConfig(env);
    service = await startService(config, createLogger(config.logLevel));
    // The demo menus' pictures are drawn in this process after the listen (~10 s of libvips and the S3
    // stand-in): measured beside them, the first scenarios would share the cores with it.
    await service.demoPicturesDrawn;
    const knex = service.database.knex;
    const menu = await seedBenchRestaurant(knex);
    log(
      `service on ${service.url} (${embedded ? 'embedded database' : `PostgreSQL, pool of ${config.database.kind === 'postgres' ? config.database.poolMax : 1}`}), ` +
        `menu of ${menu.recipeIds.length} recipes at ${menu.domain}; ${settings.connections} connections, ${settings.warmupSeconds} s warm-up, ${settings.seconds} s each`,
    );

    const customers = await signUpCustomers(service.url, settings.connections, runId);
    for (const customer of customers) {
      const me = await request(service.url, 'GET', '/v1/customers/me', customer, menu.domain);
      if (me.status !== 200) throw new Error(`a bench customer cannot use the restaurant: ${me.status} ${me.body}`);
    }
    log(`signed up ${customers.length} customers through the embedded Cognito`);

    // Statements per request: one customer, one request at a time, as the checkout scenario sends them.
    const prober = customers[0] as Customer;
    const serviceUrl = service.url;
    const answered = (expected: number) => (answer: { status: number; body: string }) => {
      if (answer.status !== expected) throw new Error(`statement count: expected ${expected}, got ${answer.status} ${answer.body}`);
    };
    const statements = await countStatements(knex, async () => answered(204)(await request(serviceUrl, 'DELETE', '/v1/cart', prober, menu.domain)), {
      cartAdd: async () =>
        answered(201)(await request(serviceUrl, 'POST', '/v1/cart/items', prober, menu.domain, { recipe_id: menu.recipeIds[0], quantity: 1 })),
      cartAddSecond: async () =>
        answered(201)(await request(serviceUrl, 'POST', '/v1/cart/items', prober, menu.domain, { recipe_id: menu.recipeIds[1], quantity: 1 })),
      order: async () =>
        answered(201)(
          await request(
            serviceUrl,
            'POST',
            '/v1/orders',
            prober,
            menu.domain,
            { fulfillment: 'pickup', payment_method: settings.checkoutPaymentMethod },
            { 'idempotency-key': `probe-${runId}-${Math.random()}` },
          ),
        ),
      menu: async () => answered(200)(await request(serviceUrl, 'GET', `/v1/recipes?limit=${settings.menuPageSize}`, undefined, menu.domain)),
    });
    const perOrder = (statements.cartAdd?.count ?? 0) + (statements.cartAddSecond?.count ?? 0) + (statements.order?.count ?? 0);
    log(
      `statements: cart add ${statements.cartAdd?.count}, second cart add ${statements.cartAddSecond?.count}, POST /v1/orders ${statements.order?.count} ` +
        `(${perOrder} per order of the checkout scenario); menu page ${statements.menu?.count}`,
    );

    // The menu page as the service answers it, and as baseline B does (same statement, same rows).
    const page = await request(service.url, 'GET', `/v1/recipes?limit=${settings.menuPageSize}`, undefined, menu.domain);
    const pageIds = (JSON.parse(page.body) as { data: Array<{ id: number; price_cents: number }> }).data;
    if (page.status !== 200 || pageIds.length !== settings.menuPageSize) throw new Error(`the menu page is not what the bench expects: ${page.status}`);
    if (pageIds.some((recipe, k) => recipe.price_cents !== menu.priceOf.base + menu.priceOf.perIndex * k))
      throw new Error('menu prices differ from the seed formula');

    // B′: the statement the service sent for the menu page just now (its text, bindings and prepared statement name).
    const [menuStatement] = statements.menu?.sent ?? [];
    if (menuStatement === undefined || statements.menu?.count !== 1) throw new Error(`the menu page is not one statement: ${statements.menu?.sql.join('; ')}`);
    // B: the statement of before issue 19, frozen, run the same way.
    const frozen = await frozenMenuStatements();
    const frozenValues = frozen.page.bindings.map((name) => (name === 'restaurant' ? menu.restaurantId : settings.menuPageSize + 1));
    // B turns the rows into JSON in JavaScript, as the service did before issue 19; B′ sends the text the
    // service's statement builds (its one row: the page's recipes as JSON), as the service does now.
    type Rows = Array<Record<string, unknown>>;
    let menuQuery: () => Promise<Rows>;
    let frozenMenuQuery: () => Promise<Rows>;
    let sqlQuery: (sql: string, bindings: Array<number | string>) => Promise<Rows>;
    if (benchUrl !== undefined) {
      const pool = new pg.Pool({ connectionString: benchUrl, max: config.database.kind === 'postgres' ? config.database.poolMax : 10 });
      closers.push(() => pool.end());
      menuQuery = async () => (await pool.query({ name: menuStatement.name, text: menuStatement.sql, values: [...menuStatement.bindings] })).rows;
      frozenMenuQuery = async () => (await pool.query({ name: frozen.page.name, text: frozen.page.sql, values: frozenValues })).rows;
      const monitor = new pg.Client({ connectionString: benchUrl });
      await monitor.connect();
      closers.push(() => monitor.end());
      sqlQuery = async (sql, bindings) => {
        let n = 0;
        return (
          await monitor.query(
            sql.replace(/\?/g, () => `$${++n}`),
            bindings,
          )
        ).rows as Rows;
      };
    } else {
      menuQuery = async () =>
        ((await knex.raw(menuStatement.sql.replace(/\$\d+/g, '?'), [...menuStatement.bindings] as Knex.RawBinding[])) as { rows: Rows }).rows;
      frozenMenuQuery = async () => ((await knex.raw(frozen.page.sql.replace(/\$\d+/g, '?'), frozenValues)) as { rows: Rows }).rows;
      sqlQuery = async (sql, bindings) => ((await knex.raw(sql, bindings)) as { rows: Rows }).rows;
    }
    const frozenBody = async () => JSON.stringify({ data: await frozenMenuQuery() });
    const menuBody = async () => `{"data":${String((await menuQuery())[0]?.data)}}`;
    for (const [name, body] of [
      ['B', frozenBody],
      ['B′', menuBody],
    ] as const) {
      const baselineIds = (JSON.parse(await body()) as { data: Array<{ id: unknown }> }).data.slice(0, settings.menuPageSize).map((row) => Number(row.id));
      if (baselineIds.join() !== pageIds.map((recipe) => recipe.id).join()) throw new Error(`baseline ${name} does not return the recipes of the menu page`);
    }

    const a = await startBaselineA();
    const b = await startBaselineB(frozenBody);
    const bPrime = await startBaselineB(menuBody);
    servers.push(a, b, bPrime);
    const get = (url: string, headers: Record<string, string> = {}) =>
      runLoad<GetResult>({ kind: 'get', url, headers, connections: settings.connections, warmupSeconds: settings.warmupSeconds, seconds: settings.seconds });

    // Between scenarios, what autovacuum would do on a live database: fresh statistics, and the dead row
    // versions the previous scenario left (15 000 stock updates on 200 rows) cleaned, so no scenario pays
    // for the one before it.
    const settle = async () => {
      // The card orders of the scenario before are paid, as customers pay theirs: with the per-customer
      // cap lifted they would otherwise pile up by the hundred per customer, which no real customer has
      // (the cap is 3), and make each scenario pay for the ones before it.
      await sqlQuery(
        `UPDATE orders SET payment_status = 'paid', updated_at = now() WHERE restaurant_id = ? AND payment_method = 'card' AND payment_status = 'unpaid'`,
        [menu.restaurantId],
      );
      await sqlQuery('VACUUM ANALYZE', []);
    };
    await settle();

    const results: Results = { statements };
    if (wanted('a')) {
      log('A: bare Express …');
      await settle();
      results.a = await get(`${a.url}/`);
    }
    if (wanted('b')) {
      log('B: node:http + pg, the menu statement of before issue 19 (frozen) …');
      await settle();
      results.b = await get(`${b.url}/`);
    }
    if (wanted('b2')) {
      log("B′: node:http + pg, the service's menu statement now …");
      await settle();
      results.bPrime = await get(`${bPrime.url}/`);
    }
    if (wanted('menu')) {
      log('menu: GET /v1/recipes?limit=20, anonymous …');
      await settle();
      results.menu = await get(`${service.url}/v1/recipes?limit=${settings.menuPageSize}`, { 'x-restaurant-domain': menu.domain });
    }

    const c0Script = plainCheckoutScript(menu, withVariables(frozen.lines.sql, frozen.lines.bindings), { paymentMethod: settings.checkoutPaymentMethod });
    const cScript = currentCheckoutScript(menu, { one: liveMenuSql(knex, 1), lines: liveMenuSql(knex, 2) }, { paymentMethod: settings.checkoutPaymentMethod });
    // C follows checkout statement for statement: a checkout that sends another number of them needs C rewritten.
    if (statementsOf(cScript) !== perOrder)
      throw new Error(`baseline C sends ${statementsOf(cScript)} statements per order, the service ${perOrder}: bring bench/plain-checkout.ts up to date`);
    const havePgbench =
      benchUrl !== undefined &&
      process.env.BENCH_PLAIN !== 'pg' &&
      (await run('pgbench', ['--version']).then(
        () => true,
        () => false,
      ));
    const plain = async (name: string, script: PlainScript): Promise<PlainResult> => {
      await settle();
      let result: PlainResult;
      if (benchUrl !== undefined && havePgbench) {
        log(`${name}: the place-order unit as plain SQL (${statementsOf(script)} statements), pgbench …`);
        result = await plainViaPgbench(benchUrl, script, `place-order-${name.toLowerCase()}.pgbench`);
      } else if (benchUrl !== undefined) {
        log(`${name}: the place-order unit as plain SQL (${statementsOf(script)} statements), through pg (pgbench not found) …`);
        result = await plainViaConnections('pg', pgConnection(benchUrl), script);
      } else {
        log(`${name}: the place-order unit as plain SQL (${statementsOf(script)} statements), on the embedded database …`);
        result = await plainViaConnections('embedded', knexConnection(knex), script);
      }
      if (result.failures > 0 || result.orders === 0) throw new Error(`baseline ${name} failed ${result.failures} times in ${result.orders} orders`);
      return { ...result, statements: statementsOf(script) };
    };
    if (wanted('c0')) results.c0 = await plain('C0', c0Script);
    if (wanted('c')) results.c = await plain('C', cScript);

    if (wanted('checkout')) {
      for (const customer of customers) await request(service.url, 'DELETE', '/v1/cart', customer, menu.domain);
      await settle();
      log('checkout: two cart lines, then POST /v1/orders …');
      results.checkout = await runLoad<CheckoutResult>({
        kind: 'checkout',
        url: service.url,
        domain: menu.domain,
        customers,
        recipeIds: menu.recipeIds,
        paymentMethod: settings.checkoutPaymentMethod,
        connections: settings.connections,
        warmupSeconds: settings.warmupSeconds,
        seconds: settings.seconds,
      });
      const otherAnswers = Object.entries(results.checkout.statuses).filter(([key]) => !/ 201$/.test(key));
      if (otherAnswers.length > 0) log(`  checkout answers other than 201: ${JSON.stringify(Object.fromEntries(otherAnswers))}`);
    }

    if (wanted('queue')) {
      await settle();
      log(`queue: ${settings.queueOrders} cash orders placed (${settings.queuePlacedVia}), until all are confirmed …`);
      results.queue = await queueScenario(service, menu, customers, sqlQuery);
    }

    // A manager of the bench restaurant, for the staff's order list.
    const running = service;
    const [staff] = await signUpCustomers(service.url, 1, `${runId}s`);
    if (staff === undefined) throw new Error('no staff user');
    const staffSub = (JSON.parse(Buffer.from(staff.auth.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string }).sub;
    await knex('staff_members').insert({ restaurant_id: menu.restaurantId, user_sub: staffSub, email: staff.email, role: 'manager' });
    const staffList = () => get(`${running.url}/v1/orders?limit=20`, { 'x-restaurant-domain': menu.domain, authorization: staff.auth });
    const checkoutLoad = async () => {
      for (const customer of customers) await request(running.url, 'DELETE', '/v1/cart', customer, menu.domain);
      await settle();
      return runLoad<CheckoutResult>({
        kind: 'checkout',
        url: running.url,
        domain: menu.domain,
        customers,
        recipeIds: menu.recipeIds,
        paymentMethod: settings.checkoutPaymentMethod,
        connections: settings.connections,
        warmupSeconds: settings.warmupSeconds,
        seconds: settings.seconds,
      });
    };
    if (wanted('list')) {
      log('list: GET /v1/orders?limit=20 as a manager …');
      await settle();
      results.orderList = await staffList();
    }
    if (wanted('scale')) {
      log(`scale: ${SCALE.restaurants} restaurants × ${SCALE.recipesEach} recipes, ${SCALE.orders} historical orders, seeded in SQL …`);
      const seed = await seedScale(sqlQuery, menu, SCALE, log);
      // The seed's millions of dirty pages written out now, as on a database that has been this size for a
      // while: otherwise the checkpoint they force lands in the scenarios measured next.
      if (benchUrl !== undefined) await sqlQuery('CHECKPOINT', []);
      log('scale: menu …');
      await settle();
      const scaleMenu = await get(`${service.url}/v1/recipes?limit=${settings.menuPageSize}`, { 'x-restaurant-domain': menu.domain });
      log('scale: checkout …');
      const scaleCheckout = await checkoutLoad();
      log('scale: staff order list …');
      await settle();
      results.scale = { seed, menu: scaleMenu, checkout: scaleCheckout, orderList: await staffList() };
    }

    if (wanted('stream')) {
      log(`stream: ${settings.streams} open order streams (staff), ${settings.streamOrders} orders placed meanwhile …`);
      await settle();
      const [buyer] = customers;
      if (buyer === undefined) throw new Error('no customer for the stream scenario');
      await request(running.url, 'DELETE', '/v1/cart', buyer, menu.domain);
      results.stream = await runLoad<StreamResult>({
        kind: 'stream',
        url: running.url,
        domain: menu.domain,
        staff,
        customer: buyer,
        recipeIds: menu.recipeIds,
        streams: settings.streams,
        orders: settings.streamOrders,
      });
    }

    if (wanted('service') && benchUrl !== undefined) {
      const production = await startProductionShape(
        ROOT,
        benchUrl,
        { AUTH_RATE_LIMIT_PER_IP: '100000', ORDER_RATE_LIMIT_PER_CUSTOMER: '100000000', MAX_OPEN_UNPAID_ORDERS: '100000000' },
        log,
      );
      try {
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        const startedMb = await production.rssMb();
        let peakMb = startedMb;
        const sampler = setInterval(() => {
          production.rssMb().then(
            (mb) => {
              peakMb = Math.max(peakMb, mb);
            },
            () => undefined,
          );
        }, 250);
        let menuResult: GetResult;
        let checkoutResult: CheckoutResult;
        try {
          const own = await signUpCustomers(production.url, settings.connections, `${runId}p`);
          log('service (node dist/src/main.js, its own process): menu …');
          await settle();
          menuResult = await get(`${production.url}/v1/recipes?limit=${settings.menuPageSize}`, { 'x-restaurant-domain': menu.domain });
          log('service (node dist/src/main.js, its own process): checkout …');
          await settle();
          checkoutResult = await runLoad<CheckoutResult>({
            kind: 'checkout',
            url: production.url,
            domain: menu.domain,
            customers: own,
            recipeIds: menu.recipeIds,
            paymentMethod: settings.checkoutPaymentMethod,
            connections: settings.connections,
            warmupSeconds: settings.warmupSeconds,
            seconds: settings.seconds,
          });
        } finally {
          clearInterval(sampler);
        }
        const afterLoadMb = await production.rssMb();
        await new Promise((resolve) => setTimeout(resolve, settings.idleSeconds * 1000));
        const idleMb = await production.rssMb();
        results.production = { startedMb, peakMb: Math.max(peakMb, afterLoadMb), afterLoadMb, idleMb, menu: menuResult, checkout: checkoutResult };
      } finally {
        await production.stop();
      }
    }

    // Garbage is not memory in use: collect it first when the bench runs with --expose-gc (npm run bench does).
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    results.rssAfterLoadMb = process.memoryUsage().rss / 1024 / 1024;
    // Then as a service between bursts: idle for a while, V8 hands back the heap it grew under load.
    await new Promise((resolve) => setTimeout(resolve, settings.idleSeconds * 1000));
    gc?.();
    const memory = process.memoryUsage();
    results.rssMb = memory.rss / 1024 / 1024;
    results.memoryMb = Object.fromEntries(Object.entries(memory).map(([name, bytes]) => [name, Math.round(bytes / 1024 / 1024)]));
    results.peakRssMb = process.resourceUsage().maxRSS / 1024;
    const complete = only === undefined;
    const { table, targets } = report(results);
    log('');
    log(table);
    log('');

    const document = {
      generated_at: new Date().toISOString(),
      database: embedded ? 'embedded (PGlite, one connection: not comparable with PostgreSQL runs)' : 'postgresql',
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, platform: `${os.platform()} ${os.release()}` },
      settings: { ...settings, only: only === undefined ? undefined : [...only] },
      targets,
      raw: {
        statements: results.statements,
        baseline_a: results.a,
        baseline_b: results.b,
        baseline_b_prime: results.bPrime,
        baseline_c0: results.c0,
        menu: results.menu,
        baseline_c: results.c,
        checkout: results.checkout,
        queue: results.queue,
        rss_after_load_mb: results.rssAfterLoadMb,
        rss_mb: results.rssMb,
        peak_rss_mb: results.peakRssMb,
        order_list: results.orderList,
        stream: results.stream,
        scale: results.scale,
        production: results.production,
        memory_mb: results.memoryMb,
      },
      duration_seconds: (performance.now() - started) / 1000,
    };
    const file = complete ? 'latest.json' : 'partial.json';
    await fs.mkdir(RESULTS_DIR, { recursive: true });
    await fs.writeFile(path.join(RESULTS_DIR, file), `${JSON.stringify(document, null, 2)}\n`);
    log(`wrote bench/results/${file} (${document.duration_seconds.toFixed(0)} s in all)`);
    if (embedded) log('!! These figures are from the EMBEDDED database (one connection): not comparable with PostgreSQL runs.');
  } finally {
    // A load generator that stopped mid-flight leaves requests queued in the service: let them finish.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const server of servers) await server.close();
    for (const close of closers) await close().catch(() => undefined);
    await service?.stop();
    await dropDatabase().catch((error: unknown) => log(`could not drop the bench database: ${String(error)}`));
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

await main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
