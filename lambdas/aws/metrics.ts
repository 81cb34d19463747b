import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { classifyEntries } from '../core/actual';
import { decisionOf } from '../core/errors';
import { entriesAfterRun, isApplied, runVerdict } from '../core/outcome';
import type { ExecutionResult } from '../core/types';
import {
  DIMENSION_CREDENTIAL,
  METRICS_NAMESPACE,
  MetricName,
  SERVICE_NAME,
  SPARSE_CREDENTIAL_METRICS,
  scopeOf,
  type MetricScope,
} from '../shared/metric-names';

/**
 * Publishes one run as CloudWatch EMF (a JSON line on stdout that CloudWatch turns into metrics).
 *
 * Each metric has exactly one dimension set (metric-names.ts says which): a run writes one EMF
 * record under {service, credential} for what the per-credential alarms and the dashboard read,
 * and one under {service} for the service-wide counts. Both records carry the credential as a
 * plain property (not a dimension), so Logs Insights can still break every figure down per
 * credential at no metric cost. Sparse per-credential metrics are left out while they are 0.
 */

export interface MetricPoint {
  name: string;
  unit: 'Count' | 'Milliseconds';
  value: number;
  /** The dimension set it goes out under: {service, credential} or {service}. */
  scope: MetricScope;
}

function count(name: string, value: number): MetricPoint {
  return { name, unit: 'Count', value, scope: scopeOf(name) };
}

/** Sparse per-credential metrics are billed only in hours they are sent: a 0 is not sent. */
function dropQuietSparse(points: MetricPoint[]): MetricPoint[] {
  return points.filter((p) => !(SPARSE_CREDENTIAL_METRICS.has(p.name) && p.value === 0));
}

/** The metric values of one finished run (pure, so it is tested without parsing stdout). */
export function metricsForResult(result: ExecutionResult): MetricPoint[] {
  const applied = result.operations.filter((o) => isApplied(o.outcome)).length;
  const failed = result.operations.filter((o) => o.outcome === 'failed').length;
  const runFailed = !runVerdict(result).ok;
  // Without a successful read we know nothing about the credential's entries: publishing 0 drift
  // would tell the drift alarm "all is well" while bunq is unreachable. Those metrics are left
  // out, so the alarms keep their state (missing data) and RunFailed speaks.
  const entries = entriesAfterRun(result);
  const points: MetricPoint[] = [count(MetricName.RunFailed, runFailed ? 1 : 0)];
  if (entries !== null) {
    points.push(
      // Each planned operation resolves exactly one drift item; what did not succeed is still there.
      count(MetricName.DriftRemaining, Math.max(0, result.plan.drift.length - applied)),
      count(MetricName.DriftFound, result.plan.drift.length),
      // The wildcard guard is always "blocking" while an ACTIVE `*` exists; ActiveWildcard alarms on
      // that, so counting it here too would keep the guard alarm up for every wildcard-key credential.
      count(MetricName.OperationsBlocked, result.plan.blocked.filter((b) => b.guard !== 'wildcard-untouchable').length),
      count(MetricName.ActiveWildcard, entries.some((e) => e.status === 'ACTIVE' && e.ip === '*') ? 1 : 0),
      // Entries bunq lists that we cannot use (unknown status, no usable id, an IP that is neither
      // IPv4 nor `*`), as they stand after the run; never changed, their IP never POSTed again.
      count(MetricName.UnrecognisedEntries, classifyEntries(entries).unrecognised.length),
    );
  }
  points.push(
    count(MetricName.OperationsApplied, applied),
    count(MetricName.OperationsFailed, failed),
    count(MetricName.InvalidDesiredEntries, result.plan.invalid.length),
  );
  const kinds = [result.error?.kind, ...result.operations.map((o) => o.error?.kind)];
  points.push(...errorKindPoints(kinds));
  return dropQuietSparse(points);
}

/** The metric values of a run that failed before the reconcile could report (secret, config, ...). */
export function metricsForFailure(errorKind: string | undefined): MetricPoint[] {
  return [count(MetricName.RunFailed, 1), ...errorKindPoints([errorKind])];
}

/**
 * One count per distinct kind with a metric of its own (lambdas/core/errors.ts ERROR_KINDS): a
 * run's error often repeats the failed operation's error. RunFailed counts the others already.
 */
function errorKindPoints(kinds: Array<string | undefined>): MetricPoint[] {
  const names = new Set(kinds.flatMap((k) => (k === undefined ? [] : [decisionOf(k).metric])));
  names.delete(MetricName.RunFailed);
  return [...names].map((name) => count(name, 1));
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
  metrics?.publishService([count(CREDENTIALS_SKIPPED_METRIC, refused.length)]);
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
  const emit = (points: readonly MetricPoint[], credential: string, asDimension: boolean): void => {
    if (points.length === 0) return;
    for (const p of points) {
      metrics.addMetric(p.name, p.unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds, p.value);
    }
    // addDimension extends the record's one set to [service, credential]; addMetadata only adds a
    // property, which Logs Insights reads and CloudWatch does not bill as a dimension.
    if (asDimension) metrics.addDimension(DIMENSION_CREDENTIAL, credential);
    else metrics.addMetadata(DIMENSION_CREDENTIAL, credential);
    metrics.publishStoredMetrics();
  };
  return {
    publish(credential, points) {
      // One pair of EMF records per credential: a worker batch can hold several credentials.
      emit(points.filter((p) => p.scope === 'credential'), credential, true);
      emit(points.filter((p) => p.scope === 'service'), credential, false);
    },
  };
}
