/**
 * Item 6 — the monthly cost model, fed only with figures this run measured (worker duration and
 * AWS calls, cold-start init, fan-out time, metrics emitted, resources in the synthesized stack)
 * and the list prices in bench/lib/prices.ts.
 */
import { DEFAULT_CONFIG, EGRESS_MODES, type EgressMode } from '../../lib/config';
import { costModel, type CostInputs, type CostReport, type EgressFacts } from '../lib/cost-model';
import { PRICES } from '../lib/prices';
import { round } from '../lib/stats';
import { formatTable, usd } from '../lib/table';
import type { ColdStartResult } from './cold-start';
import type { FanOutRow } from './fan-out';
import { AL2023_ROOT_VOLUME_GB, type StackFacts } from './stack';
import type { WorkerResult } from './worker';

/** Lambda's SQS poller receives and deletes each message: two billed requests per run (assumption, see README). */
export const POLLER_REQUESTS_PER_RUN = 2;

export interface CostResult {
  inputs: CostInputs;
  warm: CostReport;
  coldEveryRun: CostReport;
  assumptions: string[];
}

function memoryOf(facts: StackFacts, prefix: string): number {
  const hit = Object.entries(facts.functionMemoryMb).find(([id]) => id.startsWith(prefix));
  if (hit === undefined) throw new Error(`the synthesized stack has no function ${prefix}*`);
  return hit[1];
}

function egressFacts(f: StackFacts): EgressFacts {
  return { alarms: f.alarms, natGateways: f.natGateways, natInstances: f.natInstances, publicIps: f.elasticIps, volumeGb: f.volumeGb };
}

/** `stacks`: the synthesized stack of every egress mode, keyed by the mode's name. */
export function buildCost(worker: WorkerResult, cold: ColdStartResult | null, fanOut: FanOutRow[] | null, stacks: Readonly<Record<EgressMode, StackFacts>>): CostResult {
  const plain = stacks[DEFAULT_CONFIG.egress];
  const assumptions: string[] = [];
  const first = worker.runs[0];
  if (first === undefined) throw new Error('no worker run measured');
  const coldWorker = cold?.rows.find((r) => r.name === 'reconcile-worker');
  const initMs = coldWorker?.importMs ?? null;
  if (initMs === null) assumptions.push('cold-start init not measured this run: the cold case bills 0 ms init');

  const small = fanOut?.find((r) => r.credentials === 1);
  const big = fanOut?.filter((r) => r.credentials > 1).pop();
  let fanOutInputs = { fixedMs: 0, msPerCredential: 0 };
  let fanOutPerCredential = { dynamoReadUnits: 0, sqsRequests: 0 };
  if (small && big) {
    // moto's FIFO send slows as its queue fills, which real SQS does not: per credential we take
    // the big tick's projection in Lambda against real SQS (bench/sections/fan-out.ts).
    fanOutInputs = { fixedMs: small.medianMs, msPerCredential: big.projectedRealSqsMs / big.credentials };
    fanOutPerCredential = {
      dynamoReadUnits: big.dynamoReadUnitsPerTick / big.credentials,
      sqsRequests: big.sqsRequestsPerTick / big.credentials,
    };
  } else {
    assumptions.push('fan-out not measured this run: its cost is left out');
  }

  const inputs: CostInputs = {
    scheduleMinutes: plain.scheduleMinutes,
    worker: { memoryMb: memoryOf(plain, 'ReconcileWorker'), runMs: worker.warmInSyncMedianMs },
    workerColdInitMs: initMs ?? 0,
    coldRunFraction: 0,
    fanOut: { memoryMb: memoryOf(plain, 'FanOut'), ...fanOutInputs },
    perRun: {
      dynamoReadUnits: first.units.dynamoReadUnits,
      dynamoWriteUnits: first.units.dynamoWriteUnits,
      // The context cache lives 5 minutes, as long as the schedule period: count one secret read per run.
      secretsCalls: first.units.secretsCalls,
      sqsRequests: first.units.sqsRequests + POLLER_REQUESTS_PER_RUN,
    },
    fanOutPerCredential,
    metricsPerCredential: worker.metricsPerCredential,
    metricsPerDeployment: worker.metricsPerDeployment,
    // A Metrics Insights alarm analyses a credential's metric only while it has data (3 h window):
    // the continuous per-credential metrics count, the sparse ones only in hours they are sent.
    insightsAlarmMetricsPerCredential: plain.insightsAlarmMetrics.filter((m) => worker.metricNames.includes(m)).length,
    dashboards: plain.dashboards,
    kmsKeys: plain.kmsKeys,
    bunqBytesPerRun: first.bunqBytes,
    egress: Object.fromEntries(EGRESS_MODES.map((m) => [m, egressFacts(stacks[m])])) as Record<EgressMode, EgressFacts>,
  };
  assumptions.push(
    `a scheduled run is the measured warm in-sync worker run (${worker.warmInSyncMedianMs} ms on this machine against the emulator; real bunq adds network round trips)`,
    'SQS: the Lambda poller\'s receive + delete per message (2 requests); idle long-polling is not modelled',
    'NAT gateway data: the bunq HTTP bytes of one run (TLS handshakes and Secrets Manager traffic not counted; DynamoDB uses the stack\'s gateway endpoint); a NAT instance bills no per-GB processing, and internet data-out of a few KB per run stays inside AWS\'s free 100 GB a month in every mode',
    `NAT instance: t4g.nano with standard CPU credits (never a surplus charge), its Amazon Linux 2023 root volume of ${AL2023_ROOT_VOLUME_GB} GiB gp3; its auto-assigned public IP is released when the Elastic IP is associated, so one public IPv4 address is billed`,
    'no free tier; CloudWatch Logs ingestion, KMS requests and key-rotation versions are not modelled',
  );
  const warm = costModel(inputs, PRICES);
  const coldEveryRun = costModel({ ...inputs, coldRunFraction: 1 }, PRICES);
  return { inputs, warm, coldEveryRun, assumptions };
}

export function formatCost(result: CostResult): string[] {
  const cold = new Map(result.coldEveryRun.lines.map((l) => [`${l.item}|${l.mode ?? ''}`, l.monthlyUsd]));
  const lines = formatTable(
    [{ header: 'item (per month)' }, { header: 'scope' }, { header: 'warm' }, { header: 'cold every run' }, { header: 'formula (warm)' }],
    result.warm.lines.map((l) => [
      `${l.item}${l.mode !== undefined ? ` [${l.mode}]` : ''}`,
      l.scope,
      usd(l.monthlyUsd),
      usd(cold.get(`${l.item}|${l.mode ?? ''}`) ?? l.monthlyUsd),
      l.formula,
    ]),
  );
  const w = result.warm;
  const c = result.coldEveryRun;
  lines.push(
    '',
    'egress modes side by side (lines without a [mode] tag are in every mode):',
    ...formatTable(
      [{ header: 'egress' }, { header: 'per credential' }, { header: 'one-credential deployment' }, { header: 'cold every run' }],
      EGRESS_MODES.map((m) => [
        m === DEFAULT_CONFIG.egress ? `${m} (default)` : m,
        usd(w.perCredential[m]),
        usd(w.singleCredentialDeployment[m]),
        usd(c.singleCredentialDeployment[m]),
      ]),
    ).map((l) => `  ${l}`),
    '',
    `runs per month: ${round(w.runsPerMonth, 0)} (every ${result.inputs.scheduleMinutes} min, 730 h)`,
  );
  return lines;
}
