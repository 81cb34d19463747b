/**
 * Text for the ReconcileState table: the latest run of a credential (`status`), one line per run
 * (`history`), and a one-line-per-credential overview. Pure.
 */
import type { RunRecord, StatusRecord } from '../../lambdas/aws/state-store';
import { compareIpv4 } from '../../lambdas/shared/validate-ip';
import type { OperationResult } from '../../lambdas/core/types';
import { plainStyle, type Style } from '../style';

function outcomeText(outcome: string, style: Style): string {
  const up = outcome.toUpperCase();
  if (outcome === 'failed' || outcome === 'partial') return style.red(up);
  if (outcome === 'observed' || outcome === 'held') return style.yellow(up);
  return style.green(up);
}

function op(o: OperationResult): string {
  const id = 'entryId' in o.operation ? ` #${o.operation.entryId}` : o.entryId !== undefined ? ` → #${o.entryId}` : '';
  const sym = o.operation.kind === 'add' ? '+' : o.operation.kind === 'reactivate' ? '~' : '-';
  return `${sym} ${o.operation.ip}${id} (${o.operation.kind}${o.outcome !== 'applied' ? `, ${o.outcome}` : ''})`;
}

export function renderStatus(s: StatusRecord, style: Style = plainStyle): string {
  const lines: string[] = [];
  lines.push(style.bold(`Credential "${s.credential}"`) + `  last run ${s.lastRunAt}: ${outcomeText(s.outcome, style)} (${s.reason}, mode ${s.mode ?? 'unknown'})`);
  lines.push(`  last success: ${s.lastSuccessAt ?? 'never'}; consecutive failures: ${s.consecutiveFailures ?? 0}`);
  if (s.error) lines.push(style.red(`  error: ${s.error.kind}: ${s.error.message}`));
  const actual = s.actual ?? s.lastKnownActual ?? null;
  if (actual !== null) {
    const active = actual.filter((e) => e.status === 'ACTIVE').map((e) => e.ip).sort(compareIpv4);
    const inactive = actual.filter((e) => e.status !== 'ACTIVE').map((e) => e.ip).sort(compareIpv4);
    const seenAt = s.actual === null && s.lastKnownActualAt ? ` (as of ${s.lastKnownActualAt})` : '';
    lines.push(`  ACTIVE at bunq${seenAt}: ${active.length > 0 ? active.join(', ') : 'none'}`);
    if (inactive.length > 0) lines.push(style.dim(`  INACTIVE at bunq: ${inactive.join(', ')}`));
  }
  lines.push(`  desired: ${s.desiredIps.length > 0 ? s.desiredIps.join(', ') : 'none'}`);
  if (s.actual === null && s.driftAsOf !== undefined) {
    lines.push(style.yellow(`  this run could not read bunq: drift and blocked below are from the last successful read (${s.driftAsOf})`));
  }
  lines.push(`  drift found: ${s.drift.length}; applied: ${s.applied.length}; failed: ${s.failed.length}; blocked: ${s.blocked.length}`);
  for (const a of s.applied) lines.push(style.green(`    ${op(a)}`));
  for (const f of s.failed) lines.push(style.red(`    ${op(f)}: ${f.error?.kind ?? 'error'}: ${f.error?.message ?? ''}`));
  for (const n of s.notAttempted) lines.push(style.dim(`    ${op(n)}: not attempted${n.skipReason ? ` (${n.skipReason})` : ''}`));
  for (const b of s.blocked) lines.push(style.yellow(`    ! ${b.operation.kind} ${b.operation.ip} held back by ${b.guard}: ${b.reason}`));
  for (const i of s.invalid) lines.push(style.red(`    x ${i.entry}: ${i.value}: ${i.reason}`));
  const shown = new Set(['invalid-desired', 'guard-blocked']);
  for (const w of s.warnings.filter((x) => !shown.has(x.code))) lines.push(style.yellow(`    ! [${w.code}] ${w.message}`));
  lines.push(`  bunq calls: ${s.reads} reads, ${s.writes} writes in ${s.durationMs} ms`);
  return lines.join('\n');
}

export function renderHistoryLine(r: RunRecord, style: Style = plainStyle): string {
  const changes = r.applied.length > 0 ? r.applied.map((a) => op(a)).join(', ') : 'no changes';
  const extra = [
    r.blocked.length > 0 ? style.yellow(`${r.blocked.length} blocked`) : '',
    r.failed.length > 0 ? style.red(`${r.failed.length} failed`) : '',
    r.error ? style.red(`${r.error.kind}: ${r.error.message}`) : '',
  ].filter((x) => x !== '');
  return `${r.startedAt}  ${outcomeText(r.outcome, style).padEnd(style.enabled ? 20 : 9)}  ${r.reason.padEnd(8)}  drift ${r.drift.length}  ${changes}${extra.length > 0 ? `  ${extra.join('; ')}` : ''}`;
}

export function renderHistory(credential: string, records: readonly RunRecord[], style: Style = plainStyle): string {
  if (records.length === 0) return `No runs recorded for "${credential}" yet.`;
  return [style.bold(`Runs of "${credential}", newest first:`), ...records.map((r) => renderHistoryLine(r, style))].join('\n');
}

export function renderOverview(rows: ReadonlyArray<{ credential: string; status: StatusRecord | null }>, style: Style = plainStyle): string {
  if (rows.length === 0) return 'No credentials configured. Onboard one with `bunq-ip bootstrap <credential>`.';
  const width = Math.max(...rows.map((r) => r.credential.length), 10);
  return rows
    .map(({ credential, status }) =>
      status === null
        ? `${credential.padEnd(width)}  ${style.dim('never run')}`
        : `${credential.padEnd(width)}  ${outcomeText(status.outcome, style)}  last run ${status.lastRunAt}, drift ${status.drift.length}, blocked ${status.blocked.length}` +
          (status.error ? style.red(`  ${status.error.kind}: ${status.error.message}`) : ''),
    )
    .join('\n');
}
