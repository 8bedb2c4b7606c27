import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import {
  beginIdempotentRequest,
  completeIdempotentRequest,
  idempotencyKeyOf,
  releaseIdempotencyKey,
  requestFingerprint,
  sweepExpiredIdempotencyKeys,
  type IdempotencyScope,
} from '../src/http/idempotency.js';
import { AppError } from '../src/http/errors.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createRestaurant } from './support/factories.js';

// The edges of API.md "Idempotency": which keys a client may send, when a retry of a request that
// died may take its key over (120 s) and when a key is forgotten (24 h). Time is moved by ageing the
// key's row in the database, the clock Postgres compares against.

const refusal = (work: () => unknown): AppError => {
  try {
    work();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the key to be refused');
};
const refusalOf = async (work: Promise<unknown>): Promise<AppError> =>
  work.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => {
      if (error instanceof AppError) return error;
      throw error;
    },
  );

describe('the Idempotency-Key a client may send', () => {
  const visibleAscii = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');

  it('accepts 1 to 255 visible ASCII characters, every one of them', () => {
    for (const key of ['k', 'k'.repeat(255), visibleAscii, '!', '~', 'order-2026-12-01T10:00:00Z#1']) expect(idempotencyKeyOf(key)).toBe(key);
  });

  it('asks for a key when there is none or it is empty', () => {
    for (const header of [undefined, '']) {
      const error = refusal(() => idempotencyKeyOf(header));
      expect([error.code, error.status]).toEqual(['idempotency_key_required', 400]);
      expect(error.detail).toMatch(/Idempotency-Key/);
    }
  });

  it('refuses a key that is too long or holds anything but visible ASCII, naming the header', () => {
    for (const key of ['k'.repeat(256), ' ', 'two words', ' leading', 'trailing ', 'tab\there', 'line\n', '\x7f', 'caf\u00e9', 'emoji\u{1f354}']) {
      const error = refusal(() => idempotencyKeyOf(key));
      expect([error.code, error.status], JSON.stringify(key)).toEqual(['validation_failed', 400]);
      expect(error.detail).toMatch(/Idempotency-Key/);
      expect(error.errors).toEqual([{ path: 'headers.idempotency-key', message: 'must be 1-255 visible ASCII characters' }]);
    }
  });
});

describe('what makes two requests the same', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  // Stored fingerprints outlive a deploy by up to 24 h: the format must not drift, or a client's retry
  // across a deploy would be refused as a different request.
  it('fingerprints the upper-cased method, the path and the body with its keys sorted, in a fixed format', () => {
    expect(requestFingerprint('post', '/v1/orders', { payment_method: 'cash', fulfillment: 'pickup', items: [2, 1], notes: null })).toBe(
      sha256('POST /v1/orders\n{"fulfillment":"pickup","items":[2,1],"notes":null,"payment_method":"cash"}'),
    );
    expect(requestFingerprint('POST', '/v1/orders/1/payments', { b: { d: 1, c: [{ z: 1, y: 2 }] }, a: 'x' })).toBe(
      sha256('POST /v1/orders/1/payments\n{"a":"x","b":{"c":[{"y":2,"z":1}],"d":1}}'),
    );
  });

  it('treats a field sent as undefined as a field not sent, and no body as a null body', () => {
    expect(requestFingerprint('POST', '/v1/orders/1/cancel', { reason: undefined })).toBe(sha256('POST /v1/orders/1/cancel\n{}'));
    expect(requestFingerprint('POST', '/v1/orders/1/payments/cash', undefined)).toBe(sha256('POST /v1/orders/1/payments/cash\nnull'));
    expect(requestFingerprint('POST', '/x', null)).toBe(requestFingerprint('POST', '/x', undefined));
  });
});

