// Statements per request, the currency of this bench (README "What bounds each figure"): every statement
// the service's knex sends while one request is in flight, counted from knex's `query` events.
import type { Knex } from 'knex';

export interface StatementCount {
  /** Statements of one request, BEGIN and COMMIT included (knex reports them as queries too). */
  count: number;
  /** Their text, in the order sent, for the README and for regenerating baseline C. */
  sql: string[];
  /** Each as sent: text, bindings and prepared statement name, so a baseline can run exactly that. */
  sent: SentStatement[];
}

export interface SentStatement {
  sql: string;
  bindings: unknown[];
  name: string | undefined;
}

const BACKGROUND = /"outbox"|webhook_order_cursors|"webhook_/;

/**
 * Counts what each of `steps` makes the service run, one request at a time, after an uncounted `reset`.
 * Background work (outbox relay, sweeps) shares the pool, so the sequence is repeated and the attempt with
 * the fewest statements kept: a poll that fell inside one attempt does not fall inside all of them.
 */
export async function countStatements(
  knex: Knex,
  reset: () => Promise<void>,
  steps: Record<string, () => Promise<void>>,
  attempts = 5,
): Promise<Record<string, StatementCount>> {
  let best: Record<string, StatementCount> | undefined;
  const total = (counts: Record<string, StatementCount>) => Object.values(counts).reduce((sum, c) => sum + c.count, 0);
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    await reset();
    const counts: Record<string, StatementCount> = {};
    for (const [name, send] of Object.entries(steps)) {
      const seen: Array<SentStatement & { tx: string | undefined }> = [];
      const listener = (query: { sql?: string; bindings?: unknown[]; options?: { name?: string }; __knexTxId?: string }) =>
        seen.push({ sql: String(query.sql ?? ''), bindings: query.bindings ?? [], name: query.options?.name, tx: query.__knexTxId });
      knex.on('query', listener);
      try {
        await send();
      } finally {
        knex.off('query', listener);
      }
      // The outbox relay (nudged by every order, a card order too) and the webhook feed poll on their own
      // timers: their transactions are not the request's. Known by a table only they touch.
      // A transaction of which only BEGIN or only its end fell in the window is such a poll starting as
      // the request ends, or the previous request's work ending as this one starts.
      const background = new Set(seen.filter((q) => q.tx !== undefined && BACKGROUND.test(q.sql)).map((q) => q.tx));
      for (const tx of new Set(seen.map((q) => q.tx))) {
        if (tx !== undefined && seen.every((q) => q.tx !== tx || /^(BEGIN|COMMIT|ROLLBACK)/i.test(q.sql))) background.add(tx);
      }
      const sent = seen
        .filter((q) => !BACKGROUND.test(q.sql) && (q.tx === undefined || !background.has(q.tx)))
        .map(({ sql, bindings, name: statementName }) => ({ sql, bindings, name: statementName }));
      counts[name] = { count: sent.length, sql: sent.map((q) => q.sql), sent };
    }
    if (best === undefined || total(counts) < total(best)) best = counts;
  }
  return best ?? {};
}
