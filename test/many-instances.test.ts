import { ReceiveMessageCommand, DeleteMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createDatabase, type Database } from '../src/db/database.js';
import { createJobLock } from '../src/db/job-lock.js';
import { startEmbeddedSqs, embeddedSqsClientConfig, type EmbeddedSqs } from '../src/local/sqs.js';
import { createMetrics } from '../src/metrics.js';
import { Periodic } from '../src/queue/periodic.js';
import { OutboxRelay } from '../src/queue/relay.js';
import { silentLogger } from './support/app.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';
import { createCustomer, createPlacedOrder, createRestaurant } from './support/factories.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Another instance's connection pool on the same database (real Postgres), or this one's (PGlite: one process). */
async function secondInstance(db: TestDatabase): Promise<{ knex: Knex; close(): Promise<void> }> {
  if (db.url === undefined) return { knex: db.knex, close: async () => undefined };
  const other: Database = await createDatabase({ kind: 'postgres', url: db.url, poolMax: 5 });
  return { knex: other.knex, close: () => other.close() };
}

describe('background jobs with several instances', () => {
  let db: TestDatabase;
  let other: Awaited<ReturnType<typeof secondInstance>>;
  beforeAll(async () => {
    db = await createTestDatabase();
    other = await secondInstance(db);
  });
  afterAll(async () => {
    await other.close();
    await db.destroy();
  });

  const lockOf = (knex: Knex) => createJobLock(knex, db.kind);

  it('run a guarded job once in a tick, however many runners tick at once', async () => {
    let runs = 0;
    const job = async () => {
      runs += 1;
      await sleep(300);
    };
    const runners = [db.knex, other.knex, db.knex].map((knex) => new Periodic('the sweep', 20, job, silentLogger, lockOf(knex)));
    for (const runner of runners) runner.start();
    await sleep(200);
    await Promise.all(runners.map((runner) => runner.stop()));
    expect(runs).toBe(1);

    // Unguarded, every runner runs it: what the lock prevents.
    runs = 0;
    const unguarded = [1, 2].map(() => new Periodic('the sweep', 20, job, silentLogger));
    for (const runner of unguarded) runner.start();
    await sleep(200);
    await Promise.all(unguarded.map((runner) => runner.stop()));
    expect(runs).toBe(2);
  });

  it('let the next runner in once the holder is done, also when its run failed', async () => {
    const first = lockOf(db.knex);
    const second = lockOf(other.knex);
    let release: () => void = () => undefined;
    const holding = first.runAlone('reconcile', () => new Promise<void>((resolve) => (release = resolve)));
    await sleep(50);
    expect(await second.runAlone('reconcile', async () => undefined)).toBe(false);
    expect(await second.runAlone('another job', async () => undefined)).toBe(true);
    release();
    expect(await holding).toBe(true);
    await expect(second.runAlone('reconcile', async () => Promise.reject(new Error('provider down')))).rejects.toThrow('provider down');
    expect(await first.runAlone('reconcile', async () => undefined)).toBe(true);
  });
});

describe('the outbox relay with several instances', () => {
  let db: TestDatabase;
  let sqs: EmbeddedSqs;
  let client: SQSClient;
  let restaurantId: number;
  let customerId: number;

  beforeAll(async () => {
    db = await createTestDatabase({ poolMax: 10 });
    sqs = await startEmbeddedSqs({ visibilityTimeoutSeconds: 30 });
    client = new SQSClient(embeddedSqsClientConfig(sqs, 'us-east-1'));
    restaurantId = (await createRestaurant(db.knex)).id;
    customerId = (await createCustomer(db.knex, restaurantId)).id;
  });
  afterAll(async () => {
    client.destroy();
    await sqs.stop();
    await db.destroy();
  });

  /** An SQS client that waits `delayMs` inside every send and runs `during` there. */
  const slowSqs = (delayMs: number, during: () => Promise<void> = async () => undefined) =>
    ({
      send: async (command: Parameters<SQSClient['send']>[0], options?: Parameters<SQSClient['send']>[1]) => {
        await during();
        await sleep(delayMs);
        return client.send(command, options);
      },
    }) as unknown as SQSClient;

  const drainQueue = async () => {
    const bodies: Array<{ id: string; order_id: number }> = [];
    for (;;) {
      const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
      const message = Messages?.[0];
      if (message === undefined) return bodies;
      bodies.push(JSON.parse(message.Body ?? '{}') as { id: string; order_id: number });
      await client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  };

  it('holds no transaction open while it talks to SQS', async () => {
    await createPlacedOrder(db.knex, { restaurantId, customerId, paymentMethod: 'cash' });
    const openTransactions: number[] = [];
    const relay = new OutboxRelay({
      db: db.knex,
      sqs: slowSqs(0, async () => {
        // On PGlite (one connection) this query could not even run inside an open transaction.
        const started = Date.now();
        const rows = await db.knex('outbox').whereNull('sent_at').count({ n: '*' }).first();
        expect(Number(rows?.n)).toBeGreaterThan(0);
        expect(Date.now() - started).toBeLessThan(2_000);
        if (db.kind === 'postgres') {
          const idle = await db.knex.raw(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`);
          openTransactions.push(Number(idle.rows[0].n));
        }
      }),
      queueUrl: sqs.queueUrl,
      logger: silentLogger,
      metrics: createMetrics(db.knex),
    });
    expect(await relay.relayOnce()).toBe(1);
    if (db.kind === 'postgres') expect(openTransactions).toEqual([0]);
    expect(await drainQueue()).toHaveLength(1);
  });

  it.skipIf(!onRealPostgres)('send each row once when two relays on two instances run at once (real PostgreSQL)', async () => {
    const orders = [];
    for (let i = 0; i < 40; i += 1) orders.push(await createPlacedOrder(db.knex, { restaurantId, customerId, paymentMethod: 'cash' }));
    const other = await secondInstance(db);
    try {
      const relays = [db.knex, other.knex].map(
        (knex) => new OutboxRelay({ db: knex, sqs: slowSqs(30), queueUrl: sqs.queueUrl, logger: silentLogger, metrics: createMetrics(knex) }),
      );
      const sentBy = await Promise.all(
        relays.map(async (relay) => {
          let sent = 0;
          for (let n = await relay.relayOnce(); n > 0; n = await relay.relayOnce()) sent += n;
          return sent;
        }),
      );
      expect(sentBy[0]! + sentBy[1]!).toBe(orders.length);
      expect(sentBy.every((n) => n > 0)).toBe(true); // both took part
      const bodies = await drainQueue();
      expect(bodies.map((body) => body.order_id).sort((a, b) => a - b)).toEqual(orders.map((order) => order.id).sort((a, b) => a - b));
      expect(new Set(bodies.map((body) => body.id)).size).toBe(orders.length);
      expect(Number((await db.knex('outbox').whereNull('sent_at').count({ n: '*' }).first())?.n)).toBe(0);
    } finally {
      await other.close();
    }
  });
});
