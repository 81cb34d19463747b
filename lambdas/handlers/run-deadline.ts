/**
 * When a worker run must stop starting bunq calls. Lambda kills a run at its timeout and nothing is
 * recorded then; stopping a margin earlier leaves time for the call in flight (with its own client
 * retries) and for writing the status item, so the run ends as a recorded, retried failure.
 */

/**
 * The worst single bunq call including the client's retries: 4 attempts × 10 s request timeout
 * plus back-off, or a 30 s session-server rate-limit window and the call after it.
 */
export const RUN_DEADLINE_MARGIN_MS = 60_000;

/** Epoch ms on the run's clock; may already be past (the run then fails at once, retried). */
export function runDeadline(nowMs: number, remainingMs: number, marginMs: number = RUN_DEADLINE_MARGIN_MS): number {
  return nowMs + remainingMs - marginMs;
}
