/**
 * Approval: the explicit step between planning and executing. A run that carries an approver shows
 * it the plan made from its own fresh read, and writes nothing unless the approver says yes. Pure
 * data in, a decision out: the approver cannot read or write bunq, so it cannot change the run.
 */
import type { Operation, Plan } from './types';

/** Why an approver refused a plan: `plan-changed` = not the operations an operator confirmed. */
export type RefusalCode = 'plan-changed';

export interface Refusal {
  code: RefusalCode;
  /** Operator-readable, naming the operations involved; never a secret (plans hold none). */
  reason: string;
}

export type Approval = { approved: true } | ({ approved: false } & Refusal);

export type Approver = (plan: Plan) => Approval;

export const APPROVED: Approval = { approved: true };

/**
 * Approves only a plan with exactly the confirmed operations (kind, IP, entry id, reason, order):
 * bunq or DesiredIps changed between showing the plan and running it otherwise (time of check vs
 * time of use), and the operator never saw what would now be done.
 */
export function approveIfUnchanged(confirmed: readonly Operation[]): Approver {
  return (fresh) =>
    sameOperations(confirmed, fresh.operations)
      ? APPROVED
      : {
          approved: false,
          code: 'plan-changed',
          reason: `the plan of ${fresh.credential} changed after it was confirmed (confirmed: ${describe(confirmed)}; now: ${describe(fresh.operations)})`,
        };
}

/** Same operations in the same order: kind, IP, entry id and reason. */
export function sameOperations(a: readonly Operation[], b: readonly Operation[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((op, i) => {
    const other = b[i];
    if (other === undefined || other.kind !== op.kind || other.ip !== op.ip) return false;
    if (op.kind === 'add') return true;
    if (!('entryId' in other) || other.entryId !== op.entryId) return false;
    return op.kind !== 'deactivate' || (other.kind === 'deactivate' && other.reason === op.reason);
  });
}

function describe(operations: readonly Operation[]): string {
  if (operations.length === 0) return 'no changes';
  return operations.map((o) => (o.kind === 'add' ? `add ${o.ip}` : `${o.kind} ${o.ip} #${o.entryId}`)).join(', ');
}
