/** The probe's report as text a person can read and paste into an issue (Markdown-friendly). */
import { QUESTIONS } from './questions';
import type { ProbeReport } from './run-probe';

export function renderProbeReport(report: ProbeReport): string {
  const lines: string[] = [];
  lines.push(`bunq behaviour probe against ${report.baseUrl}`);
  lines.push(`started ${report.startedAt}, took ${Math.round(report.durationMs / 1000)} s`);
  if (report.stoppedBy !== undefined) lines.push(`STOPPED EARLY: ${report.stoppedBy} (the checks below ran before that)`);
  lines.push('');
  lines.push('Answers (`default` = the emulator\'s default; otherwise the emulator profile bunq behaved like):');
  const idWidth = Math.max(...report.checks.map((c) => c.id.length), ...report.notRun.map((n) => n.id.length));
  const answerWidth = Math.max(...report.checks.map((c) => c.answer.length), 7);
  for (const c of report.checks) lines.push(`  ${c.id.padEnd(idWidth)}  ${c.answer.padEnd(answerWidth)}  ${c.summary}`);
  for (const n of report.notRun) lines.push(`  ${n.id.padEnd(idWidth)}  ${'not run'.padEnd(answerWidth)}  ${n.reason}`);
  lines.push('');
  if (report.profiles.length === 0) {
    lines.push('bunq answered every question as the emulator does by default.');
  } else {
    lines.push('Play these answers locally: npm run emulator -- ' + report.profiles.map((p) => `--profile ${p}`).join(' '));
    for (const p of report.profiles) {
      const q = QUESTIONS.find((x) => x.profile === p);
      if (q !== undefined) lines.push(`  ${p}: ${q.meaning}`);
    }
  }
  const inconclusive = report.checks.filter((c) => c.answer === 'inconclusive');
  if (inconclusive.length > 0) lines.push(`Inconclusive: ${inconclusive.map((c) => c.id).join(', ')} (see the evidence).`);
  lines.push('');
  lines.push('Observations (no profile):');
  const obsWidth = Math.max(...report.observations.map((o) => o.id.length));
  for (const o of report.observations) lines.push(`  ${o.id.padEnd(obsWidth)}  ${o.summary}`);
  lines.push('');
  lines.push('Evidence:');
  for (const c of report.checks) lines.push(`  ${c.id}: ${JSON.stringify(c.evidence)}`);
  for (const o of report.observations) lines.push(`  ${o.id}: ${JSON.stringify(o.evidence)}`);
  return lines.join('\n');
}
