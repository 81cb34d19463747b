/**
 * The contract between the metrics the runtime emits (lambdas/aws/metrics.ts) and the alarms and
 * dashboard the stack builds (lib/). Change a name here and both sides follow.
 *
 * Each metric has one dimension set (issue 12: metrics at a third of the cost). Per credential
 * ({service, credential}) only what an alarm naming the credential, or the dashboard's
 * per-credential graph, reads; everything else is counted service-wide ({service}), and the
 * per-credential detail of those goes to the structured log line of the run (a Logs Insights
 * query on the dashboard). Per-credential metrics marked "sparse" are emitted only when their
 * value is above 0: CloudWatch bills a custom metric for the hours it receives data, so a healthy
 * credential pays for the two continuous ones only.
 */
import { SERVICE_NAME } from './service-name';

export { SERVICE_NAME };
export const METRICS_NAMESPACE = 'BunqIpReconciler';
export const DIMENSION_SERVICE = 'service';
export const DIMENSION_CREDENTIAL = 'credential';

export const MetricName = {
  // ---- {service, credential}, continuous: every run emits them ----
  /** 1 when the run failed (any kind, transient ones included), else 0. RunsFailing, NoSuccessfulRun. */
  RunFailed: 'RunFailed',
  /** Differences still present after the run (blocked, failed, held, observe mode); runs that read bunq only. */
  DriftRemaining: 'DriftRemaining',
  // ---- {service, credential}, sparse: emitted only when above 0 ----
  /** Operations a guard held back (the wildcard guard excluded: ActiveWildcard speaks for it). */
  OperationsBlocked: 'OperationsBlocked',
  /** Desired items that are not valid (deactivations frozen). */
  InvalidDesiredEntries: 'InvalidDesiredEntries',
  /** 1 while an ACTIVE `*` entry is present on the credential. */
  ActiveWildcard: 'ActiveWildcard',
  /** Entries bunq listed that the reconciler cannot use (never changed, never counted ACTIVE). */
  UnrecognisedEntries: 'UnrecognisedEntries',
  /**
   * 1 when a run refused a config because another live config owns the same bunq credential
   * (error kind `credential-claimed-twice`; lambdas/aws/credential-owner.ts).
   */
  CredentialClaimedTwice: 'CredentialClaimedTwice',
  // ---- {service} only ----
  /** Differences found at the start of runs (count). */
  DriftFound: 'DriftFound',
  OperationsApplied: 'OperationsApplied',
  OperationsFailed: 'OperationsFailed',
  /** Change events (lambdas/aws/events.ts) that could not be published; sparse. */
  ChangeEventsFailed: 'ChangeEventsFailed',
  /**
   * Credentials the fan-out or stream trigger skipped because their name cannot be a FIFO group id
   * (sparse; there is no usable credential name to put in a dimension).
   */
  CredentialsSkipped: 'CredentialsSkipped',
} as const;

export type MetricNameValue = (typeof MetricName)[keyof typeof MetricName];

/** bunq error kinds are counted service-wide as `BunqError<Kind>` (sparse), e.g. BunqErrorRateLimited. */
export const BUNQ_ERROR_METRIC_PREFIX = 'BunqError';

/** Which dimension set each metric is published under. */
export type MetricScope = 'credential' | 'service';

export const CREDENTIAL_METRICS: ReadonlySet<string> = new Set<string>([
  MetricName.RunFailed,
  MetricName.DriftRemaining,
  MetricName.OperationsBlocked,
  MetricName.InvalidDesiredEntries,
  MetricName.ActiveWildcard,
  MetricName.UnrecognisedEntries,
  MetricName.CredentialClaimedTwice,
]);

/** Per-credential metrics emitted only when above 0 (the rest of CREDENTIAL_METRICS go out every run). */
export const SPARSE_CREDENTIAL_METRICS: ReadonlySet<string> = new Set<string>([
  MetricName.OperationsBlocked,
  MetricName.InvalidDesiredEntries,
  MetricName.ActiveWildcard,
  MetricName.UnrecognisedEntries,
  MetricName.CredentialClaimedTwice,
]);

export function scopeOf(name: string): MetricScope {
  return CREDENTIAL_METRICS.has(name) ? 'credential' : 'service';
}
