import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { metricNameFor, type BunqErrorKind } from '../bunq/errors';
import { classifyEntries } from '../core/actual';
import type { ExecutionResult, OperationOutcome } from '../core/types';
import { CREDENTIAL_CLAIMED_TWICE_KIND } from './credential-owner';
import { entriesAfterRun, runVerdict } from './run-verdict';
import { DIMENSION_CREDENTIAL, METRICS_NAMESPACE, MetricName, SERVICE_NAME } from '../shared/metric-names';

/**
 * Publishes one run as CloudWatch EMF (a JSON line on stdout that CloudWatch turns into metrics).
 *
 * Powertools 2.36 can emit several dimension sets in one EMF record: every `addDimensions()` call
 * adds a set, to which the default dimension {service} is prepended. So `addDimensions({})` yields
 * the alarm set [service] and `addDimensions({credential})` the drill-down set [service, credential],
 * and every metric in the record is published under both.
 */

const BUNQ_ERROR_KINDS: ReadonlySet<string> = new Set<BunqErrorKind>([
  'credentials-rejected',
  'session-expired',
  'signature-required',
  'signature-invalid',
  'response-signature-invalid',
  'rate-limited',
  'maintenance',
  'not-found',
  'bad-request',
  'forbidden',
  'server-error',
  'malformed-reply',
  'timeout',
  'network',
  'outcome-unknown',
]);

export function isBunqErrorKind(kind: string): kind is BunqErrorKind {
  return BUNQ_ERROR_KINDS.has(kind);
}

const SUCCEEDED: ReadonlySet<OperationOutcome> = new Set<OperationOutcome>([
  'applied',
  'applied-as-add',
  'confirmed-after-reread',
]);

export interface MetricPoint {
  name: string;
  unit: 'Count' | 'Milliseconds';
  value: number;
}

/** The metric values of one finished run (pure, so it is tested without parsing stdout). */
export function metricsForResult(result: ExecutionResult): MetricPoint[] {
  const count = (name: string, value: number): MetricPoint => ({ name, unit: 'Count', value });
  const applied = result.operations.filter((o) => SUCCEEDED.has(o.outcome)).length;
  const failed = result.operations.filter((o) => o.outcome === 'failed').length;
  const runFailed = !runVerdict(result).ok;
  // Without a successful read we know nothing about the credential's entries: publishing 0 drift,
  // 0 blocked or 0 active IPs would tell the alarms "all is well" while bunq is unreachable. Those
  // metrics are left out, so the alarms keep their state (missing data) and RunFailed speaks.
  const entries = entriesAfterRun(result);
  const points: MetricPoint[] = [];
  if (entries !== null) {
    points.push(
      count(MetricName.DriftFound, result.plan.drift.length),
      // Each planned operation resolves exactly one drift item; what did not succeed is still there.
      count(MetricName.DriftRemaining, Math.max(0, result.plan.drift.length - applied)),
    );
  }
  points.push(count(MetricName.OperationsApplied, applied), count(MetricName.OperationsFailed, failed));
  if (entries !== null) {
    // The wildcard guard is always "blocking" while an ACTIVE `*` exists; ActiveWildcard alarms on
    // that, so counting it here too would keep the guard alarm up for every wildcard-key credential.
    points.push(count(MetricName.OperationsBlocked, result.plan.blocked.filter((b) => b.guard !== 'wildcard-untouchable').length));
  }
  points.push(
    count(MetricName.InvalidDesiredEntries, result.plan.invalid.length),
    count(MetricName.RunSucceeded, runFailed ? 0 : 1),
    count(MetricName.RunFailed, runFailed ? 1 : 0),
    count(MetricName.BunqCalls, result.reads + result.writes),
    { name: MetricName.RunDuration, unit: 'Milliseconds', value: result.durationMs },
  );
  if (entries !== null) {
    const active = entries.filter((e) => e.status === 'ACTIVE');
    points.push(count(MetricName.ActiveIpCount, active.filter((e) => e.ip !== '*').length));
    points.push(count(MetricName.ActiveWildcard, active.some((e) => e.ip === '*') ? 1 : 0));
    points.push(count(MetricName.UnrecognisedEntries, classifyEntries(entries).unrecognised.length));
  }
  const kinds = [result.error?.kind, ...result.operations.map((o) => o.error?.kind)];
  points.push(...bunqErrorPoints(kinds));
  return points;
}

/** The metric values of a run that failed before the reconcile could report (secret, config, ...). */
export function metricsForFailure(errorKind: string | undefined, durationMs: number): MetricPoint[] {
  return [
    { name: MetricName.RunSucceeded, unit: 'Count', value: 0 },
    { name: MetricName.RunFailed, unit: 'Count', value: 1 },
    { name: MetricName.RunDuration, unit: 'Milliseconds', value: durationMs },
    ...bunqErrorPoints([errorKind]),
    ...(errorKind === CREDENTIAL_CLAIMED_TWICE_KIND ? [{ name: MetricName.CredentialClaimedTwice, unit: 'Count' as const, value: 1 }] : []),
  ];
}

/** One count per distinct kind: a run's error often repeats the failed operation's error. */
function bunqErrorPoints(kinds: Array<string | undefined>): MetricPoint[] {
  const distinct = new Set(kinds.filter((k): k is BunqErrorKind => k !== undefined && isBunqErrorKind(k)));
  return [...distinct].map((kind) => ({ name: metricNameFor(kind), unit: 'Count', value: 1 }));
}

/**
 * Credentials a trigger skipped because their name cannot be a queue message group (count, under
 * {service} only: the name itself is the problem, so it is no dimension).
 */
export const CREDENTIALS_SKIPPED_METRIC = MetricName.CredentialsSkipped;

/** Metrics of a trigger (fan-out, stream), not of one credential's run. */
export interface ServiceMetrics {
  publishService(points: MetricPoint[]): void;
}

export function createServiceMetrics(options: { namespace?: string; serviceName?: string } = {}): ServiceMetrics {
  const metrics = new Metrics({
    namespace: options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
  });
  return {
    publishService(points) {
      for (const p of points) {
        metrics.addMetric(p.name, p.unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds, p.value);
      }
      // No addDimensions: the record carries the default {service} set only.
      metrics.publishStoredMetrics();
    },
  };
}

/** Logs each refused credential and counts them; never a reason to fail the trigger's invocation. */
export function reportSkippedCredentials(
  refused: ReadonlyArray<{ credential: string; reason: string }>,
  metrics: ServiceMetrics | undefined,
  logger: { error(message: string, attributes?: Record<string, unknown>): void },
  trigger: string,
): void {
  if (refused.length === 0) return;
  for (const r of refused) {
    logger.error('credential skipped: its name cannot be queued; rename it in DesiredIps', { trigger, credential: r.credential, reason: r.reason });
  }
  metrics?.publishService([{ name: CREDENTIALS_SKIPPED_METRIC, unit: 'Count', value: refused.length }]);
}

export interface RunMetrics {
  publish(credential: string, points: MetricPoint[]): void;
}

export function createRunMetrics(
  options: { namespace?: string; serviceName?: string } = {},
): RunMetrics {
  const metrics = new Metrics({
    namespace: options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
  });
  return {
    publish(credential, points) {
      for (const p of points) {
        metrics.addMetric(p.name, p.unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds, p.value);
      }
      metrics.addDimensions({});
      metrics.addDimensions({ [DIMENSION_CREDENTIAL]: credential });
      // One EMF record per credential: a worker batch can hold several credentials.
      metrics.publishStoredMetrics();
    },
  };
}
