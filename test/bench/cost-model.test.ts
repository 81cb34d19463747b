import { describe, expect, it } from 'vitest';
import { costModel, priceText, runsPerMonth, type CostInputs, type EgressFacts } from '../../bench/lib/cost-model';
import { PRICES, type PriceTable } from '../../bench/lib/prices';
import { AL2023_ROOT_VOLUME_GB, stackFacts } from '../../bench/sections/stack';
import { EGRESS_MODES, type EgressMode } from '../../lib/config';
import { CREDENTIAL_METRICS, SPARSE_CREDENTIAL_METRICS } from '../../lambdas/shared/metric-names';

// Round prices make the expected figures checkable by hand.
const prices: PriceTable = {
  ...PRICES,
  lambdaArmGbSecond: { ...PRICES.lambdaArmGbSecond, usd: 0.00001 },
  lambdaRequest: { ...PRICES.lambdaRequest, usd: 0.0000002 },
  dynamoReadRequestUnit: { ...PRICES.dynamoReadRequestUnit, usd: 0.0000001 },
  dynamoWriteRequestUnit: { ...PRICES.dynamoWriteRequestUnit, usd: 0.000001 },
  sqsFifoRequest: { ...PRICES.sqsFifoRequest, usd: 0.0000005 },
  secretMonth: { ...PRICES.secretMonth, usd: 0.4 },
  secretsApiCall: { ...PRICES.secretsApiCall, usd: 0.000005 },
  customMetricMonth: { ...PRICES.customMetricMonth, usd: 0.3 },
  alarmMonth: { ...PRICES.alarmMonth, usd: 0.1 },
  dashboardMonth: { ...PRICES.dashboardMonth, usd: 3 },
  kmsKeyMonth: { ...PRICES.kmsKeyMonth, usd: 1 },
  natGatewayHour: { ...PRICES.natGatewayHour, usd: 0.05 },
  natGatewayGb: { ...PRICES.natGatewayGb, usd: 0.05 },
  publicIpv4Hour: { ...PRICES.publicIpv4Hour, usd: 0.005 },
  ec2T4gNanoHour: { ...PRICES.ec2T4gNanoHour, usd: 0.004 },
  ebsGp3GbMonth: { ...PRICES.ebsGp3GbMonth, usd: 0.1 },
};

const noEgress: EgressFacts = { alarms: 6, natGateways: 0, natInstances: 0, publicIps: 0, volumeGb: 0 };
const egress: Record<EgressMode, EgressFacts> = {
  'nat-instance': { alarms: 9, natGateways: 0, natInstances: 1, publicIps: 1, volumeGb: 8 },
  'nat-gateway': { alarms: 7, natGateways: 1, natInstances: 0, publicIps: 1, volumeGb: 0 },
  none: noEgress,
};

const inputs: CostInputs = {
  scheduleMinutes: 5,
  worker: { memoryMb: 512, runMs: 100 },
  workerColdInitMs: 400,
  coldRunFraction: 0,
  fanOut: { memoryMb: 256, fixedMs: 40, msPerCredential: 0.5 },
  perRun: { dynamoReadUnits: 1, dynamoWriteUnits: 3, secretsCalls: 1, sqsRequests: 2 },
  fanOutPerCredential: { dynamoReadUnits: 0.5, sqsRequests: 0.1 },
  metricsPerCredential: 13,
  metricsPerDeployment: 13,
  insightsAlarmMetricsPerCredential: 3,
  dashboards: 1,
  kmsKeys: 2,
  bunqBytesPerRun: 1024 ** 3 / 8760,
  egress,
};

const line = (report: ReturnType<typeof costModel>, item: string, mode?: EgressMode): number => {
  const found = report.lines.find((l) => l.item === item && l.mode === mode);
  if (found === undefined) throw new Error(`no line ${item}${mode !== undefined ? ` [${mode}]` : ''}`);
  return found.monthlyUsd;
};

