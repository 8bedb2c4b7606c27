// What the fault tests share: the service as a separate process (so it can be signalled and killed), a
// restaurant to load, and a keep-alive HTTP client that records every request's fate.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { insertIngredientRow, insertRecipeRows } from '../support/catalog.js';
import { createRestaurant } from '../support/factories.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) and how long after `since` it came. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** `node --import tsx src/main.ts` with exactly this environment (nothing of the test process's leaks in). */
// The fault tests load the service as a few customers placing hundreds of orders: lift the per-customer limits.
const FAULT_TEST_LIMITS = { ORDER_RATE_LIMIT_PER_CUSTOMER: '100000', PAYMENT_RATE_LIMIT_PER_CUSTOMER: '100000', MAX_OPEN_UNPAID_ORDERS: '100000' };

export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', ...FAULT_TEST_LIMITS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const started = Date.now();
  for (;;) {
    const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
    if (match !== null) {
      const port = Number(match[1]);
      return { child, port, url: `http://127.0.0.1:${port}`, output: () => output, exited };
    }
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the service exited before listening:\n${output}`);
    if (Date.now() - started > 90_000) {
      child.kill('SIGKILL');
      throw new Error(`the service did not start within 90 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The JSON log lines the service wrote. */
export function logRecords(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

export interface FaultMenu {
  restaurantId: number;
  domain: string;
  ingredientIds: number[];
  recipes: Array<{ id: number; lines: Array<{ ingredient_id: number; quantity: number }> }>;
  initialStock: number;
}

/** A restaurant of 8 ingredients (plenty of stock) and 6 recipes of 2-3 of them. */
export async function seedFaultMenu(knex: Knex, domain: string): Promise<FaultMenu> {
  const restaurant = await createRestaurant(knex, { domain });
  const initialStock = 1_000_000;
  const ingredientIds: number[] = [];
  for (let i = 0; i < 8; i += 1)
    ingredientIds.push(await insertIngredientRow(knex, restaurant.id, { name: `Fault ingredient ${i}`, stock: initialStock, price_cents: 100 + i }));
  const shapes = Array.from({ length: 6 }, (_, k) =>
    [k, k + 1, k + 2].slice(0, 2 + (k % 2)).map((i, j) => ({ ingredient_id: ingredientIds[i % ingredientIds.length]!, quantity: 1 + j })),
  );
  const ids = await insertRecipeRows(
    knex,
    restaurant.id,
    shapes.map((lines, k) => ({ name: `Fault dish ${k}`, lines })),
  );
  return { restaurantId: restaurant.id, domain, ingredientIds, recipes: ids.map((id, k) => ({ id, lines: shapes[k]! })), initialStock };
}

export interface Outcome {
  id: string;
  method: string;
  path: string;
  sentAt: number;
  answeredAt?: number;
  status?: number;
  body?: string;
  contentType?: string;
  /** The answer was the stored one of an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
  error?: string;
}

/** Keep-alive requests as a load balancer or a browser would send them, each recorded with its fate. */
export class RecordingClient {
  readonly outcomes: Outcome[] = [];
  private readonly agent: http.Agent;

  constructor(maxSockets: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  send(
    baseUrl: string,
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {},
  ): Promise<Outcome> {
    const target = new URL(path, baseUrl);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const outcome: Outcome = { id: randomUUID(), method, path, sentAt: Date.now() };
    this.outcomes.push(outcome);
    return new Promise<Outcome>((resolve) => {
      const req = http.request(
        {
          agent: this.agent,
          host: target.hostname,
          port: target.port,
          method,
          path: `${target.pathname}${target.search}`,
          headers: {
            'x-request-id': outcome.id,
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
            ...options.headers,
          },
          timeout: options.timeoutMs ?? 30_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            Object.assign(outcome, {
              answeredAt: Date.now(),
              status: res.statusCode,
              body: text,
              contentType: String(res.headers['content-type'] ?? ''),
              replayed: res.headers['idempotent-replayed'] === 'true',
            });
            resolve(outcome);
          });
          res.on('error', (error) => {
            Object.assign(outcome, { answeredAt: Date.now(), error: `response: ${error.message}` });
            resolve(outcome);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        Object.assign(outcome, { answeredAt: Date.now(), error: error.code ?? error.message });
        resolve(outcome);
      });
      // Stamped once the request is on its way: "sent before the signal" means written before it.
      req.end(payload, () => {
        outcome.sentAt = Date.now();
      });
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}
