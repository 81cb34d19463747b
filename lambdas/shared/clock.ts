/**
 * Time as a dependency. Rate limiters, retries, session expiry and the emulator all take a Clock so
 * tests can run bunq's 3-second and 30-second windows in microseconds instead of waiting them out.
 * Tests drive it with ManualClock (test/support/manual-clock.ts).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
