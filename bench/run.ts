/**
 * `npm run bench`: measures, prints a table per item and writes every figure to bench/results.json.
 * Nothing in the report is typed in: each number comes from this run (or, for prices, from the
 * sourced table in bench/lib/prices.ts). See bench/README.md for how to read it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EGRESS_MODES, type EgressMode } from '../lib/config';
import { parseArgs, type BenchOptions, type Section } from './lib/args';
import { motoUnavailable, startMoto, type Moto } from './lib/moto';
import { PRICES, PRICES_CHECKED } from './lib/prices';
import { mergeResults, producedSections, type ResultsHeader } from './lib/results-file';
import { round } from './lib/stats';
import { formatCalls, runCalls, type CallsRow } from './sections/calls';
import { formatColdStart, runColdStart, type ColdStartResult } from './sections/cold-start';
import { formatConverge, QUICK_WINDOW_SCALE, runConverge, type ConvergeRow } from './sections/converge';
import { buildCost, formatCost, type CostResult } from './sections/cost';
import { formatFanOut, runFanOut, type FanOutRow } from './sections/fan-out';
import { formatLockout, LOCKOUT_RUNS, runLockout, type LockoutResult } from './sections/lockout';
import { formatPlanner, runPlanner, type PlannerRow } from './sections/planner';
import { stackFacts, type StackFacts } from './sections/stack';
import { formatWorker, runWorker, type WorkerResult } from './sections/worker';

interface Results extends ResultsHeader {
  machine: { node: string; platform: string; cpus: number; cpuModel: string };
  calls?: CallsRow[];
  converge?: { windowScale: number; rows: ConvergeRow[] };
  coldStart?: ColdStartResult;
  planner?: PlannerRow[];
  fanOut?: FanOutRow[];
  worker?: WorkerResult;
  /** The synthesized stack per egress mode, keyed by the mode's name. */
  stack?: Record<EgressMode, StackFacts>;
  cost?: CostResult;
  lockout?: LockoutResult;
  prices: { checked: string; table: typeof PRICES };
}

const TITLES: Record<Section, string> = {
  calls: '1. bunq calls per reconcile vs the minimum (emulator, classic rate limits on a manual clock)',
  converge: '2. Time to converge K additions vs the rate-limit lower bound (emulator, real clock)',
  'cold-start': '3. Cold start: bundle size, import and first event in a fresh Node process',
  planner: '4. Planner scale: plan() time and memory',
  'fan-out': '5. Fan-out: enqueue every credential (moto)',
  worker: '6a. Worker run duration and AWS usage (moto + emulator): cost-model inputs',
  cost: '6b. Cost model per month (eu-west-1 list prices, schedule every 5 minutes)',
  lockout: `7. Lock-out property, long mode (issue 10): ${LOCKOUT_RUNS.full} histories (--quick: ${LOCKOUT_RUNS.quick})`,
};

function print(title: string, lines: readonly string[]): void {
  process.stdout.write(`\n${title}\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
}

async function main(options: BenchOptions): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const want = (s: Section): boolean => options.sections.includes(s);
  const results: Results = {
    generatedAt: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    machine: { node: process.version, platform: `${platform()} ${release()}`, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' },
    durationsMs: {},
    skipped: {},
    prices: { checked: PRICES_CHECKED, table: PRICES },
  };
  process.stdout.write(
    `bunq-ip-reconciler bench — ${results.mode} mode${options.quick ? ` (rate-limit windows ×${QUICK_WINDOW_SCALE}, fewer repetitions)` : ' (bunq\'s real 3 s windows)'}; ` +
      `node ${process.version}, ${results.machine.cpus} CPUs\n`,
  );
  const timed = async <T>(section: Section, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      results.durationsMs[section] = round(performance.now() - t, 0);
    }
  };
  const skip = (section: Section, why: string): void => {
    results.skipped[section] = why;
    print(TITLES[section], [`skipped: ${why}`]);
  };

  if (want('calls')) {
    results.calls = await timed('calls', runCalls);
    print(TITLES.calls, formatCalls(results.calls));
  }
  if (want('converge')) {
    const rows = await timed('converge', () => runConverge(options.quick));
    results.converge = { windowScale: rows[0]?.windowScale ?? 1, rows };
    print(TITLES.converge, formatConverge(rows));
  }
  const needsMoto = (['cold-start', 'fan-out', 'worker', 'cost'] as const).filter(want);
  const noMoto = needsMoto.length > 0 ? motoUnavailable() : null;
  let moto: Moto | undefined;
  try {
    if (needsMoto.length > 0 && noMoto === null) moto = await startMoto();
    const endpoint = moto?.endpoint;
    if (want('cold-start')) {
      if (endpoint === undefined) skip('cold-start', `moto is needed for the first event: ${noMoto ?? 'not started'}`);
      else {
        results.coldStart = await timed('cold-start', () => runColdStart(endpoint, options.quick));
        print(TITLES['cold-start'], formatColdStart(results.coldStart));
      }
    }
    // The planner needs no moto; it runs here only to keep the report in the issue's order.
    if (want('planner')) {
      results.planner = await timed('planner', () => runPlanner(options.quick));
      print(TITLES.planner, formatPlanner(results.planner));
    }
    if (want('fan-out')) {
      if (endpoint === undefined) skip('fan-out', noMoto ?? 'moto not started');
      else {
        results.fanOut = await timed('fan-out', () => runFanOut(endpoint, options.quick));
        print(TITLES['fan-out'], formatFanOut(results.fanOut));
      }
    }
    if (want('worker') || want('cost')) {
      if (endpoint === undefined) {
        if (want('worker')) skip('worker', noMoto ?? 'moto not started');
      } else {
        results.worker = await timed('worker', () => runWorker(endpoint, options.quick));
        if (want('worker')) print(TITLES.worker, formatWorker(results.worker));
      }
    }
  } finally {
    await moto?.stop();
  }

  if (want('cost')) {
    if (results.worker === undefined) skip('cost', 'needs the worker measurements (moto)');
    else {
      const worker = results.worker;
      results.cost = await timed('cost', async () => {
        const stacks = Object.fromEntries(EGRESS_MODES.map((m) => [m, stackFacts(m)])) as Record<EgressMode, StackFacts>;
        results.stack = stacks;
        return buildCost(worker, results.coldStart ?? null, results.fanOut ?? null, stacks);
      });
      print(TITLES.cost, [...formatCost(results.cost), '', 'assumptions:', ...results.cost.assumptions.map((a) => `- ${a}`)]);
    }
  }

  if (want('lockout')) {
    results.lockout = await timed('lockout', () => runLockout(options.quick));
    print(TITLES.lockout, formatLockout(results.lockout));
  }

  const out = path.resolve(options.out);
  mkdirSync(path.dirname(out), { recursive: true });
  // A partial run (--only) keeps the other sections' figures from the file, stamped with their run.
  const previous: unknown = existsSync(out) ? parseOrNull(readFileSync(out, 'utf8')) : null;
  writeFileSync(out, `${JSON.stringify(mergeResults(previous, results, producedSections(options.sections, { ...results })), null, 2)}\n`);
  const total = Object.values(results.durationsMs).reduce((a, b) => a + b, 0);
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), out)} (sections took ${round(total / 1000, 1)} s)\n`);
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

let options: BenchOptions;
try {
  options = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
main(options).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
