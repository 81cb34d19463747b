/**
 * Item 5 — the fan-out handler enqueueing every configured credential, on moto: DynamoDB scan of
 * DesiredIps, SendMessageBatch to the FIFO queue. Also measures one credential, so the cost model
 * can split the fan-out into a fixed and a per-credential part.
 */
import { performance } from 'node:perf_hooks';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DesiredStore } from '../../lambdas/aws/desired-store';
import { ReconcileQueue, SEND_CONCURRENCY } from '../../lambdas/aws/queue';
import { createFanOutHandler } from '../../lambdas/handlers/fan-out';
import { FUNCTION_MEMORY_MB } from '../../lib/reconciler-functions';
import { systemClock } from '../../lambdas/shared/clock';
import { AwsMeter, billingUnits, busyMs, type CallRecord } from '../lib/aws-meter';
import { awsClientsFor, createFifoQueue, createTable, queueDepth, type AwsClients } from '../lib/moto';
import { median, round } from '../lib/stats';
import { fmt, formatTable } from '../lib/table';
import { ipAt } from './ip';

/** Credentials per scenario; --quick uses 100 instead of 1,000 (moto's FIFO send slows as the queue fills). */
export function fanOutSizes(quick: boolean): number[] {
  return quick ? [1, 100] : [1, 1000];
}

/**
 * What one SQS round trip takes from Lambda/EC2 in the same region: "a typical SQS request-response
 * takes a bit less than 20ms from EC2" (AWS News Blog, "Scaling with Amazon SQS",
 * https://aws.amazon.com/blogs/aws/scaling-with-amazon-sqs/). Used only for the projection column.
 */
export const REAL_SQS_ROUND_TRIP_MS = 20;
/** A FIFO queue (without high-throughput mode) takes 300 SendMessageBatch calls per second (SQS quotas). */
export const FIFO_BATCH_CALLS_PER_SECOND = 300;
/** Lambda's CPU share grows with memory: 1,769 MB is one full vCPU (Lambda developer guide). */
export const MB_PER_VCPU = 1769;
/** How much slower the fan-out's CPU-bound work runs on its Lambda share than on one core here. */
export const FAN_OUT_CPU_SLOWDOWN = Math.max(1, MB_PER_VCPU / FUNCTION_MEMORY_MB.fanOut);

export interface FanOutRow {
  credentials: number;
  ticks: number;
  medianMs: number;
  /** Wall time per tick with at least one AWS call (moto) in flight; concurrent calls count once. */
  awsMs: number;
  /** CPU time of the handler's own process per tick: the part moto's speed does not change. */
  ownMs: number;
  /** The handler's own CPU time per credential. */
  ownMsPerCredential: number;
  /** SendMessageBatch calls per tick, and the rounds they take with SEND_CONCURRENCY in flight. */
  sendBatches: number;
  sendRounds: number;
  /** Median duration (ms) of the first and the last SEND_CONCURRENCY sends: moto slows as its queue fills. */
  firstSendsMs: number;
  lastSendsMs: number;
  /**
   * The tick in Lambda against real SQS: the scan as measured, our CPU stretched to the fan-out's
   * CPU share (FAN_OUT_CPU_SLOWDOWN), and the sends at REAL_SQS_ROUND_TRIP_MS per round, but no
   * faster than the FIFO queue's call quota. An estimate: CPU here also counts the bench's meter.
   */
  projectedRealSqsMs: number;
  msPerCredential: number;
  enqueuedPerTick: number;
  queueDepthAfter: number;
  dynamoReadUnitsPerTick: number;
  sqsRequestsPerTick: number;
  callsPerTick: Record<string, number>;
}

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

