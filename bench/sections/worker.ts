/**
 * The worker's duration and AWS usage per run (the cost model's inputs): the real worker handler
 * with its real adapters on moto, calling the bunq emulator over HTTP. Runs in this process, so
 * "first run" includes loading the secret but not module loading (that is the cold-start section).
 */
import { performance } from 'node:perf_hooks';
import { ContextStore } from '../../lambdas/aws/context-store';
import { CredentialOwners } from '../../lambdas/aws/credential-owner';
import { DesiredStore } from '../../lambdas/aws/desired-store';
import { createRunMetrics } from '../../lambdas/aws/metrics';
import { StateStore } from '../../lambdas/aws/state-store';
import { nodeTransport, RateLimiter, type Transport } from '../../lambdas/bunq';
import { createWorkerHandler } from '../../lambdas/handlers/reconcile-worker';
import { systemClock } from '../../lambdas/shared/clock';
import { AwsMeter, billingUnits, type BillingUnits } from '../lib/aws-meter';
import { median, round } from '../lib/stats';
import { bytes, fmt, formatTable } from '../lib/table';
import { OWN_IP } from '../lib/bunq-world';
import { scheduleEvent, SECRET_PREFIX, workerWorld } from '../lib/world-on-moto';
import { ipAt } from './ip';

export interface WorkerRun {
  kind: 'first run (secret read)' | 'warm, in sync' | 'warm, 1 change';
  ms: number;
  units: BillingUnits;
  bunqRequests: number;
  bunqBytes: number;
  failures: number;
}

export interface WorkerResult {
  memoryMb: number;
  runs: WorkerRun[];
  firstRunMs: number;
  warmInSyncMedianMs: number;
  oneChangeMs: number;
  /** Distinct EMF metric × dimension sets: those with the credential dimension, and service-wide. */
  metricsPerCredential: number;
  metricsPerDeployment: number;
  metricNames: string[];
}

/** The stack's worker memory (lib/reconciler-stack.ts), the figure duration is billed at. */
export const WORKER_MEMORY_MB = 512;

interface EmfLine {
  _aws?: { CloudWatchMetrics?: Array<{ Dimensions?: string[][]; Metrics?: Array<{ Name?: string }> }> };
}

/** Runs fn with stdout captured (EMF metrics and logs go there); returns its EMF records. */
async function captureEmf<T>(fn: () => Promise<T>): Promise<{ value: T; emf: EmfLine[] }> {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    lines.push(...String(chunk).split('\n'));
    return true;
  }) as typeof process.stdout.write;
  try {
    const value = await fn();
    const emf = lines.filter((l) => l.startsWith('{') && l.includes('"_aws"')).map((l) => JSON.parse(l) as EmfLine);
    return { value, emf };
  } finally {
    process.stdout.write = original;
  }
}

function countingTransport(inner: Transport, tally: { requests: number; bytes: number }): Transport {
  return async (request) => {
    const headerBytes = (h: Readonly<Record<string, string>>): number =>
      Object.entries(h).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
    const response = await inner(request);
    tally.requests++;
    tally.bytes += request.method.length + request.url.length + 12 + headerBytes(request.headers) + (request.body?.length ?? 0);
    tally.bytes += 17 + headerBytes(response.headers) + response.body.length;
    return response;
  };
}

export async function runWorker(endpoint: string, quick: boolean): Promise<WorkerResult> {
  const world = await workerWorld(endpoint);
  try {
    const meter = new AwsMeter();
    meter.attach('DynamoDB', world.aws.dynamo);
    meter.attach('SecretsManager', world.aws.secrets);
    meter.attach('SQS', world.aws.sqs);
    const tally = { requests: 0, bytes: 0 };
    const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const handler = createWorkerHandler({
      desired: new DesiredStore(world.aws.dynamo, world.desiredTable),
      state: new StateStore(world.aws.dynamo, world.stateTable, 90),
      contexts: new ContextStore(world.aws.secrets, { secretPrefix: SECRET_PREFIX }),
      metrics: createRunMetrics(),
      logger: silent,
      clock: systemClock,
      owners: new CredentialOwners(world.aws.dynamo, { stateTable: world.stateTable, desiredTable: world.desiredTable }),
      bunqOptions: { limiter: new RateLimiter({ clock: systemClock }), transport: countingTransport(nodeTransport(), tally) },
      // EGRESS_IPS: the emulator sees this process as OWN_IP.
      egress: { ips: [OWN_IP] },
    });
    const runs: WorkerRun[] = [];
    const emf: EmfLine[] = [];
    const runOnce = async (kind: WorkerRun['kind'], n: number): Promise<void> => {
      const mark = meter.mark();
      const before = { ...tally };
      const started = performance.now();
      const captured = await captureEmf(() => handler(scheduleEvent(world.credential, n)));
      const ms = performance.now() - started;
      emf.push(...captured.emf);
      runs.push({
        kind,
        ms: round(ms, 1),
        units: billingUnits(meter.since(mark)),
        bunqRequests: tally.requests - before.requests,
        bunqBytes: tally.bytes - before.bytes,
        failures: captured.value.batchItemFailures.length,
      });
    };
    await runOnce('first run (secret read)', 0);
    const warmRuns = quick ? 3 : 9;
    for (let i = 1; i <= warmRuns; i++) await runOnce('warm, in sync', i);
    await world.addDesiredIp(ipAt(900));
    await runOnce('warm, 1 change', warmRuns + 1);

    const perCredential = new Set<string>();
    const perDeployment = new Set<string>();
    for (const record of emf) {
      for (const block of record._aws?.CloudWatchMetrics ?? []) {
        for (const dims of block.Dimensions ?? []) {
          for (const m of block.Metrics ?? []) {
            const key = `${m.Name ?? '?'}|${dims.join(',')}`;
            (dims.includes('credential') ? perCredential : perDeployment).add(key);
          }
        }
      }
    }
    const warm = runs.filter((r) => r.kind === 'warm, in sync').map((r) => r.ms);
    return {
      memoryMb: WORKER_MEMORY_MB,
      runs,
      firstRunMs: runs[0]?.ms ?? Number.NaN,
      warmInSyncMedianMs: round(median(warm), 1),
      oneChangeMs: runs[runs.length - 1]?.ms ?? Number.NaN,
      metricsPerCredential: perCredential.size,
      metricsPerDeployment: perDeployment.size,
      metricNames: [...new Set([...perCredential].map((k) => k.split('|')[0] ?? ''))].sort(),
    };
  } finally {
    await world.close();
  }
}

export function formatWorker(result: WorkerResult): string[] {
  const byKind = new Map<string, WorkerRun[]>();
  for (const r of result.runs) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
  return formatTable(
    [
      { header: 'worker run' },
      { header: 'runs' },
      { header: 'median (ms)' },
      { header: 'bunq calls' },
      { header: 'bunq bytes' },
      { header: 'AWS calls per run' },
      { header: 'failed' },
    ],
    [...byKind].map(([kind, rs]) => {
      const first = rs[0] as WorkerRun;
      return [
        kind,
        rs.length,
        fmt(median(rs.map((r) => r.ms)), 1),
        first.bunqRequests,
        bytes(first.bunqBytes),
        Object.entries(first.units.byCommand).map(([k, v]) => `${k} ${v}`).join(', '),
        rs.reduce((n, r) => n + r.failures, 0),
      ];
    }),
  );
}
