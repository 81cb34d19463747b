import type { Clock } from '../../lambdas/shared/clock';

/**
 * A clock that only moves when told to (or when someone sleeps on it: sleeping advances time
 * instantly, which keeps single-threaded tests deterministic and fast).
 */
export class ManualClock implements Clock {
  private current: number;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(epochMs: number): void {
    this.current = epochMs;
  }

  async sleep(ms: number): Promise<void> {
    this.current += Math.max(0, ms);
    // Yield so other pending promises get a turn, as a real sleep would allow.
    await Promise.resolve();
  }
}
