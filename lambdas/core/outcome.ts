/**
 * One definition each of "this operation counts as applied" and "this run counts as a success",
 * and the run verdict built on them. The executor, the worker, the state store and the metrics all
 * read these; none keeps its own set (issue 13 found four). Pure, so the adapters read it from the
 * core rather than from the service.
 */
import type { ErrorInfo } from './errors';
import type { ActualEntry, ExecutionResult, OperationOutcome, RunOutcome } from './types';

/** bunq holds the change: confirmed by its reply, carried out as a new entry, or seen on a re-read. */
const APPLIED: Readonly<Record<OperationOutcome, boolean>> = {
  applied: true,
  'applied-as-add': true,
  'confirmed-after-reread': true,
  failed: false,
  'not-attempted': false,
};

export function isApplied(outcome: OperationOutcome): boolean {
  return APPLIED[outcome];
}

/** A run that ended here did what it should; `held` is a success (a guard held changes on purpose). */
const SUCCESSFUL: Readonly<Record<RunOutcome, boolean>> = {
  'in-sync': true,
  converged: true,
  held: true,
  observed: true,
  partial: false,
  failed: false,
};

export function isSuccessfulOutcome(outcome: RunOutcome): boolean {
  return SUCCESSFUL[outcome];
}

/**
 * Whether a finished run counts as a success for alarms, the status item and the queue. Beyond the
 * core's outcome, a run with invalid desired items is a failure: it did the safe part (additions)
 * and froze deactivations, but the credential cannot converge until an operator fixes the item.
 */
export interface RunVerdict {
  ok: boolean;
  error: ErrorInfo | null;
}

export function runVerdict(result: ExecutionResult): RunVerdict {
  if (result.error) return { ok: false, error: result.error };
  if (!isSuccessfulOutcome(result.outcome)) {
    const failed = result.operations.find((o) => o.error);
    return {
      ok: false,
      error: failed?.error ?? { kind: 'run-incomplete', message: `run ended ${result.outcome}` },
    };
  }
  const invalid = result.plan.invalid;
  if (invalid.length > 0) {
    const listed = invalid.map((i) => `${i.entry} (${i.value}): ${i.reason}`).join('; ');
    return {
      ok: false,
      error: {
        kind: 'invalid-desired',
        message: `${invalid.length} desired item(s) rejected, deactivations frozen until fixed: ${listed}`,
      },
    };
  }
  return { ok: true, error: null };
}

/**
 * bunq's entries as they stand after the run: the last list read, with the changes bunq confirmed
 * afterwards laid over it (deactivations come after the run's verifying read, so that read does
 * not show them). Applying a change the read already shows changes nothing. Null when no read
 * succeeded.
 */
export function entriesAfterRun(result: ExecutionResult): ActualEntry[] | null {
  if (result.outcome === 'failed' && result.before.length === 0 && result.after === null) return null;
  const entries = (result.after ?? result.before).map((e) => ({ ...e }));
  for (const op of result.operations) {
    if (!isApplied(op.outcome) || op.entryId === undefined) continue;
    const existing = entries.find((e) => e.id === op.entryId);
    const status = op.operation.kind === 'deactivate' ? 'INACTIVE' : 'ACTIVE';
    if (existing) existing.status = status;
    else if (op.operation.kind !== 'deactivate') entries.push({ id: op.entryId, ip: op.operation.ip, status, created: null });
  }
  return entries;
}
