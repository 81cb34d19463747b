import { describe, expect, it } from 'vitest';
import { costModel, priceText, runsPerMonth, type CostInputs } from '../../bench/lib/cost-model';
import { PRICES, type PriceTable } from '../../bench/lib/prices';
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
  alarms: 6,
  insightsAlarmMetricsPerCredential: 3,
  dashboards: 1,
  kmsKeys: 2,
};

const line = (report: ReturnType<typeof costModel>, item: string): number => {
  const found = report.lines.find((l) => l.item === item);
  if (found === undefined) throw new Error(`no line ${item}`);
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
    expect(line(r, 'CloudWatch alarms')).toBeCloseTo(0.6, 10);
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

  it('separates per-credential from deployment-wide cost and NAT from no NAT', () => {
    const r = costModel({ ...inputs, nat: { gateways: 1, publicIps: 1, bytesPerRun: 1024 ** 3 / 8760 } }, prices);
    expect(line(r, 'NAT gateway hours')).toBeCloseTo(730 * 0.05, 10);
    expect(line(r, 'NAT public IPv4 (Elastic IP)')).toBeCloseTo(730 * 0.005, 10);
    // 8,760 runs × (1 GiB / 8,760) = 1 GiB processed.
    expect(line(r, 'NAT data processed')).toBeCloseTo(0.05, 10);
    const credential = r.lines.filter((l) => l.scope === 'credential' && !l.natOnly).reduce((s, l) => s + l.monthlyUsd, 0);
    expect(r.perCredential.withoutNat).toBeCloseTo(credential, 12);
    expect(r.perCredential.withNat - r.perCredential.withoutNat).toBeCloseTo(0.05, 10);
    expect(r.singleCredentialDeployment.withNat - r.singleCredentialDeployment.withoutNat).toBeCloseTo(36.5 + 3.65 + 0.05, 10);
    const plain = costModel(inputs, prices);
    expect(plain.lines.some((l) => l.natOnly)).toBe(false);
    expect(plain.singleCredentialDeployment.withNat).toBe(plain.singleCredentialDeployment.withoutNat);
  });

  it('refuses a negative or missing measurement instead of pricing it', () => {
    expect(() => costModel({ ...inputs, worker: { memoryMb: 512, runMs: Number.NaN } }, prices)).toThrow(/worker.runMs/);
    expect(() => costModel({ ...inputs, alarms: -1 }, prices)).toThrow(/alarms/);
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
    expect(r.perCredential.withoutNat).toBeLessThanOrEqual(1.5);
  });
});

describe('priceText', () => {
  it('prints unit prices without floating-point noise', () => {
    expect(priceText(0.2 / 1_000_000)).toBe('$2e-7');
    expect(priceText(0.0000133334)).toBe('$0.0000133334');
    expect(priceText(0.048)).toBe('$0.048');
  });
});
