/**
 * Human-readable text for a plan and a run result, Terraform-style: `+` add, `~` re-activate,
 * `-` deactivate. The CLI and the demo print this; it holds no secrets because plans hold none.
 */
import type { BlockedOperation, ExecutionResult, Operation, OperationResult, Plan } from './types';

const SYMBOL: Record<Operation['kind'], string> = { add: '+', reactivate: '~', deactivate: '-' };

function describeOperation(op: Operation): string {
  const ip = op.ip.padEnd(15);
  switch (op.kind) {
    case 'add':
      return `${SYMBOL.add} ${ip}          add as ACTIVE`;
    case 'reactivate':
      return `${SYMBOL.reactivate} ${ip} ${`#${op.entryId}`.padEnd(8)} re-activate (INACTIVE → ACTIVE)`;
    case 'deactivate':
      return `${SYMBOL.deactivate} ${ip} ${`#${op.entryId}`.padEnd(8)} deactivate (${
        op.reason === 'duplicate' ? 'duplicate of an older ACTIVE entry' : 'not desired'
      })`;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function summary(ops: readonly Operation[], blocked: readonly BlockedOperation[]): string {
  const count = (k: Operation['kind']): number => ops.filter((o) => o.kind === k).length;
  return (
    `Plan: ${count('add')} to add, ${count('reactivate')} to re-activate, ${count('deactivate')} to deactivate` +
    `, ${blocked.length} blocked.`
  );
}

export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  // Held changes lead the text: an operator reading only the first line must not take it for done.
  const held = plan.blocked.filter((b) => b.guard !== 'wildcard-untouchable').length;
  lines.push(
    `Credential "${plan.credential}" (mode: ${plan.mode})` +
      (held > 0 ? `: HELD, ${plural(held, 'planned change')} held back by guards` : ''),
  );
  lines.push(
    `Desired: ${plural(plan.desiredIps.length, 'IP')}` +
      (plan.invalid.length > 0 ? `, ${plan.invalid.length} invalid` : '') +
      (plan.expired.length > 0 ? `, ${plan.expired.length} expired` : ''),
  );
  lines.push('');
  if (plan.operations.length === 0 && plan.blocked.length === 0) {
    lines.push('No changes. bunq matches the desired IPs.');
  } else {
    if (plan.operations.length > 0) {
      lines.push('Changes, in order (make before break):');
      let verifyShown = false;
      for (const op of plan.operations) {
        if (op.kind === 'deactivate' && !verifyShown) {
          lines.push('    (verifying read: bunq still reachable, additions ACTIVE)');
          verifyShown = true;
        }
        lines.push(`  ${describeOperation(op)}`);
      }
    } else {
      lines.push('No changes will be applied.');
    }
    if (plan.blocked.length > 0) {
      lines.push('');
      lines.push('Held back by guards:');
      for (const b of plan.blocked) lines.push(`  ! ${describeOperation(b.operation)}  [${b.guard}] ${b.reason}`);
    }
  }
  if (plan.invalid.length > 0) {
    lines.push('');
    lines.push('Invalid desired entries (not applied; deactivations frozen):');
    for (const i of plan.invalid) lines.push(`  x ${i.entry}: ${i.value}: ${i.reason}`);
  }
  if (plan.expired.length > 0) {
    lines.push('');
    lines.push('Expired desired entries (no longer desired):');
    for (const e of plan.expired) {
      lines.push(`  ${e.entry}: ${e.ip} expired ${new Date(e.expiresAt * 1000).toISOString()}`);
    }
  }
  const others = plan.warnings.filter((w) => !['invalid-desired', 'expired-desired', 'guard-blocked'].includes(w.code));
  if (others.length > 0) {
    lines.push('');
    lines.push('Warnings:');
    for (const w of others) lines.push(`  ! [${w.code}] ${w.message}`);
  }
  lines.push('');
  lines.push(summary(plan.operations, plan.blocked));
  return lines.join('\n');
}

const OUTCOME_MARK: Record<OperationResult['outcome'], string> = {
  applied: 'ok',
  'applied-as-add': 'ok (re-activation refused; added anew)',
  'confirmed-after-reread': 'ok (confirmed by re-read)',
  failed: 'FAILED',
  'not-attempted': 'not attempted',
};

export function renderResult(result: ExecutionResult): string {
  const lines: string[] = [];
  lines.push(renderPlan(result.plan));
  lines.push('');
  lines.push(`Run ${result.outcome.toUpperCase()} for "${result.credential}" in ${result.durationMs} ms`);
  lines.push(`bunq calls: ${result.reads} reads, ${result.writes} writes`);
  if (result.operations.length > 0) {
    for (const r of result.operations) {
      const id = r.entryId !== undefined && r.operation.kind === 'add' ? ` → #${r.entryId}` : '';
      let line = `  ${describeOperation(r.operation)}: ${OUTCOME_MARK[r.outcome]}${id}`;
      if (r.error) line += ` — ${r.error.kind}: ${r.error.message}`;
      if (r.skipReason) line += ` — ${r.skipReason}`;
      lines.push(line);
    }
  }
  if (result.error) lines.push(`Error: ${result.error.kind}: ${result.error.message}`);
  return lines.join('\n');
}
