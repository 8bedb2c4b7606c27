import type { Knex } from 'knex';

/**
 * Deletes the rows of `table` that `where` matches, `batchSize` at a time (each batch its own short
 * statement, so a first sweep over months of rows never holds locks or bloats one transaction), until none
 * is left or `maxBatches` have run; the rest waits for the next sweep. Returns how many rows went.
 * `table` and `where` are the caller's constant SQL; only `bindings` carry values.
 */
export async function deleteInBatches(
  db: Knex,
  table: string,
  where: string,
  bindings: readonly Knex.RawBinding[],
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 50;
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch += 1) {
    // RETURNING rather than the driver's row count: both drivers (pg, PGlite) return rows alike.
    const result: { rows: unknown[] } = await db.raw(`DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${where} LIMIT ?) RETURNING 1`, [
      ...bindings,
      batchSize,
    ]);
    const count = result.rows.length;
    deleted += count;
    if (count < batchSize) break;
  }
  return deleted;
}
