import type { Queryable } from './database.js';
import { runPrepared } from './prepared.js';

/**
 * One module's share of a composed read: select-list items (scalar subqueries over its own tables, with
 * knex named bindings such as `:restaurant`) and how to read its columns back. Several parts go out as one
 * `SELECT`, one round trip, while each module keeps the SQL of its tables and the parsing of its rows.
 */
export interface ReadPart<T> {
  columns: string;
  bindings: Readonly<Record<string, unknown>>;
  read(row: Readonly<Record<string, unknown>>): T;
}

type PartsResult<P extends Record<string, ReadPart<unknown>>> = { [K in keyof P]: P[K] extends ReadPart<infer T> ? T : never };

/**
 * Runs the parts as one `SELECT` under the prepared statement `name`. The parts' text must not depend on
 * their values (one name is one SQL text); a binding two parts share must have one value.
 */
export async function readParts<P extends Record<string, ReadPart<unknown>>>(db: Queryable, name: string, parts: P): Promise<PartsResult<P>> {
  const bindings: Record<string, unknown> = {};
  for (const part of Object.values(parts)) {
    for (const [key, value] of Object.entries(part.bindings)) {
      if (key in bindings && bindings[key] !== value) throw new Error(`read parts disagree on the binding :${key}`);
      bindings[key] = value;
    }
  }
  const sql = `SELECT ${Object.values(parts)
    .map((part) => part.columns)
    .join(',\n       ')}`;
  const result = await runPrepared<Record<string, unknown>>(db, { name, sql, bindings });
  const row = result.rows[0] ?? {};
  return Object.fromEntries(Object.entries(parts).map(([key, part]) => [key, part.read(row)])) as PartsResult<P>;
}
