/**
 * Monthly AWS cost of the reconciler, per credential and per deployment, from measured inputs and
 * list prices. Pure arithmetic: every line says its formula, so a reader can redo it by hand.
 */
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
  /** Standard alarms (one metric or one math expression each): the deployment-wide ones. */
  alarms: number;
  /**
   * Metrics a credential adds to the Metrics Insights alarms grouped by credential (billed per
   * metric the query analyses): the alarms whose metric that credential emits every run.
   */
  insightsAlarmMetricsPerCredential: number;
  /** Dashboards and customer managed KMS keys in the stack (counted from the template). */
  dashboards: number;
  kmsKeys: number;
  /** Present for the NAT egress option: gateways and Elastic IPs in the stack, bytes per worker run. */
  nat?: { gateways: number; publicIps: number; bytesPerRun: number };
}

export type CostScope = 'credential' | 'deployment';

export interface CostLine {
  item: string;
  scope: CostScope;
  monthlyUsd: number;
  formula: string;
  /** Only with the NAT egress option. */
  natOnly: boolean;
}

export interface CostReport {
  runsPerMonth: number;
  lines: CostLine[];
  /** What each credential adds (credential-scope lines), without and with NAT traffic. */
  perCredential: { withoutNat: number; withNat: number };
  /** A deployment with one credential: everything, without and with the NAT option. */
  singleCredentialDeployment: { withoutNat: number; withNat: number };
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
    ['alarms', i.alarms],
    ['insightsAlarmMetricsPerCredential', i.insightsAlarmMetricsPerCredential],
    ['dashboards', i.dashboards],
    ['kmsKeys', i.kmsKeys],
  ];
  if (i.nat) {
    nonNegative.push(['nat.gateways', i.nat.gateways], ['nat.publicIps', i.nat.publicIps], ['nat.bytesPerRun', i.nat.bytesPerRun]);
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
  const add = (item: string, scope: CostScope, monthlyUsd: number, formula: string, natOnly = false): void => {
    lines.push({ item, scope, monthlyUsd, formula, natOnly });
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
  add('CloudWatch alarms', 'deployment', inputs.alarms * prices.alarmMonth.usd, `${inputs.alarms} alarms × ${priceText(prices.alarmMonth.usd)}`);
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

  if (inputs.nat) {
    const { gateways, publicIps, bytesPerRun } = inputs.nat;
    add(
      'NAT gateway hours',
      'deployment',
      gateways * HOURS_PER_MONTH * prices.natGatewayHour.usd,
      `${gateways} × ${HOURS_PER_MONTH} h × ${priceText(prices.natGatewayHour.usd)}`,
      true,
    );
    add(
      'NAT public IPv4 (Elastic IP)',
      'deployment',
      publicIps * HOURS_PER_MONTH * prices.publicIpv4Hour.usd,
      `${publicIps} × ${HOURS_PER_MONTH} h × ${priceText(prices.publicIpv4Hour.usd)}`,
      true,
    );
    add(
      'NAT data processed',
      'credential',
      ((runs * bytesPerRun) / GB) * prices.natGatewayGb.usd,
      `${runs} × ${bytesPerRun} B / 1 GiB × ${priceText(prices.natGatewayGb.usd)}`,
      true,
    );
  }

  const sum = (pick: (l: CostLine) => boolean): number => lines.filter(pick).reduce((s, l) => s + l.monthlyUsd, 0);
  return {
    runsPerMonth: runs,
    lines,
    perCredential: {
      withoutNat: sum((l) => l.scope === 'credential' && !l.natOnly),
      withNat: sum((l) => l.scope === 'credential'),
    },
    singleCredentialDeployment: {
      withoutNat: sum((l) => !l.natOnly),
      withNat: sum(() => true),
    },
  };
}
