import type { Knex } from 'knex';
import { withTransaction } from './transaction.js';

/** Runs a background job only where no other runner is running it at this moment. */
export interface JobLock {
  /** Runs `task` and resolves true, or resolves false at once when another runner holds `job`. */
  runAlone(job: string, task: () => Promise<unknown>): Promise<boolean>;
}

const embeddedRunning = new WeakMap<Knex, Set<string>>();

/**
 * Sweepers, the payment reconciler and the timeout job run in every instance, and each tick must be
 * run by one of them only. On Postgres the holder keeps a transaction-scoped advisory lock
 * (pg_try_advisory_xact_lock) open on one pooled connection while the task runs on the others: the
 * lock goes with the transaction, so a crashed runner frees it, and that transaction writes nothing
 * and holds no snapshot between statements. PGlite has one connection and one process, so there the
 * runners of one database simply take turns in this process (the lock transaction would starve the
 * task of the only connection).
 */
export function createJobLock(db: Knex, kind: 'postgres' | 'embedded'): JobLock {
  if (kind === 'embedded') {
    const running = embeddedRunning.get(db) ?? new Set<string>();
    embeddedRunning.set(db, running);
    return {
      async runAlone(job, task) {
        if (running.has(job)) return false;
        running.add(job);
        try {
          await task();
          return true;
        } finally {
          running.delete(job);
        }
      },
    };
  }
  return {
    runAlone: (job, task) =>
      withTransaction(
        db,
        async (trx) => {
          const result = (await trx.raw(`SELECT pg_try_advisory_xact_lock(hashtext('tablekit.job'), hashtext(?)) AS locked`, [job])) as {
            rows: Array<{ locked: boolean }>;
          };
          if (result.rows[0]?.locked !== true) return false;
          await task();
          return true;
        },
        // The task's own failures are not this transaction's to retry.
        { maxRetries: 0 },
      ),
  };
}
