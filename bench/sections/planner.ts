/**
 * Item 4 — plan() time and memory for 10, 1,000 and 100,000 entries, each size in a fresh Node
 * process with --expose-gc (bench/planner-child.ts) so one size's garbage does not bill the next.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { PlannerSample } from '../planner-child';
import { growthExponent, round } from '../lib/stats';
import { bytes, fmt, formatTable } from '../lib/table';

export const PLANNER_SIZES = [10, 1000, 100_000] as const;

export interface PlannerRow extends PlannerSample {
  usPerEntry: number;
  /** k in time ∝ n^k, from the previous size to this one. */
  growthFromPrevious: number | null;
}

function runChild(entries: number, runs: number): Promise<PlannerSample> {
  const child = path.join(__dirname, '..', 'planner-child.ts');
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', child, String(entries), String(runs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`planner child (${entries}) failed with code ${code}: ${err.slice(-500)}`));
      else resolve(JSON.parse(line) as PlannerSample);
    });
  });
}

export async function runPlanner(quick: boolean): Promise<PlannerRow[]> {
  const rows: PlannerRow[] = [];
  let previous: PlannerSample | undefined;
  for (const n of PLANNER_SIZES) {
    const runs = n >= 100_000 ? (quick ? 1 : 3) : quick ? 3 : 9;
    const s = await runChild(n, runs);
    rows.push({
      ...s,
      medianMs: round(s.medianMs, 3),
      usPerEntry: round((s.medianMs * 1000) / n, 2),
      growthFromPrevious: previous ? round(growthExponent(previous.entries, previous.medianMs, s.entries, s.medianMs), 2) : null,
    });
    previous = s;
  }
  return rows;
}

export function formatPlanner(rows: readonly PlannerRow[]): string[] {
  return formatTable(
    [
      { header: 'entries' },
      { header: 'runs' },
      { header: 'plan median (ms)' },
      { header: 'µs / entry' },
      { header: 'growth k (t ∝ n^k)' },
      { header: 'heap allocated' },
      { header: 'peak RSS growth' },
      { header: 'plan retained' },
      { header: 'operations' },
    ],
    rows.map((r) => [
      fmt(r.entries),
      r.runs,
      fmt(r.medianMs, 2),
      fmt(r.usPerEntry, 2),
      r.growthFromPrevious === null ? '–' : fmt(r.growthFromPrevious, 2),
      bytes(r.heapGrowthBytes),
      bytes(r.peakRssGrowthBytes),
      bytes(r.retainedPlanBytes),
      fmt(r.operations),
    ]),
  );
}
