import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/db/transaction.js';
import { countsForRange, releaseSlot, reserveSlot } from '../src/modules/schedule/service.js';
import { createTestDatabase, onRealPostgres, type TestDatabase } from './support/database.js';
import { createRestaurant } from './support/factories.js';

// These need many real connections and real row locks: PGlite has one connection and runs
// transactions one at a time, so there they would prove nothing.
describe.skipIf(!onRealPostgres)('the slot counter under concurrency (real PostgreSQL)', () => {
  let db: TestDatabase;
  let restaurantId: number;

  beforeAll(async () => {
    db = await createTestDatabase({ poolMax: 25 });
    restaurantId = (await createRestaurant(db.knex)).id;
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const countOf = async (slot: Date) => (await countsForRange(db.knex, restaurantId, slot, new Date(slot.getTime() + 1))).get(slot.getTime()) ?? 0;

  /** `n` transactions at once, each taking a place and holding its lock a moment, as checkout does. */
  const race = (n: number, slot: Date, cap: number, outcome: 'commit' | 'rollback' = 'commit') =>
    Promise.all(
      Array.from({ length: n }, () =>
        withTransaction(db.knex, async (trx) => {
          const taken = await reserveSlot(trx, restaurantId, slot, cap);
          await trx.raw('SELECT pg_sleep(0.005)');
          if (outcome === 'rollback') throw Object.assign(new Error('rejected later in checkout'), { taken });
          return taken;
        }).catch((error: { taken?: boolean }) => {
          if (error.taken === undefined) throw error;
          return error.taken;
        }),
      ),
    );

  it('100 transactions racing for a slot capped at 10: exactly 10 get a place, and one released place fits one more', async () => {
    const slot = new Date('2026-06-05T18:00:00Z');
    const results = await race(100, slot, 10);
    expect(results.filter((taken) => taken)).toHaveLength(10);
    expect(await countOf(slot)).toBe(10);

    expect(await withTransaction(db.knex, (trx) => releaseSlot(trx, restaurantId, slot))).toBe(true);
    expect(await countOf(slot)).toBe(9);
    const again = await race(30, slot, 10);
    expect(again.filter((taken) => taken)).toHaveLength(1);
    expect(await countOf(slot)).toBe(10);
  }, 120_000);

  it('places taken by transactions that roll back are not counted', async () => {
    const slot = new Date('2026-06-05T18:15:00Z');
    const results = await race(40, slot, 10, 'rollback');
    // Each saw the others' uncommitted places only until they rolled back: at least 10 took one, none kept it.
    expect(results.filter((taken) => taken).length).toBeGreaterThanOrEqual(10);
    expect(await countOf(slot)).toBe(0);
    expect((await race(20, slot, 10)).filter((taken) => taken)).toHaveLength(10);
  }, 120_000);

  it('50 releases racing for 5 places give back exactly 5 and never go below zero', async () => {
    const slot = new Date('2026-06-05T18:30:00Z');
    await race(5, slot, 10);
    const released = await Promise.all(Array.from({ length: 50 }, () => withTransaction(db.knex, (trx) => releaseSlot(trx, restaurantId, slot))));
    expect(released.filter((done) => done)).toHaveLength(5);
    expect(await countOf(slot)).toBe(0);
  }, 120_000);
});
