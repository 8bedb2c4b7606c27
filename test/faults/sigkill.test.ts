// SIGKILL in the middle of a burst of 500 orders, then a restart on the same database: every order is
// confirmed exactly once, stock and ledger agree, nothing is left in the outbox. The queue (SQS) and the
// user pool (Cognito) must outlive the killed process, as they do in production: here they run in this
// test process, embedded, and the service is pointed at them as at the real ones.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedCognito, type EmbeddedCognito } from '../../src/local/cognito.js';
import { embeddedSqsClientConfig, startEmbeddedSqs, type EmbeddedSqs } from '../../src/local/sqs.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from '../support/database.js';
import { signInCustomer, type SignedInUser } from '../support/users.js';
import { RecordingClient, seedFaultMenu, sleep, startServiceProcess, waitFor, type FaultMenu, type ServiceProcess } from './support.js';

const CUSTOMERS = 50;
const ORDERS_EACH = 10;
const ORDERS = CUSTOMERS * ORDERS_EACH;
const KILL_AFTER = 150;

describe.skipIf(!onRealPostgres)('SIGKILL during a burst of orders, then a restart (needs the real PostgreSQL server: set DATABASE_URL)', () => {
  let db: TestDatabase;
  let cognito: EmbeddedCognito;
  let sqs: EmbeddedSqs;
  let dataDir: string;
  let menu: FaultMenu;
  let customers: SignedInUser[];
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ poolMax: 4 });
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-fault-sigkill-'));
    cognito = await startEmbeddedCognito({ dataDir: path.join(dataDir, 'cognito'), port: 0, logger: pino({ level: 'silent' }) });
    // A short visibility timeout, so what the killed process had received comes back soon; receive counts
    // high enough that redeliveries never reach the dead-letter queue.
    sqs = await startEmbeddedSqs({ visibilityTimeoutSeconds: 3, maxReceiveCount: 1000 });
    menu = await seedFaultMenu(db.knex, 'sigkill.example.com');
    customers = [];
    for (let i = 0; i < CUSTOMERS; i += 1) customers.push(await signInCustomer(cognito));
  }, 120_000);

  afterAll(async () => {
    for (const service of services) if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    await sqs?.stop();
    await cognito?.stop();
    await db?.destroy();
    if (dataDir !== undefined) await fs.rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('confirms every order exactly once after the restart, with stock, ledger and outbox in agreement', async () => {
    const env = {
      DATABASE_URL: db.url ?? '',
      DATA_DIR: path.join(dataDir, 'data'),
      LOG_LEVEL: 'warn',
      DATABASE_POOL_MAX: '10',
      SQS_QUEUE_URL: sqs.queueUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'tablekit-test',
      AWS_SECRET_ACCESS_KEY: 'tablekit-test',
      COGNITO_USER_POOL_ID: cognito.userPoolId,
      COGNITO_CLIENT_ID: cognito.clientId,
      COGNITO_ENDPOINT: cognito.endpoint,
      COGNITO_AUTH_FLOW: 'USER_PASSWORD_AUTH',
    };
    let service = await startServiceProcess(env);
    services.push(service);
    let restarted: Promise<ServiceProcess> | undefined;
    const client = new RecordingClient(CUSTOMERS);
    const tenant = { 'x-restaurant-domain': menu.domain };
    const placedIds = new Set<number>();
    let placedCount = 0;
    let killedAt: number | undefined;
    const tally = { replayed: 0, inUseAfterCrash: 0, inDoubt: 0 };

    /** The current service; after the kill, the restarted one (requests wait for it). */
    const current = async () => (restarted === undefined ? service : await restarted);

    const kill = () => {
      if (killedAt !== undefined) return;
      killedAt = Date.now();
      service.child.kill('SIGKILL');
      restarted = service.exited.then(async () => {
        const next = await startServiceProcess(env);
        services.push(next);
        service = next;
        return next;
      });
    };

    /** One request that must eventually be answered: a connection error means the process died, so wait for the next one. */
    const until = async (method: string, pathname: string, customer: SignedInUser, headers: Record<string, string> = {}, body?: unknown) => {
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const target = await current();
        const outcome = await client.send(target.url, method, pathname, { headers: { ...tenant, authorization: customer.auth, ...headers }, body });
        if (outcome.status !== undefined) return outcome;
        tally.inDoubt += 1;
        await sleep(100);
      }
      throw new Error(`${method} ${pathname} never got an answer`);
    };

    const placeOrders = async (customer: SignedInUser, index: number) => {
      for (let n = 0; n < ORDERS_EACH; n += 1) {
        // The cart holds exactly one line before each order, whatever a crash left behind.
        const cart = await until('GET', '/v1/cart', customer);
        if ((JSON.parse(cart.body ?? '{}') as { items?: unknown[] }).items?.length === 0) {
          const added = await until('POST', '/v1/cart/items', customer, {}, { recipe_id: menu.recipes[(index + n) % menu.recipes.length]!.id, quantity: 1 });
          expect(added.status, added.body).toBe(201);
        }
        let key = randomUUID();
        for (;;) {
          const answer = await until('POST', '/v1/orders', customer, { 'idempotency-key': key }, { fulfillment: 'pickup', payment_method: 'cash' });
          if (answer.status === 201) {
            const order = JSON.parse(answer.body ?? '{}') as { id: number };
            if (answer.replayed === true) tally.replayed += 1;
            expect(placedIds.has(order.id)).toBe(false);
            placedIds.add(order.id);
            placedCount += 1;
            if (placedCount >= KILL_AFTER) kill();
            break;
          }
          // The key's first request died with the process before committing: the key stays in use (for a
          // retry to take over only after 2 minutes), and the order was never placed. Place it afresh.
          expect(answer.status, answer.body).toBe(409);
          expect(answer.body).toContain('idempotency_key_in_use');
          tally.inUseAfterCrash += 1;
          key = randomUUID();
        }
      }
    };

    await Promise.all(customers.map((customer, index) => placeOrders(customer, index)));
    expect(killedAt).toBeDefined();
    const second = await current();
    expect(placedIds.size).toBe(ORDERS);

    const knex = db.knex;
    await waitFor(
      'every order to be confirmed',
      async () => Number((await knex('orders').where({ restaurant_id: menu.restaurantId, status: 'confirmed' }).count({ n: '*' }).first())?.n) === ORDERS,
      120_000,
    );

    // Exactly the orders the customers were told about, each once.
    const orders = await knex('orders').where({ restaurant_id: menu.restaurantId }).select('id', 'status');
    expect(orders.map((o) => Number(o.id)).sort((a, b) => a - b)).toEqual([...placedIds].sort((a, b) => a - b));
    // Confirmed exactly once each, by the system.
    const confirmations: Array<{ order_id: unknown; actor: string; n: unknown }> = await knex('order_events')
      .where({ restaurant_id: menu.restaurantId, status: 'confirmed' })
      .select('order_id', 'actor', knex.raw('count(*) AS n'))
      .groupBy('order_id', 'actor');
    expect(confirmations).toHaveLength(ORDERS);
    expect(confirmations.every((row) => Number(row.n) === 1 && row.actor === 'system')).toBe(true);
    // Nothing left in the outbox, and one confirmation request per order. A batch the killed relay sent but
    // had not yet marked sent is confirmed through SQS's redelivery, yet stays claimed until its lease (30 s)
    // runs out; the restarted relay then sends it again (at-least-once) and marks it. So wait for that.
    await waitFor(
      'the outbox to drain',
      async () => Number((await knex('outbox').where({ restaurant_id: menu.restaurantId }).whereNull('sent_at').count({ n: '*' }).first())?.n) === 0,
      60_000,
    );
    const requests = await knex('outbox')
      .where({ restaurant_id: menu.restaurantId, type: 'order.confirmation_requested' })
      .select(knex.raw(`(payload->>'order_id')::bigint AS order_id`));
    expect(requests.map((r) => Number(r.order_id)).sort((a, b) => a - b)).toEqual([...placedIds].sort((a, b) => a - b));
    // Stock and ledger agree: per ingredient, what is on the shelf is the opening stock plus every movement.
    for (const ingredientId of menu.ingredientIds) {
      const { stock } = await knex('ingredients').where({ id: ingredientId }).first('stock');
      const { moved } = await knex('inventory_movements')
        .where({ restaurant_id: menu.restaurantId, ingredient_id: ingredientId })
        .first(knex.raw('coalesce(sum(delta), 0)::bigint AS moved'));
      expect(Number(stock)).toBe(menu.initialStock + Number(moved));
    }
    // And each order reserved exactly what its recipe needs, once.
    const reserved = await knex('inventory_movements as m')
      .join('order_items as i', function onOrder() {
        this.on('i.restaurant_id', '=', 'm.restaurant_id').andOn('i.order_id', '=', 'm.order_id');
      })
      .where({ 'm.restaurant_id': menu.restaurantId, 'm.reason': 'order_reserved' })
      .select('m.order_id', 'i.recipe_id', 'i.quantity', 'm.ingredient_id', 'm.delta');
    const recipeLines = new Map(menu.recipes.map((r) => [r.id, new Map(r.lines.map((l) => [l.ingredient_id, l.quantity]))]));
    // (A cart add cut off by the kill and sent again may have added a second portion: the order then has 2.)
    for (const row of reserved)
      expect(-Number(row.delta)).toBe(Number(row.quantity) * (recipeLines.get(Number(row.recipe_id))?.get(Number(row.ingredient_id)) ?? Number.NaN));
    const perOrder = new Map<number, number>();
    for (const row of reserved) perOrder.set(Number(row.order_id), (perOrder.get(Number(row.order_id)) ?? 0) + 1);
    const orderRecipes = await knex('order_items').where({ restaurant_id: menu.restaurantId }).select('order_id', 'recipe_id');
    for (const item of orderRecipes) expect(perOrder.get(Number(item.order_id))).toBe(recipeLines.get(Number(item.recipe_id))?.size);

    // The queue drains too (what the killed process held comes back after the visibility timeout).
    const sqsClient = new SQSClient(embeddedSqsClientConfig(sqs, 'us-east-1'));
    try {
      await waitFor(
        'the orders queue to drain',
        async () => {
          const { Attributes } = await sqsClient.send(
            new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
          );
          return Number(Attributes?.ApproximateNumberOfMessages ?? 0) === 0;
        },
        60_000,
      );
    } finally {
      sqsClient.destroy();
    }

    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    client.close();
    console.info(
      `SIGKILL after ${KILL_AFTER} orders: ${ORDERS} placed, ${tally.inDoubt} requests cut off by the kill, ${tally.replayed} replays, ` +
        `${tally.inUseAfterCrash} keys left in use by it; all confirmed once`,
    );
  }, 300_000);
});
