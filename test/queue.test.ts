import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { startEmbeddedSqs, embeddedSqsClientConfig, type EmbeddedSqs } from '../src/local/sqs.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { OutboxRelay } from '../src/queue/relay.js';
import { OrderWorker } from '../src/queue/worker.js';
import { confirmOrderBySystem } from '../src/modules/orders/service.js';
import { moveOrder, moveOrderAlone } from '../src/modules/orders/lifecycle.js';
import { withTransaction } from '../src/db/transaction.js';
import { PaymentTimeoutSweeper } from '../src/modules/orders/payment-timeout.js';
import { findDeadLetterQueueUrl } from '../src/queue/sqs.js';
import { loadConfig } from '../src/config/config.js';
import { startService } from '../src/service.js';
import { silentLogger } from './support/app.js';
import { captureLog } from './support/log-capture.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';
import { createCustomer, createIngredient, createPlacedOrder, createRestaurant } from './support/factories.js';

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 15_000) => {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const queueDepth = async (client: SQSClient, queueUrl: string) => {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  // The emulator counts in-flight messages in ApproximateNumberOfMessages too (src/local/sqs.ts): take the larger.
  return Math.max(Number(Attributes?.ApproximateNumberOfMessages ?? 0), Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0));
};

describe('the order queue: outbox relay → SQS → worker', () => {
  let db: TestDatabase;
  let knex: Knex;
  let sqs: EmbeddedSqs;
  let client: SQSClient;
  let metrics: Metrics;
  let restaurantId: number;
  let customerId: number;
  let deadLetterQueueUrl: string | undefined;

  const statusOf = async (orderId: number) => (await knex('orders').select('status').where({ id: orderId }).first())?.status as string;
  const confirmationEvents = async (orderId: number) =>
    Number((await knex('order_events').where({ order_id: orderId, status: 'confirmed' }).count({ n: '*' }).first())?.n);
  const newRelay = (overrides: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}) =>
    new OutboxRelay({ db: knex, sqs: client, queueUrl: sqs.queueUrl, logger: silentLogger, metrics, idleDelayMs: 20, ...overrides });
  const newWorker = () =>
    new OrderWorker({
      confirmOrder: (r, o) => confirmOrderBySystem(knex, r, o),
      sqs: client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl,
      batchSize: 1,
      logger: silentLogger,
      metrics,
      waitTimeSeconds: 1,
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    knex = db.knex;
    sqs = await startEmbeddedSqs({ visibilityTimeoutSeconds: 2 });
    client = new SQSClient(embeddedSqsClientConfig(sqs, 'us-east-1'));
    metrics = createMetrics(knex);
    deadLetterQueueUrl = await findDeadLetterQueueUrl(client, sqs.queueUrl);
    restaurantId = (await createRestaurant(knex)).id;
    customerId = (await createCustomer(knex, restaurantId)).id;
  });

  afterAll(async () => {
    client.destroy();
    await sqs.stop();
    await db.destroy();
  });

  beforeEach(async () => {
    // A stopped worker's abandoned long poll (1 s here) still takes a message server-side; let it end,
    // then start each test from an empty queue and a sent-out outbox.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await knex('outbox').whereNull('sent_at').update({ sent_at: knex.fn.now() });
    for (const url of [sqs.queueUrl, sqs.deadLetterQueueUrl]) {
      for (;;) {
        const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
        const receipt = Messages?.[0]?.ReceiptHandle;
        if (receipt === undefined) break;
        await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receipt }));
      }
    }
  });

  it('finds the dead-letter queue from the redrive policy', () => {
    expect(deadLetterQueueUrl).toBe(sqs.deadLetterQueueUrl);
  });

  it('confirms a placed cash order end to end, as the system, once', async () => {
    const order = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash' });
    const relay = newRelay();
    const worker = newWorker();
    relay.start();
    worker.start();
    try {
      await waitFor('the order to be confirmed', async () => (await statusOf(order.id)) === 'confirmed');
    } finally {
      await relay.stop();
      await worker.stop();
    }
    const events = await knex('order_events').where({ order_id: order.id }).orderBy('id');
    expect(events.map((event) => [event.status, event.actor])).toEqual([
      ['pending', 'customer'],
      ['confirmed', 'system'],
    ]);
    const outbox = await knex('outbox')
      .where({ restaurant_id: restaurantId })
      .whereRaw(`payload->>'order_id' = ?`, [String(order.id)])
      .first();
    expect(outbox.sent_at).not.toBeNull();
    expect(await queueDepth(client, sqs.queueUrl)).toBe(0);
  });

  it('sends a versioned event that names the restaurant and the order', async () => {
    const order = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash' });
    expect(await newRelay().relayOnce()).toBe(1);
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
    const body = JSON.parse(Messages?.[0]?.Body ?? '{}');
    expect(body).toMatchObject({ version: 1, type: 'order.confirmation_requested', restaurant_id: restaurantId, order_id: order.id });
    expect(typeof body.id).toBe('string');
    expect(new Date(body.occurred_at).toISOString()).toBe(body.occurred_at);
  });

  it('confirms once when the same message is delivered three times', async () => {
    const order = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash', enqueueConfirmation: false });
    const body = JSON.stringify({
      version: 1,
      id: 'dup-1',
      type: 'order.confirmation_requested',
      restaurant_id: restaurantId,
      order_id: order.id,
      occurred_at: new Date().toISOString(),
    });
    for (let i = 0; i < 3; i += 1) await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body }));
    const worker = newWorker();
    worker.start();
    try {
      await waitFor('all three deliveries to be handled', async () => (await queueDepth(client, sqs.queueUrl)) === 0);
    } finally {
      await worker.stop();
    }
    expect(await statusOf(order.id)).toBe('confirmed');
    expect(await confirmationEvents(order.id)).toBe(1);
  });

  it('handles a receive of ten together: deletes the nine done, and the one that failed comes back and is confirmed once', async () => {
    const orders = await Promise.all(
      Array.from({ length: 10 }, () => createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash', enqueueConfirmation: false })),
    );
    const failing = orders[3]!.id;
    const attempts = new Map<number, number>();
    const worker = new OrderWorker({
      confirmOrder: async (r, o) => {
        attempts.set(o, (attempts.get(o) ?? 0) + 1);
        if (o === failing && attempts.get(o) === 1) throw new Error('database hiccup');
        return confirmOrderBySystem(knex, r, o);
      },
      sqs: client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl,
      batchSize: 10,
      logger: silentLogger,
      metrics,
      waitTimeSeconds: 1,
    });
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.queueUrl,
        Entries: orders.map((order, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify({
            version: 1,
            id: `batch-${i}`,
            type: 'order.confirmation_requested',
            restaurant_id: restaurantId,
            order_id: order.id,
            occurred_at: new Date().toISOString(),
          }),
        })),
      }),
    );
    worker.start();
    try {
      await waitFor('the nine to be confirmed and deleted', async () => (await queueDepth(client, sqs.queueUrl)) === 1);
      expect(await statusOf(failing)).toBe('pending');
      // Its visibility timeout (2 s here) runs out; the redelivery confirms it.
      await waitFor('the failed one to come back and be confirmed', async () => (await queueDepth(client, sqs.queueUrl)) === 0);
    } finally {
      await worker.stop();
    }
    for (const order of orders) {
      expect(await statusOf(order.id)).toBe('confirmed');
      expect(await confirmationEvents(order.id)).toBe(1);
    }
    expect(attempts.get(failing)).toBe(2);
    expect([...attempts.entries()].filter(([id]) => id !== failing).every(([, n]) => n === 1)).toBe(true);
  });

  it('still confirms once when the relay crashes between sending and marking', async () => {
    const order = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash' });
    let crashes = 1;
    const crashingRelay = newRelay({
      afterSend: async () => {
        if (crashes-- > 0) throw new Error('simulated crash after send');
      },
    });
    await expect(crashingRelay.relayOnce()).rejects.toThrow('simulated crash');
    const unsent = await knex('outbox').whereNull('sent_at').count({ n: '*' }).first();
    expect(Number(unsent?.n)).toBe(1);
    expect(await newRelay().relayOnce()).toBe(0); // still leased to the relay that crashed
    await knex('outbox').whereNull('sent_at').update({ available_at: knex.fn.now() }); // the lease runs out
    expect(await crashingRelay.relayOnce()).toBe(1); // the re-send
    expect(await queueDepth(client, sqs.queueUrl)).toBe(2);

    const worker = newWorker();
    worker.start();
    try {
      await waitFor('both copies to be handled', async () => (await queueDepth(client, sqs.queueUrl)) === 0);
    } finally {
      await worker.stop();
    }
    expect(await statusOf(order.id)).toBe('confirmed');
    expect(await confirmationEvents(order.id)).toBe(1);
  });

  it('keeps events while SQS is unreachable, then drains them all', async () => {
    const orders = await Promise.all([1, 2, 3].map(() => createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash' })));
    const unreachable = new SQSClient({ ...embeddedSqsClientConfig(sqs, 'us-east-1'), endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const downRelay = newRelay({ sqs: unreachable });
    expect(await downRelay.relayOnce()).toBe(0);
    expect(await downRelay.relayOnce()).toBe(0); // backed off: nothing claimable yet
    unreachable.destroy();
    const backlog = await knex('outbox').whereNull('sent_at').select('attempts', 'last_error', 'available_at');
    expect(backlog).toHaveLength(3);
    for (const row of backlog) {
      expect(row.attempts).toBe(1);
      expect(row.last_error).toBeTruthy();
      expect(new Date(row.available_at).getTime()).toBeGreaterThan(Date.now());
    }
    const scraped = await metrics.registry.getSingleMetricAsString('tablekit_outbox_backlog');
    expect(scraped).toMatch(/tablekit_outbox_backlog 3/);

    // Time passes (the backoff elapses) and SQS is back.
    await knex('outbox').whereNull('sent_at').update({ available_at: knex.fn.now() });
    const relay = newRelay();
    const worker = newWorker();
    relay.start();
    worker.start();
    try {
      await waitFor('every order to be confirmed', async () => {
        const statuses = await Promise.all(orders.map((order) => statusOf(order.id)));
        return statuses.every((status) => status === 'confirmed');
      });
    } finally {
      await relay.stop();
      await worker.stop();
    }
    expect(Number((await knex('outbox').whereNull('sent_at').count({ n: '*' }).first())?.n)).toBe(0);
  });

  it('moves a message that cannot be parsed to the dead-letter queue', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: '{"type": "order.confirmation_requested", "order_id": "DROP TABLE' }));
    const worker = newWorker();
    worker.start();
    try {
      await waitFor('the poison message to leave the queue', async () => (await queueDepth(client, sqs.queueUrl)) === 0);
    } finally {
      await worker.stop();
    }
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.deadLetterQueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
    expect(Messages?.[0]?.Body).toContain('DROP TABLE');
    expect(await metrics.registry.getSingleMetricAsString('tablekit_queue_messages_failed_total')).toMatch(/reason="unparseable"} 1/);
  });

  it('logs no error when stop() abandons a waiting long poll, as every SIGTERM does', async () => {
    const log = captureLog('debug');
    const worker = new OrderWorker({
      confirmOrder: (r, o) => confirmOrderBySystem(knex, r, o),
      sqs: client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl,
      batchSize: 1,
      logger: log.logger,
      metrics,
      waitTimeSeconds: 20,
    });
    worker.start();
    await new Promise((resolve) => setTimeout(resolve, 500)); // the long poll is waiting at the queue
    const stopping = Date.now();
    await worker.stop();
    expect(Date.now() - stopping).toBeLessThan(2_000);
    await waitFor('the aborted poll to be reported', async () => log.records().some((record) => /^queue receive/.test(String(record.msg))), 5_000);
    expect(log.records().filter((record) => Number(record.level) >= 50)).toEqual([]);
    expect(log.records().filter((record) => record.msg === 'queue receive ended by shutdown')).toHaveLength(1);
  });

  it('acknowledges a confirmation for an order that is no longer pending without changing it', async () => {
    const order = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash', enqueueConfirmation: false });
    await knex('orders').where({ id: order.id }).update({ status: 'cancelled' });
    const outcome = await newWorker().confirm({
      version: 1,
      id: 'x',
      type: 'order.confirmation_requested',
      restaurant_id: restaurantId,
      order_id: order.id,
      occurred_at: new Date().toISOString(),
    });
    expect(outcome).toBe('duplicate');
    expect(await statusOf(order.id)).toBe('cancelled');
    const unknown = await newWorker().confirm({
      version: 1,
      id: 'y',
      type: 'order.confirmation_requested',
      restaurant_id: restaurantId,
      order_id: 987_654,
      occurred_at: new Date().toISOString(),
    });
    expect(unknown).toBe('stale');
  });
});

