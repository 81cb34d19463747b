/**
 * Monthly AWS cost of the reconciler, per credential and per deployment, from measured inputs and
 * list prices. Pure arithmetic: every line says its formula, so a reader can redo it by hand.
 */
import { EGRESS_MODES, type EgressMode } from '../../lib/config';
import type { PriceTable } from './prices';

/** AWS bills a month as 730 hours. */
export const HOURS_PER_MONTH = 730;

export interface CostInputs {
  scheduleMinutes: number;
  /** The worker Lambda: memory and billed duration of one scheduled run (measured). */
  worker: { memoryMb: number; runMs: number };
  /** Init duration of a cold worker (measured cold start); billed on the runs that start cold. */
  workerColdInitMs: number;
  /** Share of runs that start a new container: 0 (always warm) .. 1 (always cold). */
  coldRunFraction: number;
  /** The fan-out Lambda: one invocation per tick for the whole deployment. */
  fanOut: { memoryMb: number; fixedMs: number; msPerCredential: number };
  /** AWS usage of one worker run (measured by counting SDK calls). */
  perRun: { dynamoReadUnits: number; dynamoWriteUnits: number; secretsCalls: number; sqsRequests: number };
  /** AWS usage the fan-out spends per credential per tick (scan share, send share). */
  fanOutPerCredential: { dynamoReadUnits: number; sqsRequests: number };
  /**
   * Custom metrics (name × dimension set) one credential adds, and the deployment-wide ones, as a
   * steady (healthy) run emits them: sparse metrics sent only while above 0 are billed only in the
   * hours they are sent.
   */
  metricsPerCredential: number;
  metricsPerDeployment: number;
  /**
   * Metrics a credential adds to the Metrics Insights alarms grouped by credential (billed per
   * metric the query analyses): the alarms whose metric that credential emits every run.
   */
  insightsAlarmMetricsPerCredential: number;
  /** Dashboards and customer managed KMS keys in the stack (counted from the template). */
  dashboards: number;
  kmsKeys: number;
  /** The bunq HTTP bytes of one worker run (what a NAT gateway bills per GB). */
  bunqBytesPerRun: number;
  /** What each egress mode's synthesized stack holds (counted from the template). */
  egress: Readonly<Record<EgressMode, EgressFacts>>;
}

/** The parts of a stack that differ between egress modes. */
export interface EgressFacts {
  /** Standard alarms in the stack (the NAT instance's status checks among them); Metrics Insights alarms are priced per credential. */
  alarms: number;
  natGateways: number;
  natInstances: number;
  /** Public IPv4 addresses the stack holds (its Elastic IP). */
  publicIps: number;
  /** EBS root volume of the NAT instances, GiB in all. */
  volumeGb: number;
}

export type CostScope = 'credential' | 'deployment';

export interface CostLine {
  item: string;
  scope: CostScope;
  monthlyUsd: number;
  formula: string;
  /** The one egress mode this line belongs to; absent: the same in every mode. */
  mode?: EgressMode;
}

export interface CostReport {
  runsPerMonth: number;
  lines: CostLine[];
  /** What each credential adds (credential-scope lines), per egress mode. */
  perCredential: Record<EgressMode, number>;
  /** A deployment with one credential: everything, per egress mode (keyed by the mode's name). */
  singleCredentialDeployment: Record<EgressMode, number>;
}

export function runsPerMonth(scheduleMinutes: number): number {
  if (!(Number.isFinite(scheduleMinutes) && scheduleMinutes > 0)) {
    throw new Error(`scheduleMinutes must be a positive number, got ${scheduleMinutes}`);
  }
  return (HOURS_PER_MONTH * 60) / scheduleMinutes;
}

