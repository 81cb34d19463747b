/**
 * When a worker run must stop. Lambda kills a run at its timeout and nothing is recorded then; the
 * run gets a deadline a margin before it, so it ends as a recorded failure that the next scheduled
 * run retries.
 *
 * Since issue 13 the deadline reaches into the bunq client: no call outlives it (a rate-limit wait,
 * a 429's named window, a retry back-off, a session refresh or the next page that would cross it
 * fails fast with kind `deadline`, and a request's timeout is cut to the time left). Before, the
 * margin had to hold the worst single call with its retries (4 × 10 s + 3 × 60 s = 220 s) and a
 * session refresh inside a call was not covered at all.
 */

/** Writing the status and history items, metrics and change events after the last call. */
export const RECORDING_MS = 20_000;

/**
 * What the margin must cover now: the recording, plus slack for the clock and the handler's own
 * work after the run (the batch response).
 */
export const REQUIRED_DEADLINE_MARGIN_MS = RECORDING_MS + 10_000;

/**
 * Room for the AWS SDK's own retries of the recording writes (standard mode: 3 attempts, back-off
 * capped at 20 s). Those writes are not bound by the run deadline (a run must be recorded even
 * when it ran out of time), so one throttled or failed write can add this much after the deadline.
 */
export const RECORDING_RETRY_BUDGET_MS = 30_000;

/**
 * 60 s = REQUIRED_DEADLINE_MARGIN_MS (recording 20 s + slack 10 s) + RECORDING_RETRY_BUDGET_MS.
 * Nothing bunq-side needs room: no bunq call outlives the deadline (a request in flight has its
 * timeout cut to the time left). lib/config.ts WORKER_DEADLINE_MARGIN_SECONDS must match (a test
 * checks; lib/ may not import the runtime). A 300 s worker thus has 240 s for bunq, not 60 s.
 */
export const RUN_DEADLINE_MARGIN_MS = REQUIRED_DEADLINE_MARGIN_MS + RECORDING_RETRY_BUDGET_MS;

/** Epoch ms on the run's clock; may already be past (the run then fails at once, recorded). */
export function runDeadline(nowMs: number, remainingMs: number, marginMs: number = RUN_DEADLINE_MARGIN_MS): number {
  return nowMs + remainingMs - marginMs;
}
