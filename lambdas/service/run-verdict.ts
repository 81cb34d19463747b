import type { ActualEntry, ExecutionResult, RunOutcome } from '../core/types';

/**
 * Whether a finished run counts as a success for alarms, the status item and the queue. Beyond the
 * core's outcome, a run with invalid desired items is a failure: it did the safe part (additions)
 * and froze deactivations, but the credential cannot converge until an operator fixes the item.
 */

export interface RunVerdict {
  ok: boolean;
  error: { kind: string; message: string } | null;
}

/**
 * Whether a failed run can pass by itself or needs an operator. Decided per error kind, here and
 * nowhere else (controller-runtime's "terminal error: don't requeue"). Since issue 12 the queue
 * acknowledges every recorded failure either way (the next scheduled run is the retry); the
 * disposition tells the log and the operator which failures will not heal by themselves:
 *
 * | kind                                                     | disposition | why                                    |
 * | -------------------------------------------------------- | ----------- | -------------------------------------- |
 * | invalid-desired, config-missing, config-invalid          | terminal    | operator data; a retry reads the same  |
 * | context-mismatch                                         | terminal    | config and secret name different users |
 * | secret-missing, secret-invalid, secret-name-refused      | terminal    | the secret must be fixed by an operator |
 * | credentials-rejected                                     | terminal    | bunq refuses this key or IP until fixed |
 * | ip-add-not-permitted                                     | terminal    | a standard key never gets new IPs      |
 * | entry-ids-missing                                        | terminal    | bunq's list shape, not a passing fault |
 * | credential-claimed-twice                                 | terminal    | another config owns this bunq credential |
 * | owner-record-unreadable                                  | terminal    | the owner record was edited by hand     |
 * | ip-refused, unrecognised-entry                           | terminal    | bunq refused one IP for good, or lists |
 * |                                                          |             | an entry of it we cannot use (per IP)  |
 * | anything else (rate-limited, maintenance, server-error,  | transient   | may pass by itself at the next run      |
 * | timeout, network, outcome-unknown, secret-unreadable,    |             |                                        |
 * | deadline, unexpected, kinds not listed here)             |             |                                        |
 *
 * Either way the failure is recorded (status item, RunFailed, its error metric) and acknowledged:
 * while a FIFO message is redelivered, no later message of its group (= credential) is delivered.
 * Unknown kinds are transient: a kind we have not judged is not assumed hopeless.
 */
export type RetryDisposition = 'terminal' | 'transient';

const TERMINAL_KINDS: ReadonlySet<string> = new Set([
  'invalid-desired',
  'config-missing',
  'config-invalid',
  'context-mismatch',
  'secret-missing',
  'secret-invalid',
  'secret-name-refused',
  'credentials-rejected',
  'ip-add-not-permitted',
  'entry-ids-missing',
  'credential-claimed-twice',
  'owner-record-unreadable',
  // Per-IP failures (lambdas/core/executor.ts PER_IP_FAILURE_KINDS): the run went on with the other
  // operations; a retry would meet the same refusal.
  'ip-refused',
  'unrecognised-entry',
]);

export function retryDisposition(kind: string): RetryDisposition {
  return TERMINAL_KINDS.has(kind) ? 'terminal' : 'transient';
}

const SUCCESS: ReadonlySet<RunOutcome> = new Set<RunOutcome>(['in-sync', 'converged', 'held', 'observed']);

export function isSuccessfulOutcome(outcome: RunOutcome): boolean {
  return SUCCESS.has(outcome);
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

const APPLIED = new Set(['applied', 'applied-as-add', 'confirmed-after-reread']);

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
    if (!APPLIED.has(op.outcome) || op.entryId === undefined) continue;
    const existing = entries.find((e) => e.id === op.entryId);
    const status = op.operation.kind === 'deactivate' ? 'INACTIVE' : 'ACTIVE';
    if (existing) existing.status = status;
    else if (op.operation.kind !== 'deactivate') entries.push({ id: op.entryId, ip: op.operation.ip, status, created: null });
  }
  return entries;
}
