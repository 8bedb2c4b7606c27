/**
 * "Now", injected like the database (STYLE.md habit 18): code that needs the time takes a Clock, so a
 * test can stand at any instant (a DST night, a slot's last minute) without faking timers.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** A clock stopped at `instant`; for tests and for replaying a decision at a known time. */
export const fixedClock = (instant: Date | string): Clock => {
  const at = new Date(instant);
  return () => new Date(at);
};