function checkInputs(i: CostInputs): void {
  const nonNegative: Array<[string, number]> = [
    ['worker.memoryMb', i.worker.memoryMb],
    ['worker.runMs', i.worker.runMs],
    ['workerColdInitMs', i.workerColdInitMs],
    ['fanOut.memoryMb', i.fanOut.memoryMb],
    ['fanOut.fixedMs', i.fanOut.fixedMs],
    ['fanOut.msPerCredential', i.fanOut.msPerCredential],
    ['perRun.dynamoReadUnits', i.perRun.dynamoReadUnits],
    ['perRun.dynamoWriteUnits', i.perRun.dynamoWriteUnits],
    ['perRun.secretsCalls', i.perRun.secretsCalls],
    ['perRun.sqsRequests', i.perRun.sqsRequests],
    ['fanOutPerCredential.dynamoReadUnits', i.fanOutPerCredential.dynamoReadUnits],
    ['fanOutPerCredential.sqsRequests', i.fanOutPerCredential.sqsRequests],
    ['metricsPerCredential', i.metricsPerCredential],
    ['metricsPerDeployment', i.metricsPerDeployment],
    ['insightsAlarmMetricsPerCredential', i.insightsAlarmMetricsPerCredential],
    ['dashboards', i.dashboards],
    ['kmsKeys', i.kmsKeys],
    ['bunqBytesPerRun', i.bunqBytesPerRun],
  ];
  for (const mode of EGRESS_MODES) {
    const facts = i.egress[mode];
    for (const [name, v] of Object.entries(facts)) nonNegative.push([`egress.${mode}.${name}`, v as number]);
  }
  for (const [name, v] of nonNegative) {
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`cost input ${name} must be a number >= 0, got ${v}`);
  }
  if (!(i.coldRunFraction >= 0 && i.coldRunFraction <= 1)) {
    throw new Error(`coldRunFraction must be within 0..1, got ${i.coldRunFraction}`);
  }
}

const GB = 1024 ** 3;

/** A unit price without floating-point noise ("$2e-7", not "$2.0000000000000002e-7"). */
export function priceText(usd: number): string {
  return `$${Number(usd.toPrecision(6))}`;
}

