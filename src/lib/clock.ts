/** Where code that needs "now" asks for it, so a test can stand at any instant (STYLE.md §18). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
