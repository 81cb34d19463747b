/**
 * Issue 10's proof in long mode: the lock-out property test (test/core/lockout.property.test.ts)
 * with PROPERTY_RUNS histories, in its own vitest process (the harness starts its own emulator and
 * dynalite). The figures are the test's own summary line; a violation fails the test, and the
 * counterexample lines it printed are kept here.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { round } from '../lib/stats';

/** At least the 10,000 in full mode; a smoke run in quick mode. */
export const LOCKOUT_RUNS = { full: 10_000, quick: 300 } as const;

export interface LockoutResult {
  histories: number;
  violations: number;
  /** The test's own timing of the histories. */
  seconds: number;
  /** Wall time of the vitest process, start-up included. */
  wallSeconds: number;
  passed: boolean;
  /** fast-check's seed and the violations, when it failed. */
  failure: string[];
  /** What the test reports apart from violations (own entries lost under a `*` by a run that could not tell its IP). */
  notes: string[];
}

const SUMMARY = /\[property\] lock-out: (\d+) histories, (\d+) violations in ([\d.]+) s/;

export async function runLockout(quick: boolean): Promise<LockoutResult> {
  const runs = quick ? LOCKOUT_RUNS.quick : LOCKOUT_RUNS.full;
  const root = path.join(__dirname, '..', '..');
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const started = performance.now();
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const proc = spawn(process.execPath, [vitest, 'run', 'test/core/lockout.property.test.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PROPERTY_RUNS: String(runs), NO_COLOR: '1' },
    });
    let text = '';
    proc.stdout.on('data', (c: Buffer) => (text += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (text += c.toString()));
    proc.on('error', reject);
    proc.on('close', (exit) => resolve({ code: exit, out: text }));
  });
  const wallSeconds = round((performance.now() - started) / 1000, 1);
  const m = SUMMARY.exec(out);
  if (m === null) throw new Error(`the lock-out property test printed no summary (exit ${code}): ${out.slice(-800)}`);
  const failure = out.split('\n').filter((l) => /\[property\] lock-out(:? (counterexample|violations|error)|: seed)/.test(l));
  const notes = out.split('\n').filter((l) => /\[property\] lock-out: \d+ own entries/.test(l)).map((l) => l.replace(/^.*\[property\] lock-out: /, ''));
  return { histories: Number(m[1]), violations: Number(m[2]), seconds: Number(m[3]), wallSeconds, passed: code === 0, failure, notes };
}

export function formatLockout(r: LockoutResult): string[] {
  return [
    `${r.histories} generated operator histories against the emulator (IP whitelist on): ${r.violations} violations, ${r.seconds} s (${r.wallSeconds} s with start-up)`,
    `verdict: ${r.passed ? 'pass' : 'FAIL'}`,
    ...r.notes,
    ...r.failure,
  ];
}