describe('costModel', () => {
  it('runs every 5 minutes are 8,760 a month (730 h)', () => {
    expect(runsPerMonth(5)).toBe(8760);
    expect(runsPerMonth(1)).toBe(43_800);
    expect(() => runsPerMonth(0)).toThrow(/positive/);
  });

  it('computes each line from runs × usage × price', () => {
    const r = costModel(inputs, prices);
    expect(r.runsPerMonth).toBe(8760);
    expect(line(r, 'worker Lambda requests')).toBeCloseTo(8760 * 0.0000002, 10);
    // 8,760 × 0.1 s × 0.5 GB × $0.00001
    expect(line(r, 'worker Lambda duration')).toBeCloseTo(0.00438, 10);
    expect(line(r, 'DynamoDB reads')).toBeCloseTo(8760 * 1.5 * 0.0000001, 10);
    expect(line(r, 'DynamoDB writes')).toBeCloseTo(8760 * 3 * 0.000001, 10);
    expect(line(r, 'SQS FIFO requests')).toBeCloseTo(8760 * 2.1 * 0.0000005, 10);
    expect(line(r, 'Secrets Manager secret')).toBe(0.4);
    expect(line(r, 'CloudWatch custom metrics (per credential)')).toBeCloseTo(3.9, 10);
    expect(line(r, 'CloudWatch alarms', 'none')).toBeCloseTo(0.6, 10);
    // Per credential: each metric it adds to a Metrics Insights alarm's query.
    expect(line(r, 'CloudWatch Metrics Insights alarms (per credential)')).toBeCloseTo(0.3, 10);
    expect(r.lines.find((l) => l.item === 'CloudWatch Metrics Insights alarms (per credential)')?.scope).toBe('credential');
    expect(line(r, 'CloudWatch dashboard')).toBe(3);
    expect(line(r, 'KMS customer managed keys')).toBe(2);
  });

  it('bills the cold-start init on the given share of runs', () => {
    const cold = costModel({ ...inputs, coldRunFraction: 1 }, prices);
    // (100 + 400) ms instead of 100 ms: five times the warm duration cost.
    expect(line(cold, 'worker Lambda duration')).toBeCloseTo(0.00438 * 5, 10);
    expect(() => costModel({ ...inputs, coldRunFraction: 2 }, prices)).toThrow(/coldRunFraction/);
  });

  it('prices each egress mode side by side, keyed by the mode\'s name', () => {
    const r = costModel(inputs, prices);
    expect(Object.keys(r.singleCredentialDeployment).sort()).toEqual([...EGRESS_MODES].sort());
    // nat-instance: 730 h × $0.004 + 8 GiB × $0.1 + 730 h × $0.005 (its Elastic IP), 3 alarms more than none.
    expect(line(r, 'NAT instance hours (t4g.nano)', 'nat-instance')).toBeCloseTo(2.92, 10);
    expect(line(r, 'NAT instance root volume (gp3)', 'nat-instance')).toBeCloseTo(0.8, 10);
    expect(line(r, 'public IPv4 (the Elastic IP)', 'nat-instance')).toBeCloseTo(3.65, 10);
    expect(r.singleCredentialDeployment['nat-instance'] - r.singleCredentialDeployment.none).toBeCloseTo(2.92 + 0.8 + 3.65 + 0.3, 10);
    // nat-gateway: 730 h × $0.05, the Elastic IP, 1 GiB processed a month (8,760 runs × 1 GiB / 8,760), 1 alarm more.
    expect(line(r, 'NAT gateway hours', 'nat-gateway')).toBeCloseTo(36.5, 10);
    expect(line(r, 'NAT gateway data processed', 'nat-gateway')).toBeCloseTo(0.05, 10);
    expect(r.singleCredentialDeployment['nat-gateway'] - r.singleCredentialDeployment.none).toBeCloseTo(36.5 + 3.65 + 0.05 + 0.1, 10);
    // Per credential only the gateway's per-GB charge differs: a NAT instance bills no processing.
    expect(r.perCredential['nat-gateway'] - r.perCredential.none).toBeCloseTo(0.05, 10);
    expect(r.perCredential['nat-instance']).toBeCloseTo(r.perCredential.none, 12);
    const credential = r.lines.filter((l) => l.scope === 'credential' && l.mode === undefined).reduce((s, l) => s + l.monthlyUsd, 0);
    expect(r.perCredential.none).toBeCloseTo(credential, 12);
    expect(r.lines.filter((l) => l.mode === 'none').map((l) => l.item)).toEqual(['CloudWatch alarms']);
  });

  it('the default egress (nat-instance) keeps one credential at most $15 a month with the issue-12 metric set', () => {
    // Real list prices; the measured shape of a run (bench/results.json); the metric set of issue 12:
    // RunFailed and DriftRemaining per credential, three Metrics Insights alarm metrics, DriftFound,
    // OperationsApplied and OperationsFailed service-wide (the sparse ones bill nothing while healthy).
    const measured: CostInputs = {
      ...inputs,
      worker: { memoryMb: 512, runMs: 80 },
      workerColdInitMs: 140,
      fanOut: { memoryMb: 256, fixedMs: 15, msPerCredential: 0.8 },
      perRun: { dynamoReadUnits: 1, dynamoWriteUnits: 2, secretsCalls: 1, sqsRequests: 2 },
      fanOutPerCredential: { dynamoReadUnits: 0.0005, sqsRequests: 0.1 },
      metricsPerCredential: 2,
      metricsPerDeployment: 3,
      dashboards: 1,
      kmsKeys: 1,
      bunqBytesPerRun: 2211,
      egress: {
        // Standard alarms (DeadLetters, OldestRequest, FanOutStopped, HandlerErrors; + the NAT instance's two).
        'nat-instance': { alarms: 6, natGateways: 0, natInstances: 1, publicIps: 1, volumeGb: AL2023_ROOT_VOLUME_GB },
        'nat-gateway': { alarms: 4, natGateways: 1, natInstances: 0, publicIps: 1, volumeGb: 0 },
        none: { alarms: 4, natGateways: 0, natInstances: 0, publicIps: 0, volumeGb: 0 },
      },
    };
    const r = costModel(measured, PRICES);
    const natInstanceOwn = r.lines.filter((l) => l.mode === 'nat-instance' && l.item !== 'CloudWatch alarms').reduce((s, l) => s + l.monthlyUsd, 0);
    expect(natInstanceOwn).toBeCloseTo(730 * 0.0042 + 8 * 0.08 + 730 * 0.005, 10);
    expect(natInstanceOwn).toBeLessThan(8);
    expect(r.singleCredentialDeployment['nat-instance']).toBeLessThanOrEqual(15);
    expect(r.singleCredentialDeployment['nat-gateway']).toBeGreaterThan(r.singleCredentialDeployment['nat-instance'] + 30);
  });

  it('counts the NAT parts of each mode from the synthesized stack', () => {
    const facts = Object.fromEntries(EGRESS_MODES.map((m) => [m, stackFacts(m)])) as Record<EgressMode, ReturnType<typeof stackFacts>>;
    expect(facts['nat-instance']).toMatchObject({ natInstances: 1, natGateways: 0, elasticIps: 1, volumeGb: AL2023_ROOT_VOLUME_GB });
    expect(facts['nat-gateway']).toMatchObject({ natInstances: 0, natGateways: 1, elasticIps: 1, volumeGb: 0 });
    expect(facts.none).toMatchObject({ natInstances: 0, natGateways: 0, elasticIps: 0, volumeGb: 0 });
    // The NAT instance's status-check alarms; no ActiveWildcard alarm without a fixed egress.
    expect(facts['nat-instance'].alarms - facts['nat-gateway'].alarms).toBe(2);
    expect(facts['nat-gateway'].alarms).toBe(facts.none.alarms);
    expect(facts['nat-gateway'].insightsAlarmMetrics).toContain('ActiveWildcard');
    expect(facts.none.insightsAlarmMetrics).not.toContain('ActiveWildcard');
  }, 60_000);

  it('refuses a negative or missing measurement instead of pricing it', () => {
    expect(() => costModel({ ...inputs, worker: { memoryMb: 512, runMs: Number.NaN } }, prices)).toThrow(/worker.runMs/);
    expect(() => costModel({ ...inputs, egress: { ...egress, none: { ...noEgress, alarms: -1 } } }, prices)).toThrow(/egress.none.alarms/);
  });

  it('every price says where it came from', () => {
    for (const [name, p] of Object.entries(PRICES)) {
      expect(p.usd, name).toBeGreaterThan(0);
      expect(p.source.length, name).toBeGreaterThan(10);
      expect(p.region.length, name).toBeGreaterThan(0);
    }
  });
});

