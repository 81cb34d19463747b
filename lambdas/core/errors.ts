/**
 * The one list of error kinds a run can end with, and what each one means for the run, the queue
 * and the metrics. Every consumer (the executor, the run verdict, the worker's log, the metrics)
 * reads this table; none keeps its own list. The table is typed `Record<ErrorKind, KindDecision>`,
 * so a kind added to a union below does not compile until someone has decided what it means.
 */
import { BUNQ_ERROR_METRIC_PREFIX, MetricName } from '../shared/metric-names';

/**
 * What a WhitelistPort may throw (the bunq client's kinds, lambdas/bunq/errors.ts). `deadline`: the
 * run's deadline came before the call could start or go on (a rate-limit wait, a retry, the next
 * page); such a call was not applied.
 */
export type PortErrorKind =
  | 'credentials-rejected'
  | 'session-expired'
  | 'signature-required'
  | 'signature-invalid'
  | 'response-signature-invalid'
  | 'rate-limited'
  | 'maintenance'
  | 'not-found'
  | 'bad-request'
  | 'ip-add-not-permitted'
  | 'entry-ids-missing'
  | 'forbidden'
  | 'server-error'
  | 'malformed-reply'
  | 'timeout'
  | 'network'
  | 'outcome-unknown'
  | 'deadline';

/** Failures the executor itself finds (lambdas/core/executor.ts). */
export type CoreErrorKind =
  | 'deadline'
  | 'ip-refused'
  | 'unrecognised-entry'
  | 'unusable-entry-id'
  | 'verification-failed'
  | 'never-empty'
  | 'caller-unknown'
  | 'unexpected';

/** Failures of the application service and its adapters (config, secret, ownership). */
export type ServiceErrorKind =
  | 'invalid-desired'
  | 'run-incomplete'
  | 'config-missing'
  | 'config-invalid'
  | 'context-mismatch'
  | 'credential-claimed-twice'
  | 'owner-record-unreadable'
  | 'secret-name-refused'
  | 'secret-missing'
  | 'secret-unreadable'
  | 'secret-invalid';

export type ErrorKind = PortErrorKind | CoreErrorKind | ServiceErrorKind;

/**
 * What a run does with a failure of this kind. Whether to repeat a *call* is not in here: that is
 * the bunq client's decision alone (lambdas/bunq/retry-policy.ts, the one retry layer, bounded by
 * the run deadline), and a run is retried by the next schedule tick or SQS delivery.
 */
export interface KindDecision {
  /**
   * Will not pass by itself: an operator must fix data, a key or the secret. Either way the failure
   * is recorded and the queue message acknowledged; the next scheduled run is the retry.
   */
  terminal: boolean;
  /**
   * Concerns one IP for good and says nothing about the rest: the operation is recorded as failed
   * and the run goes on with the other operations.
   */
  perIp: boolean;
  /**
   * The metric that counts the kind: its own (sparse, 1 when it occurred), or RunFailed alone for a
   * kind that has no metric of its own (RunFailed counts every failed run).
   */
  metric: string;
}

