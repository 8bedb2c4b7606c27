import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import request from 'supertest';
import type { Knex } from 'knex';
import { withTransaction } from '../src/db/transaction.js';
import { errorMiddleware } from '../src/http/errors.js';
import { access, type Authenticator } from '../src/http/principal.js';
import { createRegistry } from '../src/http/openapi.js';
import { createApiRouter, defineRoute } from '../src/http/route.js';
import { createTenantResolver } from '../src/http/tenant.js';
import { z } from '../src/http/zod.js';
import { findRestaurantByDomain } from '../src/modules/restaurants/service.js';
import { silentLogger } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createRestaurant } from './support/factories.js';

/** A Postgres-shaped failure: what the driver throws carries the SQLSTATE in `code`. */
const pgError = (code: string) => Object.assign(new Error(`simulated ${code}`), { code });

describe('withTransaction', () => {
  let db: TestDatabase;
  let knex: Knex;
  let restaurantId: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    knex = db.knex;
    restaurantId = (await createRestaurant(knex)).id;
  });
  afterAll(async () => {
    await db.destroy();
  });

  const outboxRows = async (type: string) => Number((await knex('outbox').where({ restaurant_id: restaurantId, type }).count({ n: '*' }).first())?.n);

  it('runs a transaction aborted once by a serialization failure (40001) again, and the second run commits alone', async () => {
    let attempts = 0;
    const result = await withTransaction(knex, async (trx) => {
      attempts += 1;
      await trx('outbox').insert({ restaurant_id: restaurantId, type: 'retry-40001', payload: JSON.stringify({ attempt: attempts }) });
      if (attempts === 1) throw pgError('40001');
      return 'done';
    });
    expect(result).toBe('done');
    expect(attempts).toBe(2);
    // The aborted attempt's insert rolled back: one row, the second attempt's.
    expect(await outboxRows('retry-40001')).toBe(1);
  });

  it('retries a deadlock (40P01) too, but gives up after maxRetries and throws the failure', async () => {
    let attempts = 0;
    await expect(
      withTransaction(
        knex,
        async () => {
          attempts += 1;
          throw pgError('40P01');
        },
        { maxRetries: 2 },
      ),
    ).rejects.toMatchObject({ code: '40P01' });
    expect(attempts).toBe(3);
  });

  it('does not retry any other failure: a unique violation (23505) reaches the caller after one run, nothing kept', async () => {
    let attempts = 0;
    await expect(
      withTransaction(knex, async (trx) => {
        attempts += 1;
        await trx('outbox').insert({ restaurant_id: restaurantId, type: 'no-retry', payload: '{}' });
        throw pgError('23505');
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(attempts).toBe(1);
    expect(await outboxRows('no-retry')).toBe(0);
  });
});

describe('an idempotent route that fails on our side (5xx)', () => {
  let db: TestDatabase;
  let app: express.Express;
  let runs = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    const restaurant = await createRestaurant(db.knex);
    const authenticator: Authenticator = {
      authenticate: async () => ({ sub: 'customer-1', username: 'customer-1', email: undefined, isPlatformAdmin: false }),
      staffRole: async () => undefined,
    };
    const api = createApiRouter(
      {
        db: db.knex,
        logger: silentLogger,
        authenticator,
        tenants: createTenantResolver((domain) => findRestaurantByDomain(db.knex, domain)),
        media: undefined as never,
      },
      createRegistry(),
    );
    defineRoute(api, {
      method: 'post',
      path: '/v1/flaky',
      summary: 'Fails with an unexpected error the first time, answers 201 after',
      description: 'A route of this test only.',
      tags: ['test'],
      access: access.signedIn,
      idempotent: true,
      body: z.object({ n: z.number() }),
      responses: { 201: { description: 'ok', schema: z.object({ run: z.number() }) } },
      handler: async () => {
        runs += 1;
        if (runs === 1) throw new Error('the database went away');
        return { status: 201, body: { run: runs } };
      },
    });
    app = express();
    app.use(express.json());
    app.use((req, _res, next) => {
      req.headers['x-restaurant-domain'] = restaurant.domain;
      next();
    });
    app.use(api.router);
    app.use(errorMiddleware(silentLogger));
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('releases the key, so a retry with the same key runs again instead of replaying the 500', async () => {
    const send = () => request(app).post('/v1/flaky').set('Authorization', 'Bearer x').set('Idempotency-Key', 'flaky-1').send({ n: 1 });
    const first = await send();
    expect(first.status).toBe(500);
    expect(first.body.code).toBe('internal');
    const retry = await send();
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual({ run: 2 });
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    // Now finished: a third send replays the stored 201 without running the handler.
    const replay = await send();
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(runs).toBe(2);
  });
});
