import type { Knex } from 'knex';

const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

export interface TransactionOptions {
  isolationLevel?: Knex.IsolationLevels;
  /** How many times a serialization failure or deadlock is retried before it reaches the caller. */
  maxRetries?: number;
}

export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

/**
 * Runs `work` in a transaction, retrying the whole of it when Postgres aborts it for a serialization
 * failure or a deadlock, as Medusa's `atomicPhase_` does: such an abort means "try again", not "fail".
 * `work` must therefore be safe to run again from the start (no side effects outside the transaction).
 */
export async function withTransaction<T>(knex: Knex, work: (trx: Knex.Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const maxRetries = options.maxRetries ?? 5;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await knex.transaction(work, options.isolationLevel === undefined ? undefined : { isolationLevel: options.isolationLevel });
    } catch (error) {
      const state = sqlState(error);
      if (state === undefined || !RETRYABLE_SQLSTATES.has(state) || attempt >= maxRetries) throw error;
      // Jittered backoff so two retrying transactions do not collide again in lock-step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
    }
  }
}
