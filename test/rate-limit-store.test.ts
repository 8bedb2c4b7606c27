import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Options } from 'express-rate-limit';
import { createDatabase, type Database } from '../src/db/database.js';
import { PostgresRateLimitStore, sweepExpiredRateLimitCounters } from '../src/http/rate-limit-store.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';

const WINDOW_MS = 60_000;

describe('the Postgres rate-limit store', () => {
  let db: TestDatabase;
  let now = new Date('2026-12-01T12:00:00Z');
  const clock = () => now;
  const storeFor = (prefix: string, knex = db.knex) => {
    const store = new PostgresRateLimitStore(knex, prefix, clock);
    store.init({ windowMs: WINDOW_MS } as Options);
    return store;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('counts hits in a fixed window that opens at the first hit, then starts afresh', async () => {
    const store = storeFor('window');
    const first = await store.increment('203.0.113.7');
    expect(first).toEqual({ totalHits: 1, resetTime: new Date(now.getTime() + WINDOW_MS) });
    now = new Date(now.getTime() + 30_000);
    expect(await store.increment('203.0.113.7')).toEqual({ totalHits: 2, resetTime: first.resetTime });
    expect(await store.get('203.0.113.7')).toEqual({ totalHits: 2, resetTime: first.resetTime });
    now = new Date(first.resetTime!.getTime());
    expect(await store.get('203.0.113.7')).toBeUndefined();
    const next = await store.increment('203.0.113.7');
    expect(next).toEqual({ totalHits: 1, resetTime: new Date(now.getTime() + WINDOW_MS) });
  });

  it('keeps keys, and limiters with the same key, apart', async () => {
    const login = storeFor('login');
    const signup = storeFor('signup');
    await login.increment('ada@example.com');
    await login.increment('ada@example.com');
    expect((await login.increment('bob@example.com')).totalHits).toBe(1);
    expect((await signup.increment('ada@example.com')).totalHits).toBe(1);
    expect((await login.increment('ada@example.com')).totalHits).toBe(3);
  });

  it('takes back a hit within its window only, never below zero, and resets a key', async () => {
    const store = storeFor('decrement');
    await store.increment('k');
    await store.increment('k');
    await store.decrement('k');
    expect((await store.get('k'))?.totalHits).toBe(1);
    await store.decrement('k');
    await store.decrement('k');
    expect((await store.get('k'))?.totalHits).toBe(0);
    await store.resetKey('k');
    expect(await store.get('k')).toBeUndefined();
  });

  it('stores no IP or email in clear', async () => {
    await storeFor('privacy').increment('carol@example.com');
    const keys = (await db.knex('rate_limit_counters').select('key')).map((row: { key: string }) => row.key);
    expect(keys.every((key) => /^[0-9a-f]{64}$/.test(key))).toBe(true);
  });

  it('sweeps the counters of windows that have ended', async () => {
    const store = storeFor('sweep');
    await store.increment('old');
    now = new Date(now.getTime() + WINDOW_MS + 1);
    await store.increment('fresh');
    const before = Number((await db.knex('rate_limit_counters').count({ n: '*' }).first())?.n);
    const swept = await sweepExpiredRateLimitCounters(db.knex, now);
    expect(swept).toBeGreaterThan(0);
    expect(Number((await db.knex('rate_limit_counters').count({ n: '*' }).first())?.n)).toBe(before - swept);
    expect((await store.get('fresh'))?.totalHits).toBe(1);
  });

  // Many connections at once: PGlite has one, so there this would prove nothing.
  it.skipIf(!onRealPostgres)('never loses a hit when two instances (two pools) count the same key at once', async () => {
    let second: Database | undefined;
    try {
      second = await createDatabase({ kind: 'postgres', url: db.url!, poolMax: 10 });
      const a = storeFor('race', db.knex);
      const b = storeFor('race', second.knex);
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).increment('203.0.113.99')));
      expect(results.map((r) => r.totalHits).sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    } finally {
      await second?.close();
    }
  });
});