/** `BunqError<Kind>`, e.g. rate-limited → BunqErrorRateLimited (lib/monitoring.ts searches the prefix). */
function bunqMetric(kind: PortErrorKind): string {
  return BUNQ_ERROR_METRIC_PREFIX + kind.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

const bunq = (kind: PortErrorKind, terminal: boolean): KindDecision => ({ terminal, perIp: false, metric: bunqMetric(kind) });
const runOnly = (terminal: boolean): KindDecision => ({ terminal, perIp: false, metric: MetricName.RunFailed });

export const ERROR_KINDS = {
  // ---- the port (bunq) ----
  /** bunq refuses this key or IP until an operator fixes it. */
  'credentials-rejected': bunq('credentials-rejected', true),
  /** The client refreshes the session once by itself; seen here only when that failed too. */
  'session-expired': bunq('session-expired', false),
  'signature-required': bunq('signature-required', false),
  'signature-invalid': bunq('signature-invalid', false),
  'response-signature-invalid': bunq('response-signature-invalid', false),
  'rate-limited': bunq('rate-limited', false),
  maintenance: bunq('maintenance', false),
  'not-found': bunq('not-found', false),
  'bad-request': bunq('bad-request', false),
  /** A standard key never gets new IPs; the other additions are not sent (per IP, terminal). */
  'ip-add-not-permitted': { terminal: true, perIp: true, metric: bunqMetric('ip-add-not-permitted') },
  /** bunq's list shape, not a passing fault. */
  'entry-ids-missing': bunq('entry-ids-missing', true),
  forbidden: bunq('forbidden', false),
  'server-error': bunq('server-error', false),
  'malformed-reply': bunq('malformed-reply', false),
  timeout: bunq('timeout', false),
  network: bunq('network', false),
  /** May have been applied: re-read first; retried only when the re-read shows it was not. */
  'outcome-unknown': bunq('outcome-unknown', false),
  /** Nothing new starts after the deadline; the next scheduled run goes on. */
  deadline: runOnly(false),
  // ---- the executor ----
  /** bunq refused one IP for good (a 400 on its POST or PUT). */
  'ip-refused': { terminal: true, perIp: true, metric: MetricName.RunFailed },
  /** bunq lists an entry of the IP we cannot use; only the bunq app can sort it out. */
  'unrecognised-entry': { terminal: true, perIp: true, metric: MetricName.RunFailed },
  'unusable-entry-id': runOnly(false),
  'verification-failed': runOnly(false),
  'never-empty': runOnly(false),
  'caller-unknown': runOnly(false),
  /** A kind we have not judged is not assumed hopeless. */
  unexpected: runOnly(false),
  // ---- the service and its adapters ----
  /** Operator data: a retry reads the same items. */
  'invalid-desired': runOnly(true),
  'run-incomplete': runOnly(false),
  'config-missing': runOnly(true),
  'config-invalid': runOnly(true),
  /** The config and the secret name different bunq users. */
  'context-mismatch': runOnly(true),
  /** Another live config owns this bunq credential. */
  'credential-claimed-twice': { terminal: true, perIp: false, metric: MetricName.CredentialClaimedTwice },
  /** The owner record was edited by hand. */
  'owner-record-unreadable': runOnly(true),
  'secret-name-refused': runOnly(true),
  'secret-missing': runOnly(true),
  /** Secrets Manager did not answer: may pass by itself. */
  'secret-unreadable': runOnly(false),
  'secret-invalid': runOnly(true),
} as const satisfies Record<ErrorKind, KindDecision>;

export function isErrorKind(kind: string): kind is ErrorKind {
  return Object.prototype.hasOwnProperty.call(ERROR_KINDS, kind);
}

/**
 * The decision for a kind. A kind read back from storage that this version does not know (an older
 * or newer record) is judged like `unexpected`: transient, counted by RunFailed.
 */
export function decisionOf(kind: string): KindDecision {
  return isErrorKind(kind) ? ERROR_KINDS[kind] : ERROR_KINDS.unexpected;
}

/**
 * What the core needs of a port's error: its kind. The bunq client's BunqError satisfies it
 * (lambdas/bunq/errors.ts); its own `retryable` flag is the client's business, as retrying is.
 */
export interface PortError extends Error {
  readonly kind: PortErrorKind;
}

/** Typed as a Record so a port kind added to the union above must be listed here too. */
const PORT_KINDS: Readonly<Record<PortErrorKind, true>> = {
  'credentials-rejected': true,
  'session-expired': true,
  'signature-required': true,
  'signature-invalid': true,
  'response-signature-invalid': true,
  'rate-limited': true,
  maintenance: true,
  'not-found': true,
  'bad-request': true,
  'ip-add-not-permitted': true,
  'entry-ids-missing': true,
  forbidden: true,
  'server-error': true,
  'malformed-reply': true,
  timeout: true,
  network: true,
  'outcome-unknown': true,
  deadline: true,
};

export function isPortErrorKind(kind: string): kind is PortErrorKind {
  return Object.prototype.hasOwnProperty.call(PORT_KINDS, kind);
}

/** Structural: any Error with a port kind (the core never imports the client). */
export function isPortError(err: unknown): err is PortError {
  if (!(err instanceof Error)) return false;
  const kind = (err as Error & { kind?: unknown }).kind;
  return typeof kind === 'string' && isPortErrorKind(kind);
}

/** A run's or an operation's error as recorded: a kind from the list above and a log-safe message. */
export interface ErrorInfo {
  kind: ErrorKind;
  message: string;
}

/**
 * Whether a failed run can pass by itself or needs an operator (controller-runtime's "terminal
 * error: don't requeue"). Since issue 12 the queue acknowledges every recorded failure either way
 * (the next scheduled run is the retry); the disposition tells the log and the operator which
 * failures will not heal by themselves.
 */
export type RetryDisposition = 'terminal' | 'transient';

export function retryDisposition(kind: string): RetryDisposition {
  return decisionOf(kind).terminal ? 'terminal' : 'transient';
}