describe('the payment-timeout sweeper', () => {
  let db: TestDatabase;
  let knex: Knex;

  beforeAll(async () => {
    db = await createTestDatabase();
    knex = db.knex;
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('cancels only unpaid card orders past the timeout, and gives their stock back once', async () => {
    const restaurantId = (await createRestaurant(knex)).id;
    const customerId = (await createCustomer(knex, restaurantId)).id;
    const cheese = await createIngredient(knex, restaurantId, { stock: 10 });
    const old = new Date(Date.now() - 20 * 60_000);
    const overdue = await createPlacedOrder(knex, {
      restaurantId,
      customerId,
      paymentMethod: 'card',
      placedAt: old,
      reserve: [{ ingredientId: cheese.id, quantity: 3 }],
    });
    const recent = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'card', reserve: [{ ingredientId: cheese.id, quantity: 1 }] });
    const paid = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'card', placedAt: old });
    await knex('orders').where({ id: paid.id }).update({ payment_status: 'paid' });
    const cash = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash', placedAt: old });
    const settling = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'card', placedAt: old });
    await knex('payments').insert({
      restaurant_id: restaurantId,
      order_id: settling.id,
      method: 'card',
      provider: 'test',
      status: 'pending',
      amount_cents: 1000,
      currency: 'EUR',
    });
    const confirmed = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'card', placedAt: old });
    await knex('orders').where({ id: confirmed.id }).update({ status: 'confirmed' });

    const metrics = createMetrics(knex);
    const sweepers = [1, 2].map(() => new PaymentTimeoutSweeper({ db: knex, timeoutMs: 15 * 60_000, logger: silentLogger, metrics }));
    const cancelled = await Promise.all(sweepers.map((sweeper) => sweeper.sweepOnce()));
    expect(cancelled.reduce((a, b) => a + b, 0)).toBe(1);

    const statuses = Object.fromEntries(
      (await knex('orders').select('id', 'status').whereIn('id', [overdue.id, recent.id, paid.id, cash.id, settling.id, confirmed.id])).map((row) => [
        row.id,
        row.status,
      ]),
    );
    expect(statuses).toEqual({
      [overdue.id]: 'cancelled',
      [recent.id]: 'pending',
      [paid.id]: 'pending',
      [cash.id]: 'pending',
      [settling.id]: 'pending',
      [confirmed.id]: 'confirmed',
    });
    const event = await knex('order_events').where({ order_id: overdue.id, status: 'cancelled' });
    expect(event).toHaveLength(1);
    expect(event[0]).toMatchObject({ actor: 'system', reason: 'payment not received in time' });

    expect((await knex('ingredients').where({ id: cheese.id }).first()).stock).toBe(9); // 10 - 3 - 1 + 3
    const ledger = await knex('inventory_movements').where({ order_id: overdue.id }).orderBy('id');
    expect(ledger.map((row) => [row.reason, row.delta])).toEqual([
      ['order_reserved', -3],
      ['order_released', 3],
    ]);

    expect(await sweepers[0]!.sweepOnce()).toBe(0);
    expect((await knex('ingredients').where({ id: cheese.id }).first()).stock).toBe(9);
  });
});

