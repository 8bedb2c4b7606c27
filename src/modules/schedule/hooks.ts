import type { Knex } from 'knex';

/** Staff paused ASAP orders (until `paused_until`), or resumed them. */
export type PauseChange = { kind: 'paused'; restaurantId: number; pausedUntil: Date; reason: string | null } | { kind: 'resumed'; restaurantId: number };

/** Runs in the transaction that changed the pause, so what it writes commits with it. */
export type PauseChangeListener = (trx: Knex.Transaction, change: PauseChange) => Promise<void>;

const listeners = new Set<PauseChangeListener>();

/** How modules the schedule must not depend on (webhooks) hear of pauses; set once at composition. */
export function onPauseChanged(listener: PauseChangeListener): void {
  listeners.add(listener);
}

export async function announcePauseChanged(trx: Knex.Transaction, change: PauseChange): Promise<void> {
  for (const listener of listeners) await listener(trx, change);
}