export function costModel(inputs: CostInputs, prices: PriceTable): CostReport {
  checkInputs(inputs);
  const runs = runsPerMonth(inputs.scheduleMinutes);
  const lines: CostLine[] = [];
  const add = (item: string, scope: CostScope, monthlyUsd: number, formula: string, mode?: EgressMode): void => {
    lines.push({ item, scope, monthlyUsd, formula, ...(mode !== undefined ? { mode } : {}) });
  };

  const workerGb = inputs.worker.memoryMb / 1024;
  const billedMs = inputs.worker.runMs + inputs.coldRunFraction * inputs.workerColdInitMs;
  add('worker Lambda requests', 'credential', runs * prices.lambdaRequest.usd, `${runs} runs × ${priceText(prices.lambdaRequest.usd)}`);
  add(
    'worker Lambda duration',
    'credential',
    runs * (billedMs / 1000) * workerGb * prices.lambdaArmGbSecond.usd,
    `${runs} runs × (${inputs.worker.runMs.toFixed(0)} ms + ${inputs.coldRunFraction} × ${inputs.workerColdInitMs.toFixed(0)} ms init) × ${workerGb} GB × ${priceText(prices.lambdaArmGbSecond.usd)}/GB-s`,
  );

  const fanOutGb = inputs.fanOut.memoryMb / 1024;
  add('fan-out Lambda requests', 'deployment', runs * prices.lambdaRequest.usd, `${runs} ticks × ${priceText(prices.lambdaRequest.usd)}`);
  add(
    'fan-out Lambda duration (fixed part)',
    'deployment',
    runs * (inputs.fanOut.fixedMs / 1000) * fanOutGb * prices.lambdaArmGbSecond.usd,
    `${runs} ticks × ${inputs.fanOut.fixedMs.toFixed(0)} ms × ${fanOutGb} GB × ${priceText(prices.lambdaArmGbSecond.usd)}/GB-s`,
  );
  add(
    'fan-out Lambda duration (per credential)',
    'credential',
    runs * (inputs.fanOut.msPerCredential / 1000) * fanOutGb * prices.lambdaArmGbSecond.usd,
    `${runs} ticks × ${inputs.fanOut.msPerCredential.toFixed(2)} ms × ${fanOutGb} GB × ${priceText(prices.lambdaArmGbSecond.usd)}/GB-s`,
  );

  const rru = inputs.perRun.dynamoReadUnits + inputs.fanOutPerCredential.dynamoReadUnits;
  add('DynamoDB reads', 'credential', runs * rru * prices.dynamoReadRequestUnit.usd, `${runs} × ${rru.toFixed(2)} RRU × ${priceText(prices.dynamoReadRequestUnit.usd)}`);
  add(
    'DynamoDB writes',
    'credential',
    runs * inputs.perRun.dynamoWriteUnits * prices.dynamoWriteRequestUnit.usd,
    `${runs} × ${inputs.perRun.dynamoWriteUnits.toFixed(2)} WRU × ${priceText(prices.dynamoWriteRequestUnit.usd)}`,
  );
  const sqs = inputs.perRun.sqsRequests + inputs.fanOutPerCredential.sqsRequests;
  add('SQS FIFO requests', 'credential', runs * sqs * prices.sqsFifoRequest.usd, `${runs} × ${sqs.toFixed(2)} requests × ${priceText(prices.sqsFifoRequest.usd)}`);
  add('Secrets Manager secret', 'credential', prices.secretMonth.usd, `1 secret × ${priceText(prices.secretMonth.usd)}`);
  add(
    'Secrets Manager API calls',
    'credential',
    runs * inputs.perRun.secretsCalls * prices.secretsApiCall.usd,
    `${runs} × ${inputs.perRun.secretsCalls.toFixed(2)} calls × ${priceText(prices.secretsApiCall.usd)}`,
  );
  add(
    'CloudWatch custom metrics (per credential)',
    'credential',
    inputs.metricsPerCredential * prices.customMetricMonth.usd,
    `${inputs.metricsPerCredential} metrics × ${priceText(prices.customMetricMonth.usd)}`,
  );
  add(
    'CloudWatch custom metrics (service-wide)',
    'deployment',
    inputs.metricsPerDeployment * prices.customMetricMonth.usd,
    `${inputs.metricsPerDeployment} metrics × ${priceText(prices.customMetricMonth.usd)}`,
  );
  add(
    'CloudWatch Metrics Insights alarms (per credential)',
    'credential',
    inputs.insightsAlarmMetricsPerCredential * prices.alarmMonth.usd,
    `${inputs.insightsAlarmMetricsPerCredential} alarm metrics × ${priceText(prices.alarmMonth.usd)}`,
  );
  add(
    'CloudWatch dashboard',
    'deployment',
    inputs.dashboards * prices.dashboardMonth.usd,
    `${inputs.dashboards} dashboards × ${priceText(prices.dashboardMonth.usd)}`,
  );
  add('KMS customer managed keys', 'deployment', inputs.kmsKeys * prices.kmsKeyMonth.usd, `${inputs.kmsKeys} keys × ${priceText(prices.kmsKeyMonth.usd)}`);

  const hours = (n: number, price: number): string => `${n} × ${HOURS_PER_MONTH} h × ${priceText(price)}`;
  for (const mode of EGRESS_MODES) {
    const e = inputs.egress[mode];
    add('CloudWatch alarms', 'deployment', e.alarms * prices.alarmMonth.usd, `${e.alarms} alarms × ${priceText(prices.alarmMonth.usd)}`, mode);
    if (e.natInstances > 0) {
      add('NAT instance hours (t4g.nano)', 'deployment', e.natInstances * HOURS_PER_MONTH * prices.ec2T4gNanoHour.usd, hours(e.natInstances, prices.ec2T4gNanoHour.usd), mode);
      add('NAT instance root volume (gp3)', 'deployment', e.volumeGb * prices.ebsGp3GbMonth.usd, `${e.volumeGb} GiB × ${priceText(prices.ebsGp3GbMonth.usd)}`, mode);
    }
    if (e.natGateways > 0) {
      add('NAT gateway hours', 'deployment', e.natGateways * HOURS_PER_MONTH * prices.natGatewayHour.usd, hours(e.natGateways, prices.natGatewayHour.usd), mode);
      add(
        'NAT gateway data processed',
        'credential',
        ((runs * inputs.bunqBytesPerRun) / GB) * prices.natGatewayGb.usd,
        `${runs} × ${inputs.bunqBytesPerRun} B / 1 GiB × ${priceText(prices.natGatewayGb.usd)}`,
        mode,
      );
    }
    if (e.publicIps > 0) {
      add('public IPv4 (the Elastic IP)', 'deployment', e.publicIps * HOURS_PER_MONTH * prices.publicIpv4Hour.usd, hours(e.publicIps, prices.publicIpv4Hour.usd), mode);
    }
  }

  const sum = (pick: (l: CostLine) => boolean): number => lines.filter(pick).reduce((s, l) => s + l.monthlyUsd, 0);
  const perMode = (pick: (l: CostLine) => boolean): Record<EgressMode, number> =>
    Object.fromEntries(EGRESS_MODES.map((m) => [m, sum((l) => (l.mode === undefined || l.mode === m) && pick(l))])) as Record<EgressMode, number>;
  return {
    runsPerMonth: runs,
    lines,
    perCredential: perMode((l) => l.scope === 'credential'),
    singleCredentialDeployment: perMode(() => true),
  };
}
