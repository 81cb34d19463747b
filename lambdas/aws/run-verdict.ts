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
 * Whether a failed run is worth retrying from the queue. Decided per error kind, here and nowhere
 * else (controller-runtime's "terminal error: don't requeue"):
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
 * | anything else (rate-limited, maintenance, server-error,  | transient   | may pass by itself: retried, then DLQ   |
 * | timeout, network, outcome-unknown, secret-unreadable,    |             |                                        |
 * | deadline, unexpected, kinds not listed here)             |             |                                        |
 *
 * A terminal failure is still recorded (status item, RunFailed, its error metric) but acknowledged:
 * while a FIFO message is retried, no later message of its group (= credential) is delivered, so a
 * retry that cannot succeed would hold back the operator's fix for hours and fill the DLQ. The
 * schedule runs every credential again each period anyway. Unknown kinds are retried: a kind we
 * have not judged is not assumed hopeless.
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

const SUCCESS: ReadonlySet<RunOutcome> = new Set<RunOutcome>(['in-sync', 'converged', 'observed']);

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