async function seed(aws: AwsClients, table: string, credentials: number): Promise<void> {
  const doc = DynamoDBDocumentClient.from(aws.dynamo);
  const items: Array<Record<string, unknown>> = [];
  for (let c = 1; c <= credentials; c++) {
    const credential = `cred-${String(c).padStart(4, '0')}`;
    items.push({
      credential, entry: 'config', userId: 1000 + c, credentialPasswordIpId: 5000 + c,
      secretName: `bunq-ip-reconciler/${credential}`, mode: 'enforce', maxDeactivationsPerRun: 5, protectedIps: ['127.0.0.1'],
    });
    // A typical credential: a couple of desired IPs next to its config (the scan reads them too).
    for (const ip of [ipAt(2 * c), ipAt(2 * c + 1)]) items.push({ credential, entry: `ip#${ip}`, ip, note: 'office' });
  }
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

export async function runFanOut(endpoint: string, quick: boolean): Promise<FanOutRow[]> {
  const rows: FanOutRow[] = [];
  for (const credentials of fanOutSizes(quick)) {
    // One tick of the big scenario: moto's FIFO SendMessageBatch gets slower with every message
    // already queued (about 1 s per batch at 1,000), so repeating it would only measure moto.
    const ticks = credentials === 1 ? 5 : 1;
    const aws = awsClientsFor(endpoint);
    const meter = new AwsMeter();
    const suffix = `${credentials}-${Date.now().toString(36)}`;
    const table = `bench-desired-${suffix}`;
    await createTable(aws.dynamo, table);
    const queueUrl = await createFifoQueue(aws.sqs, `bench-reconcile-${suffix}`);
    await seed(aws, table, credentials);
    meter.attach('DynamoDB', aws.dynamo);
    meter.attach('SQS', aws.sqs);
    const handler = createFanOutHandler({
      desired: new DesiredStore(aws.dynamo, table),
      queue: new ReconcileQueue(aws.sqs, queueUrl),
      clock: systemClock,
      logger: silent,
    });
    const times: number[] = [];
    let enqueued = 0;
    let cpuMicros = 0;
    const mark = meter.mark();
    for (let t = 0; t < ticks; t++) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const report = await handler({ scheduledTime: new Date(Date.UTC(2026, 0, 1, 0, 5 * t)).toISOString() });
      const used = process.cpuUsage(cpu);
      cpuMicros += used.user + used.system;
      times.push(performance.now() - started);
      enqueued = report.enqueued;
    }
    const calls = meter.since(mark);
    const units = billingUnits(calls);
    const awsMs = busyMs(calls) / ticks;
    const ownMs = cpuMicros / 1000 / ticks;
    const perTick = (n: number): number => round(n / ticks, 3);
    const medianMs = median(times);
    // In the order they were sent (the meter records a call when it completes).
    const sends = calls.filter((c) => c.service === 'SQS' && c.command === 'SendMessageBatchCommand').sort((a, b) => a.startedMs - b.startedMs);
    const sendBatches = sends.length / ticks;
    const sendRounds = Math.ceil(sendBatches / SEND_CONCURRENCY);
    const scanMs = busyMs(calls.filter((c) => c.service === 'DynamoDB')) / ticks;
    const sendMs = (list: readonly CallRecord[]): number => (list.length === 0 ? 0 : round(median(list.map((c) => c.ms)), 1));
    rows.push({
      credentials,
      ticks,
      medianMs: round(medianMs, 1),
      awsMs: round(awsMs, 1),
      ownMs: round(ownMs, 1),
      ownMsPerCredential: round(ownMs / credentials, 3),
      sendBatches,
      sendRounds,
      firstSendsMs: sendMs(sends.slice(0, SEND_CONCURRENCY)),
      lastSendsMs: sendMs(sends.slice(-SEND_CONCURRENCY)),
      projectedRealSqsMs: round(
        scanMs + ownMs * FAN_OUT_CPU_SLOWDOWN + Math.max(sendRounds * REAL_SQS_ROUND_TRIP_MS, (sendBatches / FIFO_BATCH_CALLS_PER_SECOND) * 1000),
        0,
      ),
      msPerCredential: round(medianMs / credentials, 3),
      enqueuedPerTick: enqueued,
      queueDepthAfter: await queueDepth(aws.sqs, queueUrl),
      dynamoReadUnitsPerTick: perTick(units.dynamoReadUnits),
      sqsRequestsPerTick: perTick(units.sqsRequests),
      callsPerTick: Object.fromEntries(Object.entries(units.byCommand).map(([k, v]) => [k, perTick(v)])),
    });
  }
  return rows;
}

export function formatFanOut(rows: readonly FanOutRow[]): string[] {
  const table = formatTable(
    [
      { header: 'credentials' },
      { header: 'per tick (ms)' },
      { header: 'AWS in flight (moto)' },
      { header: 'handler CPU' },
      { header: 'CPU per credential' },
      { header: 'sends / rounds' },
      { header: 'first → last sends (ms)' },
      { header: 'on real SQS (projected ms)' },
      { header: 'enqueued/tick' },
      { header: 'queue depth after' },
      { header: 'AWS calls per tick' },
    ],
    rows.map((r) => [
      r.credentials,
      fmt(r.medianMs, 0),
      fmt(r.awsMs, 0),
      fmt(r.ownMs, 1),
      fmt(r.ownMsPerCredential, 3),
      `${r.sendBatches} / ${r.sendRounds}`,
      `${fmt(r.firstSendsMs, 0)} → ${fmt(r.lastSendsMs, 0)}`,
      fmt(r.projectedRealSqsMs, 0),
      r.enqueuedPerTick,
      r.queueDepthAfter,
      Object.entries(r.callsPerTick).map(([k, v]) => `${k} ${v}`).join(', '),
    ]),
  );
  return [
    ...table,
    `Sends go ${SEND_CONCURRENCY} at a time. moto's FIFO SendMessageBatch rescans the whole queue for every message it adds, so`,
    'its time per batch grows with the queue (first → last) and 1,000 credentials take minutes there whatever the client does.',
    `Projection (Lambda, real SQS): the scan as measured, the CPU ×${round(FAN_OUT_CPU_SLOWDOWN, 1)} (${FUNCTION_MEMORY_MB.fanOut} MB of ${MB_PER_VCPU} MB per vCPU),`,
    `each round of sends at ${REAL_SQS_ROUND_TRIP_MS} ms (AWS), at most ${FIFO_BATCH_CALLS_PER_SECOND} batch calls/s (FIFO quota).`,
  ];
}
