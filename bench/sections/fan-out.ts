/**
 * Item 5 — the fan-out handler enqueueing every configured credential, on moto: DynamoDB scan of
 * DesiredIps, SendMessageBatch to the FIFO queue. Also measures one credential, so the cost model
 * can split the fan-out into a fixed and a per-credential part.
 */
import { performance } from 'node:perf_hooks';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DesiredStore } from '../../lambdas/aws/desired-store';
import { ReconcileQueue } from '../../lambdas/aws/queue';
import { createFanOutHandler } from '../../lambdas/handlers/fan-out';
import { systemClock } from '../../lambdas/shared/clock';
import { AwsMeter, billingUnits } from '../lib/aws-meter';
import { awsClientsFor, createFifoQueue, createTable, queueDepth, type AwsClients } from '../lib/moto';
import { median, round } from '../lib/stats';
import { fmt, formatTable } from '../lib/table';
import { ipAt } from './ip';

/** Credentials per scenario; --quick uses 100 instead of 1,000 (moto's FIFO send slows as the queue fills). */
export function fanOutSizes(quick: boolean): number[] {
  return quick ? [1, 100] : [1, 1000];
}

export interface FanOutRow {
  credentials: number;
  ticks: number;
  medianMs: number;
  /** Time spent inside AWS calls (moto) per tick, and the rest: the handler's own work. */
  awsMs: number;
  ownMs: number;
  /** The handler's own time per credential (what would not change on real AWS). */
  ownMsPerCredential: number;
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
    const mark = meter.mark();
    for (let t = 0; t < ticks; t++) {
      const started = performance.now();
      const report = await handler({ scheduledTime: new Date(Date.UTC(2026, 0, 1, 0, 5 * t)).toISOString() });
      times.push(performance.now() - started);
      enqueued = report.enqueued;
    }
    const calls = meter.since(mark);
    const units = billingUnits(calls);
    const awsMs = calls.reduce((sum, c) => sum + c.ms, 0) / ticks;
    const perTick = (n: number): number => round(n / ticks, 3);
    const medianMs = median(times);
    rows.push({
      credentials,
      ticks,
      medianMs: round(medianMs, 1),
      awsMs: round(awsMs, 1),
      ownMs: round(Math.max(0, medianMs - awsMs), 1),
      ownMsPerCredential: round(Math.max(0, medianMs - awsMs) / credentials, 3),
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
  return formatTable(
    [
      { header: 'credentials' },
      { header: 'per tick (ms)' },
      { header: 'in AWS calls (moto)' },
      { header: 'handler own' },
      { header: 'own per credential' },
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
      r.enqueuedPerTick,
      r.queueDepthAfter,
      Object.entries(r.callsPerTick).map(([k, v]) => `${k} ${v}`).join(', '),
    ]),
  );
}
