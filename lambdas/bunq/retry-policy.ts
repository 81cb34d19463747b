/**
 * When a failed bunq call may be repeated, and how long to wait first. Pure.
 *
 * Decision for POST (not idempotent: a repeated POST /ip would add the IP twice):
 * - retried only when bunq cannot have applied it: 429 (rejected before processing), or a
 *   connection that was never established;
 * - a 5xx/491/503 reply, a timeout or a reset after the request was sent surface as
 *   `outcome-unknown`: bunq (and the emulator's apply-then-status fault) may have applied the change
 *   before failing, and only a re-read by the caller can tell.
 * POST /session-server is treated as repeatable: a duplicate only leaves an unused session behind.
 */
import type { BunqErrorKind } from './errors';
import type { TransportPhase } from './transport';

export interface RetryOptions {
  /** Total attempts including the first. */
  maxAttempts: number;
  /** First backoff for 5xx, maintenance and network failures; doubles per retry. */
  baseDelayMs: number;
  /** First backoff after a 429: one bunq rate window. */
  rateLimitedDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 4,
  baseDelayMs: 500,
  rateLimitedDelayMs: 3_000,
  maxDelayMs: 30_000,
};

export type Failure =
  | { type: 'reply'; kind: BunqErrorKind }
  | { type: 'transport'; phase: TransportPhase };

export type Verdict =
  /** Try again after a backoff. */
  | 'retry'
  /** Give up and report the failure as it is. */
  | 'fail'
  /** Give up and report `outcome-unknown`: the call may have been applied. */
  | 'outcome-unknown';

export function verdictFor(failure: Failure, repeatable: boolean): Verdict {
  if (failure.type === 'transport') {
    if (failure.phase === 'not-sent' || repeatable) return 'retry';
    return 'outcome-unknown';
  }
  switch (failure.kind) {
    case 'rate-limited':
      return 'retry';
    case 'maintenance':
    case 'server-error':
      return repeatable ? 'retry' : 'outcome-unknown';
    default:
      return 'fail';
  }
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed so waits never collapse to zero,
 * half is random so clients that failed together do not retry together.
 * `retry` is 1 for the first retry. `random` returns a number in [0, 1).
 */
export function backoffMs(retry: number, rateLimited: boolean, options: RetryOptions, random: () => number): number {
  const base = rateLimited ? options.rateLimitedDelayMs : options.baseDelayMs;
  const exp = Math.min(options.maxDelayMs, base * 2 ** Math.max(0, retry - 1));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(exp / 2 + (exp / 2) * r);
}