describe('retries around the 120 s takeover and the 24 h lifetime', () => {
  let db: TestDatabase;
  let knex: Knex;
  let restaurantId: number;
  let n = 0;
  const scope = (): IdempotencyScope => ({ restaurantId, userSub: 'edge-user', key: `edge-${++n}` });
  const age = async (s: IdempotencyScope, column: 'locked_at' | 'created_at', interval: string) =>
    knex('idempotency_keys')
      .where({ restaurant_id: s.restaurantId, user_sub: s.userSub, key: s.key })
      .update({ [column]: knex.raw(`now() - interval '${interval}'`) });
  const rowOf = (s: IdempotencyScope) => knex('idempotency_keys').where({ restaurant_id: s.restaurantId, user_sub: s.userSub, key: s.key }).first();
  const completed = async (s: IdempotencyScope, body: unknown = { id: 1 }) => {
    expect(await beginIdempotentRequest(knex, s, 'h1')).toEqual({ kind: 'new' });
    await completeIdempotentRequest(knex, s, 201, body);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    knex = db.knex;
    restaurantId = (await createRestaurant(knex)).id;
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('tells a retry 119 s after a request started that it is still running, with Retry-After', async () => {
    const s = scope();
    await beginIdempotentRequest(knex, s, 'h1');
    await age(s, 'locked_at', '119 seconds');
    const error = await refusalOf(beginIdempotentRequest(knex, s, 'h1'));
    expect([error.code, error.status, error.headers]).toEqual(['idempotency_key_in_use', 409, { 'Retry-After': '1' }]);
    expect(error.detail).toMatch(/still being processed/);
  });

  it('lets a retry 121 s after a request started take its key over, once: the next retry waits again', async () => {
    const s = scope();
    await beginIdempotentRequest(knex, s, 'h1');
    await age(s, 'locked_at', '121 seconds');
    expect(await beginIdempotentRequest(knex, s, 'h1')).toEqual({ kind: 'new' });
    expect((await refusalOf(beginIdempotentRequest(knex, s, 'h1'))).code).toBe('idempotency_key_in_use');
  });

  it('never takes over a key whose request finished, however old its lock, and never for another body', async () => {
    const s = scope();
    await completed(s, { id: 42 });
    await age(s, 'locked_at', '10 minutes');
    expect(await beginIdempotentRequest(knex, s, 'h1')).toEqual({ kind: 'replay', status: 201, body: { id: 42 } });

    const running = scope();
    await beginIdempotentRequest(knex, running, 'h1');
    await age(running, 'locked_at', '10 minutes');
    const error = await refusalOf(beginIdempotentRequest(knex, running, 'h2'));
    expect([error.code, error.status]).toEqual(['idempotency_key_reused', 422]);
    expect(error.detail).toMatch(/different request/);
    expect((await rowOf(running)).request_hash).toBe('h1');
  });

  it('replays an answer 23 h 59 min old, and runs the request afresh at 24 h 1 min', async () => {
    const young = scope();
    await completed(young, { id: 7 });
    await age(young, 'created_at', '23 hours 59 minutes');
    expect(await beginIdempotentRequest(knex, young, 'h1')).toEqual({ kind: 'replay', status: 201, body: { id: 7 } });
    expect((await refusalOf(beginIdempotentRequest(knex, young, 'h2'))).code).toBe('idempotency_key_reused');

    const old = scope();
    await completed(old, { id: 8 });
    await age(old, 'created_at', '24 hours 1 minute');
    expect(await beginIdempotentRequest(knex, old, 'h1')).toEqual({ kind: 'new' });
    expect(await rowOf(old)).toMatchObject({ status: 'running', request_hash: 'h1', response_code: null });
  });

  it('forgets only the expired key of this user and restaurant, not the same key of someone else', async () => {
    const mine = scope();
    const theirs = { ...mine, userSub: 'someone-else' };
    await completed(mine, { id: 1 });
    await completed(theirs, { id: 2 });
    await age(mine, 'created_at', '25 hours');
    expect(await beginIdempotentRequest(knex, mine, 'h2')).toEqual({ kind: 'new' });
    expect(await beginIdempotentRequest(knex, theirs, 'h1')).toEqual({ kind: 'replay', status: 201, body: { id: 2 } });
  });

  it('replays an answer that had no body as a null body', async () => {
    const s = scope();
    await beginIdempotentRequest(knex, s, 'h1');
    await completeIdempotentRequest(knex, s, 204, undefined);
    expect(await beginIdempotentRequest(knex, s, 'h1')).toEqual({ kind: 'replay', status: 204, body: null });
    expect((await rowOf(s)).locked_at).toBeNull();
  });

  it('releases a key whose request failed on our side, but never a finished one', async () => {
    const failed = scope();
    await beginIdempotentRequest(knex, failed, 'h1');
    await releaseIdempotencyKey(knex, failed);
    expect(await rowOf(failed)).toBeUndefined();
    expect(await beginIdempotentRequest(knex, failed, 'h2')).toEqual({ kind: 'new' });

    const done = scope();
    await completed(done, { id: 3 });
    await releaseIdempotencyKey(knex, done);
    expect(await beginIdempotentRequest(knex, done, 'h1')).toEqual({ kind: 'replay', status: 201, body: { id: 3 } });
  });

  it('sweeps keys past 24 h in batches, and keeps one 23 h 59 min old', async () => {
    await knex('idempotency_keys').delete();
    const expired = [scope(), scope(), scope()];
    const young = scope();
    for (const s of [...expired, young]) await completed(s);
    for (const s of expired) await age(s, 'created_at', '24 hours 1 minute');
    await age(young, 'created_at', '23 hours 59 minutes');

    expect(await sweepExpiredIdempotencyKeys(knex, 2)).toBe(2);
    expect(await sweepExpiredIdempotencyKeys(knex, 2)).toBe(1);
    expect(await sweepExpiredIdempotencyKeys(knex, 2)).toBe(0);
    expect((await knex('idempotency_keys').select('key')).map((row) => row.key)).toEqual([young.key]);
  });
});
