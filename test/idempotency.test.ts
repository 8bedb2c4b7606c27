import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import {
  beginIdempotentRequest,
  completeIdempotentRequest,
  requestFingerprint,
  sweepExpiredIdempotencyKeys,
  type IdempotencyScope,
} from '../src/http/idempotency.js';
import { AppError } from '../src/http/errors.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createRestaurant } from './support/factories.js';

describe('idempotency keys', () => {
  let db: TestDatabase;
  let knex: Knex;
  let restaurantId: number;
  let n = 0;
  const scope = (): IdempotencyScope => ({ restaurantId, userSub: 'user-1', key: `key-${++n}` });
  const codeOf = async (work: Promise<unknown>) =>
    work.then(
      () => 'ok',
      (error: unknown) => (error instanceof AppError ? error.code : String(error)),
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    knex = db.knex;
    restaurantId = (await createRestaurant(knex)).id;
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('fingerprints a body regardless of key order, but not regardless of route or values', () => {
    expect(requestFingerprint('POST', '/v1/orders', { a: 1, b: { c: 2, d: [1, 2] } })).toBe(
      requestFingerprint('post', '/v1/orders', { b: { d: [1, 2], c: 2 }, a: 1 }),
    );
    expect(requestFingerprint('POST', '/v1/orders', { a: 1 })).not.toBe(requestFingerprint('POST', '/v1/orders/1/payments', { a: 1 }));
    expect(requestFingerprint('POST', '/v1/orders', { a: 1 })).not.toBe(requestFingerprint('POST', '/v1/orders', { a: 2 }));
    expect(requestFingerprint('POST', '/v1/orders', { a: [1, 2] })).not.toBe(requestFingerprint('POST', '/v1/orders', { a: [2, 1] }));
  });

  it('runs the first request, reports the key in use while it runs, then replays its answer', async () => {
    const s = scope();
    expect(await beginIdempotentRequest(knex, s, 'h1')).toEqual({ kind: 'new' });
    expect(await codeOf(beginIdempotentRequest(knex, s, 'h1'))).toBe('idempotency_key_in_use');
    await completeIdempotentRequest(knex, s, 201, { id: 7 });
    expect(await beginIdempotentRequest(knex, s, 'h1')).toEqual({ kind: 'replay', status: 201, body: { id: 7 } });
    expect(await codeOf(beginIdempotentRequest(knex, s, 'h2'))).toBe('idempotency_key_reused');
  });

  it('lets a retry take over a key whose request died while running', async () => {
    const s = scope();
    await beginIdempotentRequest(knex, s, 'h1');
    await knex('idempotency_keys')
      .where({ key: s.key })
      .update({ locked_at: knex.raw(`now() - interval '10 minutes'`) });
    expect(await beginIdempotentRequest(knex, s, 'h1')).toEqual({ kind: 'new' });
  });

  it('forgets keys after 24 hours, and the sweep deletes only those', async () => {
    const old = scope();
    const fresh = scope();
    await beginIdempotentRequest(knex, old, 'h1');
    await completeIdempotentRequest(knex, old, 201, { id: 1 });
    await beginIdempotentRequest(knex, fresh, 'h1');
    await completeIdempotentRequest(knex, fresh, 201, { id: 2 });
    await knex('idempotency_keys')
      .where({ key: old.key })
      .update({ created_at: knex.raw(`now() - interval '25 hours'`) });
    expect(await sweepExpiredIdempotencyKeys(knex)).toBe(1);
    expect(await knex('idempotency_keys').where({ key: old.key })).toHaveLength(0);
    expect(await knex('idempotency_keys').where({ key: fresh.key })).toHaveLength(1);
    expect(await beginIdempotentRequest(knex, old, 'other body')).toEqual({ kind: 'new' });
  });

  it('lets a key expired but not yet swept be used afresh, with another body', async () => {
    const s = scope();
    await beginIdempotentRequest(knex, s, 'h1');
    await completeIdempotentRequest(knex, s, 201, { id: 1 });
    await knex('idempotency_keys')
      .where({ key: s.key })
      .update({ created_at: knex.raw(`now() - interval '25 hours'`) });
    expect(await beginIdempotentRequest(knex, s, 'h2')).toEqual({ kind: 'new' });
    expect(await knex('idempotency_keys').where({ key: s.key }).first()).toMatchObject({ request_hash: 'h2', status: 'running' });
  });

  it('scopes keys to the restaurant and the user', async () => {
    const s = scope();
    await beginIdempotentRequest(knex, s, 'h1');
    expect(await beginIdempotentRequest(knex, { ...s, userSub: 'user-2' }, 'h2')).toEqual({ kind: 'new' });
    const other = (await createRestaurant(knex)).id;
    expect(await beginIdempotentRequest(knex, { ...s, restaurantId: other }, 'h2')).toEqual({ kind: 'new' });
  });
});
