import type { Knex } from 'knex';
import type { Queryable } from './database.js';

/**
 * A named (prepared) statement: its text never depends on its values, so PostgreSQL plans it once per
 * connection under `name`. Bindings are knex's, positional (`?`, with an array) or named (`:key`, with an
 * object); a `?` or `:` meant literally is escaped as knex wants it (`\\?`, `\\:`).
 */
export interface PreparedStatement {
  name: string;
  sql: string;
  bindings: readonly unknown[] | Readonly<Record<string, unknown>>;
}

/** What one name's text was turned into for the driver: `$n` placeholders, and which binding goes in each. */
interface Compiled {
  sql: string;
  keys: string;
  text: string;
  /** Named bindings: the key of each `$n` in turn. Positional: null (the array as it is). */
  order: string[] | null;
}

interface DriverConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  __knexUid?: string;
  __knexTxId?: string;
}

interface DriverClient {
  /** 'pg' for node-postgres; the embedded database's client is a class of its own (knex-pglite). */
  config: { client?: unknown };
  acquireConnection(): Promise<DriverConnection>;
  releaseConnection(connection: DriverConnection): Promise<unknown>;
  emit(event: 'query', query: Record<string, unknown>): boolean;
}

const compiledByName = new Map<string, Compiled>();

/** knex's named binding, its escape, and its identifier form (`:key:`), which is not supported here. */
const NAMED_BINDING = /\\?(:(\w+):(?=::)|:(\w+):(?!:)|:(\w+))/g;
const POSITIONAL_BINDING = /\\?\?\??/g;

/**
 * Runs a prepared statement and answers its rows. On `pg` it goes straight to a connection of
 * knex's pool (or the transaction's own): its text is turned into `$n` placeholders once per name, not on
 * every run, and knex's query builder and runner are left out (on a menu page they were ~8 % of the
 * service's CPU). knex's `query` event is still emitted, as knex would, so whatever counts or captures
 * statements sees these too. On the embedded database it is an ordinary `knex.raw`.
 */
export async function runPrepared<Row>(db: Queryable, statement: PreparedStatement): Promise<{ rows: Row[] }> {
  const client = db.client as unknown as DriverClient;
  if (client.config.client !== 'pg') {
    const result = (await db.raw(statement.sql, statement.bindings as Knex.RawBinding[] | Knex.ValueDict).options({ name: statement.name })) as { rows: Row[] };
    return { rows: result.rows };
  }
  const { text, values } = compile(statement);
  if ('isCompleted' in db && db.isCompleted()) throw new Error(`${statement.name}: the transaction has already ended`);
  const connection = await client.acquireConnection();
  try {
    client.emit('query', {
      __knexUid: connection.__knexUid,
      __knexTxId: connection.__knexTxId,
      method: 'raw',
      sql: text,
      bindings: values,
      options: { name: statement.name },
    });
    const result = await connection.query({ name: statement.name, text, values });
    return { rows: result.rows as Row[] };
  } finally {
    await client.releaseConnection(connection);
  }
}

/** The statement's text for the driver (from the memory of its name) and its values in placeholder order. */
export function compile(statement: PreparedStatement): { text: string; values: unknown[] } {
  const { name, sql, bindings } = statement;
  const named = !Array.isArray(bindings);
  const keys = named ? Object.keys(bindings).sort().join(',') : String((bindings as readonly unknown[]).length);
  let compiled = compiledByName.get(name);
  if (compiled === undefined) {
    compiled = named
      ? compileNamed(name, sql, bindings as Readonly<Record<string, unknown>>, keys)
      : compilePositional(name, sql, bindings as readonly unknown[]);
    compiledByName.set(name, compiled);
  } else if (compiled.sql !== sql || compiled.keys !== keys) {
    // One name, one text: PostgreSQL would run the first text's plan with the second's values.
    throw new Error(`the prepared statement ${name} was given another text or other bindings than before`);
  }
  const values = compiled.order === null ? [...(bindings as readonly unknown[])] : compiled.order.map((key) => (bindings as Record<string, unknown>)[key]);
  for (const value of values) {
    if (value === undefined) throw new Error(`${name}: a binding is undefined`);
    if (typeof value === 'object' && value !== null && typeof (value as { toSQL?: unknown }).toSQL === 'function') {
      throw new Error(`${name}: a binding is a knex query or raw, which a prepared statement cannot take`);
    }
  }
  return { text: compiled.text, values };
}

function compilePositional(name: string, sql: string, bindings: readonly unknown[]): Compiled {
  let count = 0;
  const text = sql.replace(POSITIONAL_BINDING, (match) => {
    if (match === '\\?') return '?';
    if (match === '??') throw new Error(`${name}: identifier bindings (??) are not supported in a prepared statement`);
    count += 1;
    return `$${count}`;
  });
  if (count !== bindings.length) throw new Error(`${name}: ${count} placeholders for ${bindings.length} bindings`);
  return { sql, keys: String(bindings.length), text, order: null };
}

function compileNamed(name: string, sql: string, bindings: Readonly<Record<string, unknown>>, keys: string): Compiled {
  const order: string[] = [];
  const text = sql.replace(NAMED_BINDING, (match: string, unescaped: string, p2?: string, p3?: string, p4?: string) => {
    if (match !== unescaped) return unescaped;
    const key = (p2 ?? p3 ?? p4) as string;
    if (!Object.hasOwn(bindings, key)) return match;
    if (match.endsWith(':')) throw new Error(`${name}: identifier bindings (:${key}:) are not supported in a prepared statement`);
    order.push(key);
    return `$${order.length}`;
  });
  // knex would take a bare `?` here for a positional binding; a `?` meant literally is written `\\?`.
  const literal = text.replace(POSITIONAL_BINDING, (match) => {
    if (match === '\\?') return '?';
    throw new Error(`${name}: a positional placeholder (${match}) among named bindings`);
  });
  return { sql, keys, text: literal, order };
}
