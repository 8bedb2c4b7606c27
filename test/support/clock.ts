import type { Clock } from '../../src/lib/clock.js';

/** A clock a test moves by hand. */
export interface SettableClock extends Clock {
  set(instant: string | Date): void;
  advance(minutes: number): void;
}

export function settableClock(start: string | Date = new Date()): SettableClock {
  let current = new Date(start);
  return Object.assign(() => new Date(current), {
    set(instant: string | Date) {
      current = new Date(instant);
    },
    advance(minutes: number) {
      current = new Date(current.getTime() + minutes * 60_000);
    },
  });
}
