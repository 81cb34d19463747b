/**
 * Runs plan() for one size in a fresh process (started by bench/sections/planner.ts with
 * --expose-gc) and prints one JSON line: time per run and memory, measured around plan() only.
 */
import { performance } from 'node:perf_hooks';
import { plan, type ActualEntry, type CredentialConfig, type DesiredItem } from '../lambdas/core';
import { median } from './lib/stats';
import { ipAt } from './sections/ip';

export interface PlannerSample {
  entries: number;
  runs: number;
  medianMs: number;
  operations: number;
  retainedPlanBytes: number;
  heapGrowthBytes: number;
  peakRssGrowthBytes: number;
}

/** N desired IPs and N bunq entries, 1% of them drifted each way (missing, inactive, undesired). */
export function plannerInput(n: number): { desired: DesiredItem[]; actual: ActualEntry[]; config: CredentialConfig } {
  const desired: DesiredItem[] = [];
  const actual: ActualEntry[] = [];
  const drift = Math.max(1, Math.floor(n / 100));
  for (let i = 1; i <= n; i++) {
    const ip = ipAt(i);
    desired.push({ entry: `ip#${ip}`, ip });
    if (i <= drift) continue; // missing → add
    actual.push({ id: i, ip, status: i <= 2 * drift ? 'INACTIVE' : 'ACTIVE', created: '2026-01-01 00:00:00.000000' });
  }
  for (let j = 1; j <= drift; j++) {
    actual.push({ id: n + j, ip: ipAt(n + j), status: 'ACTIVE', created: '2026-01-01 00:00:00.000000' });
  }
  const config: CredentialConfig = {
    credential: 'bench', userId: 1, credentialPasswordIpId: 1, secretName: 'bunq-ip-reconciler/bench',
    mode: 'enforce', maxDeactivationsPerRun: 1000, protectedIps: [],
  };
  return { desired, actual, config };
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with node --expose-gc');
  collect();
  collect();
}

function main(): void {
  const n = Number(process.argv[2]);
  const runs = Number(process.argv[3] ?? 5);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(runs) || runs < 1) throw new Error('usage: planner-child <entries> <runs>');
  const now = Date.UTC(2026, 0, 1);
  // Warm the JIT on a small input so the first measured run is not mostly compilation.
  const warm = plannerInput(50);
  for (let i = 0; i < 20; i++) plan(warm.desired, warm.actual, warm.config, now);

  const input = plannerInput(n);
  gc();
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  const heapBefore = process.memoryUsage().heapUsed;
  let t = performance.now();
  let result = plan(input.desired, input.actual, input.config, now);
  const times = [performance.now() - t];
  const heapAfter = process.memoryUsage().heapUsed;
  const rssAfter = process.resourceUsage().maxRSS * 1024;
  for (let i = 1; i < runs; i++) {
    t = performance.now();
    result = plan(input.desired, input.actual, input.config, now);
    times.push(performance.now() - t);
  }
  gc();
  const withPlan = process.memoryUsage().heapUsed;
  const operations = result.operations.length;
  result = undefined as unknown as typeof result;
  gc();
  const withoutPlan = process.memoryUsage().heapUsed;
  const sample: PlannerSample = {
    entries: n,
    runs,
    medianMs: median(times),
    operations,
    retainedPlanBytes: Math.max(0, withPlan - withoutPlan),
    heapGrowthBytes: Math.max(0, heapAfter - heapBefore),
    peakRssGrowthBytes: Math.max(0, rssAfter - rssBefore),
  };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

if (require.main === module) main();
