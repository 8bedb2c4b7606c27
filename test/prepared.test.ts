import knexFactory from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, runPrepared, type PreparedStatement } from '../src/db/prepared.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

// Compiling only: knex's pg client turns a statement into text and values without a connection.
const pgKnex = knexFactory({ client: 'pg' });

/** What knex itself would send for the statement. */
const knexSends = (statement: PreparedStatement) => {
  const native = pgKnex
    .raw(statement.sql, statement.bindings as never)
    .toSQL()
    .toNative();
  return { text: native.sql, values: native.bindings };
};

let unique = 0;
const named = (sql: string, bindings: PreparedStatement['bindings']): PreparedStatement => {
  unique += 1;
  return { name: `prepared_test_${unique}`, sql, bindings };
};

describe('a prepared statement compiled for the driver', () => {
  it.each([
    ['positional, with casts, an array and a null', "SELECT ?::int + ?::int AS x, ?::bigint[] AS ids, ? AS nothing, 'a::b' AS text", [1, 2, [3, 4], null]],
    ['positional, with an escaped question mark', "SELECT '{\"a\":1}'::jsonb \\? 'a' AS has, ? AS v", ['x']],
    [
      'named, with casts after a binding and a key used twice',
      'SELECT :a::int + :b::int AS x, :ids::bigint[] AS ids, :a::int AS again',
      { a: 1, b: 2, ids: [3] },
    ],
    ['named, with an escaped colon and a key absent from the bindings left alone', "SELECT \\:a AS literal, :b AS b, ':c' AS c, :missing AS m", { b: 2 }],
    ['named, with an escaped question mark', "SELECT '{\"a\":1}'::jsonb \\? 'a' AS has, :v AS v", { v: 'x' }],
    ['named, with dates and booleans', 'SELECT :at::timestamptz AS at, :flag::boolean AS flag', { at: new Date('2026-12-02T01:00:00Z'), flag: true }],
  ])('sends what knex would: %s', (_what, sql, bindings) => {
    const statement = named(sql, bindings);
    expect(compile(statement)).toEqual(knexSends(statement));
    // The second time from memory, with other values.
    const again = {
      ...statement,
      bindings: Array.isArray(bindings) ? bindings.map(() => 7) : Object.fromEntries(Object.keys(bindings).map((key) => [key, 7])),
    };
    expect(compile(again)).toEqual(knexSends(again));
  });

  it('refuses a name given another text, or other bindings, than the first time', () => {
    const first = named('SELECT ? AS x', [1]);
    compile(first);
    expect(() => compile({ ...first, sql: 'SELECT ? AS y' })).toThrow(/another text/);
    expect(() => compile({ ...first, bindings: [1, 2] })).toThrow(/another text/);
    const byKey = named('SELECT :a AS x', { a: 1 });
    compile(byKey);
    expect(() => compile({ ...byKey, bindings: { b: 1 } })).toThrow(/another text/);
  });

  it('refuses what it cannot send as knex would', () => {
    expect(() => compile(named('SELECT ? AS x, ? AS y', [1]))).toThrow(/2 placeholders for 1 bindings/);
    expect(() => compile(named('SELECT ?? FROM t', ['col']))).toThrow(/identifier bindings/);
    expect(() => compile(named('SELECT :col: FROM t', { col: 'c' }))).toThrow(/identifier bindings/);
    expect(() => compile(named('SELECT :a AS x, ? AS y', { a: 1 }))).toThrow(/positional placeholder/);
    expect(() => compile(named('SELECT ? AS x', [undefined]))).toThrow(/undefined/);
    expect(() => compile(named('SELECT ? AS x', [pgKnex.raw('now()')]))).toThrow(/knex query or raw/);
  });
});

describe('running a prepared statement', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.destroy();
  });

  it("answers the rows, and tells knex's query listeners what it sent", async () => {
    const seen: Array<{ sql: unknown; bindings: unknown; name: unknown }> = [];
    const listener = (query: { sql: unknown; bindings: unknown; options?: { name?: unknown } }) =>
      seen.push({ sql: query.sql, bindings: query.bindings, name: query.options?.name });
    t.knex.on('query', listener);
    try {
      const statement = named('SELECT n, n * :factor::int AS times FROM generate_series(1, :upTo::int) AS n ORDER BY n', { factor: 3, upTo: 2 });
      const result = await runPrepared<{ n: number; times: number }>(t.knex, statement);
      expect(result.rows).toEqual([
        { n: 1, times: 3 },
        { n: 2, times: 6 },
      ]);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.name).toBe(statement.name);
      expect(String(seen[0]?.sql)).toMatch(/\$1::int.*\$2::int/);
    } finally {
      t.knex.off('query', listener);
    }
  });

  it('runs in the transaction it is given, and is undone with it', async () => {
    await t.knex.raw('CREATE TABLE prepared_probe (v integer)');
    await t.knex
      .transaction(async (trx) => {
        await runPrepared(trx, { name: 'prepared_probe_insert', sql: 'INSERT INTO prepared_probe (v) VALUES (?)', bindings: [1] });
        const inside = await runPrepared<{ count: number }>(trx, {
          name: 'prepared_probe_count',
          sql: 'SELECT count(*)::int AS count FROM prepared_probe',
          bindings: [],
        });
        expect(inside.rows[0]?.count).toBe(1);
        throw new Error('roll back');
      })
      .catch((error: Error) => expect(error.message).toBe('roll back'));
    const after = await runPrepared<{ count: number }>(t.knex, {
      name: 'prepared_probe_count',
      sql: 'SELECT count(*)::int AS count FROM prepared_probe',
      bindings: [],
    });
    expect(after.rows[0]?.count).toBe(0);
  });

  it('refuses a transaction that has ended, and gives a failed statement its connection back', async () => {
    let ended: Parameters<Parameters<typeof t.knex.transaction>[0]>[0] | undefined;
    await t.knex.transaction(async (trx) => {
      ended = trx;
    });
    if (ended === undefined) throw new Error('no transaction');
    await expect(runPrepared(ended, { name: 'prepared_probe_count', sql: 'SELECT count(*)::int AS count FROM prepared_probe', bindings: [] })).rejects.toThrow(
      /already ended|already complete/,
    );
    for (let attempt = 0; attempt < 15; attempt += 1) {
      await expect(runPrepared(t.knex, { name: 'prepared_probe_fail', sql: 'SELECT 1 / ?::int AS x', bindings: [0] })).rejects.toMatchObject({ code: '22012' });
    }
    // The pool still has its connections: a failure did not keep one.
    expect((await runPrepared<{ x: number }>(t.knex, { name: 'prepared_probe_fail', sql: 'SELECT 1 / ?::int AS x', bindings: [1] })).rows).toEqual([{ x: 1 }]);
  });
});
