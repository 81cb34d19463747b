/**
 * When a worker run must stop starting bunq calls. Lambda kills a run at its timeout and nothing is
 * recorded then; stopping a margin earlier leaves time for the call in flight (with its own client
 * retries) and for writing the status item, so the run ends as a recorded failure that the next
 * scheduled run retries.
 */
import { DEFAULT_RETRY } from '../bunq/retry-policy';
import { DEFAULT_TIMEOUT_MS, MAX_RATE_WINDOW_MS } from '../bunq/api-call';

/**
 * The worst single bunq call including the client's retries: every attempt running into the request
 * timeout, and a 429 naming the longest window the client honours before each retry (4 × 10 s +
 * 3 × 60 s = 220 s; issue 13 measured three such 429s stretching one list call to 180 s). A session
 * refresh nested inside a call is not covered; issue 13 bounds calls by the deadline itself.
 */
export const WORST_BUNQ_CALL_MS = DEFAULT_RETRY.maxAttempts * DEFAULT_TIMEOUT_MS + (DEFAULT_RETRY.maxAttempts - 1) * MAX_RATE_WINDOW_MS;

/** Writing the status and history items, metrics and change events after the last call. */
export const RECORDING_MS = 20_000;

/** 240 s: lib/config.ts WORKER_DEADLINE_MARGIN_SECONDS must match (a test checks). */
export const RUN_DEADLINE_MARGIN_MS = WORST_BUNQ_CALL_MS + RECORDING_MS;

/** Epoch ms on the run's clock; may already be past (the run then fails at once, recorded). */
export function runDeadline(nowMs: number, remainingMs: number, marginMs: number = RUN_DEADLINE_MARGIN_MS): number {
  return nowMs + remainingMs - marginMs;
}