describe('an order move run alone, without a transaction', () => {
  it('refuses a move that gives the holds back: that needs moveOrder in a transaction', async () => {
    await expect(moveOrderAlone({} as Knex, { restaurantId: 1, orderId: 1, to: 'cancelled', actor: 'system' })).rejects.toThrow(/in a transaction/);
  });
});

describe.skipIf(!onRealPostgres)('confirmations racing each other and a cancel (real PostgreSQL)', () => {
  it('confirms once however many copies arrive at once, and a racing cancel either wins or finds it confirmed', async () => {
    const db = await createTestDatabase({ poolMax: 20 });
    try {
      const restaurantId = (await createRestaurant(db.knex)).id;
      const customerId = (await createCustomer(db.knex, restaurantId)).id;
      const order = await createPlacedOrder(db.knex, { restaurantId, customerId, paymentMethod: 'cash', enqueueConfirmation: false });
      const outcomes = await Promise.all(Array.from({ length: 12 }, () => confirmOrderBySystem(db.knex, restaurantId, order.id)));
      expect(outcomes.filter((o) => o.kind === 'confirmed')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(11);
      expect(await db.knex('order_events').where({ order_id: order.id, status: 'confirmed' })).toHaveLength(1);

      // A customer's cancel against the confirmation: exactly one of them moves the order.
      const raced = await createPlacedOrder(db.knex, { restaurantId, customerId, paymentMethod: 'cash', enqueueConfirmation: false });
      const [confirmed, cancelled] = await Promise.all([
        confirmOrderBySystem(db.knex, restaurantId, raced.id),
        withTransaction(db.knex, (trx) => moveOrder(trx, { restaurantId, orderId: raced.id, to: 'cancelled', actor: 'customer', customerId })),
      ]);
      const status = (await db.knex('orders').select('status').where({ id: raced.id }).first())?.status;
      const events = await db.knex('order_events').where({ order_id: raced.id }).whereNot({ status: 'pending' });
      expect(events).toHaveLength(1);
      expect(events[0]?.status).toBe(status);
      if (status === 'confirmed') expect([confirmed.kind, cancelled]).toEqual(['confirmed', undefined]);
      else expect([status, confirmed.kind, cancelled?.from]).toEqual(['cancelled', 'duplicate', 'pending']);
    } finally {
      await db.destroy();
    }
  });
});

describe.skipIf(!onRealPostgres)('two relays and two workers at once (real PostgreSQL)', () => {
  it('confirm every order exactly once', async () => {
    const db = await createTestDatabase({ poolMax: 20 });
    const sqs = await startEmbeddedSqs({ visibilityTimeoutSeconds: 5 });
    const client = new SQSClient(embeddedSqsClientConfig(sqs, 'us-east-1'));
    const metrics = createMetrics(db.knex);
    try {
      const restaurantId = (await createRestaurant(db.knex)).id;
      const customerId = (await createCustomer(db.knex, restaurantId)).id;
      const orders = [];
      for (let i = 0; i < 60; i += 1) orders.push(await createPlacedOrder(db.knex, { restaurantId, customerId, paymentMethod: 'cash' }));
      const deadLetterQueueUrl = await findDeadLetterQueueUrl(client, sqs.queueUrl);
      const relays = [1, 2].map(() => new OutboxRelay({ db: db.knex, sqs: client, queueUrl: sqs.queueUrl, logger: silentLogger, metrics, idleDelayMs: 20 }));
      const workers = [1, 2].map(
        () =>
          new OrderWorker({
            confirmOrder: (r, o) => confirmOrderBySystem(db.knex, r, o),
            sqs: client,
            queueUrl: sqs.queueUrl,
            deadLetterQueueUrl,
            batchSize: 1,
            logger: silentLogger,
            metrics,
            waitTimeSeconds: 1,
          }),
      );
      for (const part of [...relays, ...workers]) part.start();
      try {
        await waitFor(
          'all orders to be confirmed',
          async () => Number((await db.knex('orders').where({ status: 'confirmed' }).count({ n: '*' }).first())?.n) === orders.length,
          60_000,
        );
      } finally {
        await Promise.all([...relays, ...workers].map((part) => part.stop()));
      }
      const perOrder = await db.knex('order_events').select('order_id').count({ n: '*' }).where({ status: 'confirmed' }).groupBy('order_id');
      expect(perOrder).toHaveLength(orders.length);
      expect(perOrder.every((row) => Number(row.n) === 1)).toBe(true);
      expect(Number((await db.knex('outbox').whereNull('sent_at').count({ n: '*' }).first())?.n)).toBe(0);
    } finally {
      client.destroy();
      await sqs.stop();
      await db.destroy();
    }
  }, 90_000);
});

describe('the service runs the queue in process', () => {
  it('confirms a placed cash order within a second, and reports it in /metrics', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-queue-'));
    const db = await createTestDatabase();
    const env: Record<string, string> = { PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    if (db.url !== undefined) env.DATABASE_URL = db.url;
    else await db.destroy();
    const service = await startService(loadConfig(env), silentLogger);
    try {
      expect(service.queue?.kind).toBe('embedded');
      const knex = service.database.knex;
      const restaurantId = (await createRestaurant(knex)).id;
      const customerId = (await createCustomer(knex, restaurantId)).id;
      const order = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash' });
      const placed = Date.now();
      await waitFor('confirmation', async () => (await knex('orders').select('status').where({ id: order.id }).first()).status === 'confirmed', 5_000);
      expect(Date.now() - placed).toBeLessThan(1_000);
      await fetch(`${service.url}/healthz`);
      // On its own listener only (METRICS_PORT), never on the API's.
      expect((await fetch(`${service.url}/metrics`)).status).toBe(404);
      const metricsText = await (await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`)).text();
      expect(metricsText).toMatch(/tablekit_queue_messages_handled_total\{type="order.confirmation_requested",outcome="confirmed"\} 1/);
      expect(metricsText).toMatch(/tablekit_order_confirmation_latency_seconds_count 1/);
      expect(metricsText).toMatch(/tablekit_outbox_backlog 0/);
      expect(metricsText).toMatch(/tablekit_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
    } finally {
      await service.stop();
      if (db.url !== undefined) await db.destroy();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('runs no queue work with WORKER_ENABLED=false', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-apionly-'));
    const db = await createTestDatabase();
    const env: Record<string, string> = { PORT: '0', METRICS_PORT: 'off', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', WORKER_ENABLED: 'false' };
    if (db.url !== undefined) env.DATABASE_URL = db.url;
    else await db.destroy();
    const service = await startService(loadConfig(env), silentLogger);
    try {
      expect(service.queue).toBeUndefined();
      expect(service.metricsPort).toBeUndefined();
      const knex = service.database.knex;
      const restaurantId = (await createRestaurant(knex)).id;
      const customerId = (await createCustomer(knex, restaurantId)).id;
      const order = await createPlacedOrder(knex, { restaurantId, customerId, paymentMethod: 'cash' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await knex('orders').select('status').where({ id: order.id }).first()).status).toBe('pending');
      expect(Number((await knex('outbox').whereNull('sent_at').count({ n: '*' }).first())?.n)).toBe(1);
    } finally {
      await service.stop();
      if (db.url !== undefined) await db.destroy();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