describe('the metric set at list prices (issue 12: at most $1.50 per credential-month)', () => {
  it('a healthy credential costs at most $1.50 a month, from the metric contract and measured run figures', () => {
    const continuous = [...CREDENTIAL_METRICS].filter((m) => !SPARSE_CREDENTIAL_METRICS.has(m));
    expect(continuous).toEqual(['RunFailed', 'DriftRemaining']);
    const r = costModel({
      ...inputs,
      // As `npm run bench -- --quick` measured on 2026-12-01 (149 ms warm run, 1 RRU, 2 WRU, 1 secret read).
      worker: { memoryMb: 512, runMs: 149 },
      perRun: { dynamoReadUnits: 1, dynamoWriteUnits: 2, secretsCalls: 1, sqsRequests: 2 },
      fanOutPerCredential: { dynamoReadUnits: 0, sqsRequests: 0.1 },
      metricsPerCredential: continuous.length,
      // RunsFailing and NoSuccessfulRun query RunFailed, DriftRemaining queries DriftRemaining.
      insightsAlarmMetricsPerCredential: 3,
    }, PRICES);
    expect(r.perCredential.none).toBeLessThanOrEqual(1.5);
    expect(r.perCredential['nat-instance']).toBeCloseTo(r.perCredential.none, 12);
  });
});

describe('priceText', () => {
  it('prints unit prices without floating-point noise', () => {
    expect(priceText(0.2 / 1_000_000)).toBe('$2e-7');
    expect(priceText(0.0000133334)).toBe('$0.0000133334');
    expect(priceText(0.048)).toBe('$0.048');
  });
});
