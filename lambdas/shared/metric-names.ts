/**
 * The contract between the metrics the runtime emits (lambdas/aws/metrics.ts) and the alarms and
 * dashboard the stack builds (lib/). Change a name here and both sides follow.
 *
 * Every metric is emitted twice in EMF: with dimensions {service} (what alarms watch, so they need no
 * per-credential setup) and with {service, credential} (what the dashboard and operators drill into).
 */
export const METRICS_NAMESPACE = 'BunqIpReconciler';
export const SERVICE_NAME = 'bunq-ip-reconciler';
export const DIMENSION_SERVICE = 'service';
export const DIMENSION_CREDENTIAL = 'credential';

export const MetricName = {
  /** Differences found between desired and actual at the start of a run (count). */
  DriftFound: 'DriftFound',
  /** Differences still present after the run (blocked, failed or observe mode) (count). */
  DriftRemaining: 'DriftRemaining',
  OperationsApplied: 'OperationsApplied',
  OperationsFailed: 'OperationsFailed',
  /** Operations a guard held back (count). */
  OperationsBlocked: 'OperationsBlocked',
  InvalidDesiredEntries: 'InvalidDesiredEntries',
  /** 1 when an ACTIVE `*` entry is present on the credential, else 0. */
  ActiveWildcard: 'ActiveWildcard',
  ActiveIpCount: 'ActiveIpCount',
  /**
   * Entries bunq lists that the reconciler cannot use (unknown status, no usable id, an IP that is
   * neither IPv4 nor `*`) after the run (count). They are never changed, and their IP is not POSTed
   * again; only the bunq app can sort them out.
   */
  UnrecognisedEntries: 'UnrecognisedEntries',
  RunSucceeded: 'RunSucceeded',
  RunFailed: 'RunFailed',
  /** bunq calls made in the run (count). */
  BunqCalls: 'BunqCalls',
  RunDuration: 'RunDuration',
  /**
   * Credentials the fan-out or stream trigger skipped because their name cannot be a FIFO group id
   * (emitted with {service} only: there is no usable credential name to put in a dimension).
   */
  CredentialsSkipped: 'CredentialsSkipped',
  /**
   * 1 when a run refused a config because another live config owns the same bunq credential
   * (error kind `credential-claimed-twice`; lambdas/aws/credential-owner.ts).
   */
  CredentialClaimedTwice: 'CredentialClaimedTwice',
} as const;

export type MetricNameValue = (typeof MetricName)[keyof typeof MetricName];

/** Environment variables the Lambda handlers read; the stack sets them. */
export const EnvName = {
  DesiredTable: 'DESIRED_TABLE_NAME',
  StateTable: 'STATE_TABLE_NAME',
  QueueUrl: 'RECONCILE_QUEUE_URL',
  SecretPrefix: 'SECRET_NAME_PREFIX',
  HistoryTtlDays: 'HISTORY_TTL_DAYS',
  /**
   * The worker's fixed egress IPv4 addresses, comma separated (the fixed-egress modes set it): the
   * IPs every run calls bunq from, never deactivated. Unset: the worker cannot tell its IP.
   */
  EgressIps: 'EGRESS_IPS',
} as const;
