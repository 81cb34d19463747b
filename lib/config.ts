/**
 * The stack's configuration: what an operator may choose at synth time, validated by one pure
 * function so a typo fails `cdk synth` with a message that names the key, never a half-built stack.
 */

/**
 * How the worker reaches bunq. `nat-instance` (the default) and `nat-gateway` give it one fixed
 * Elastic IP; `none` leaves it on changing AWS addresses, which only a wildcard (`*`) key accepts.
 */
export type EgressMode = 'nat-instance' | 'nat-gateway' | 'none';

export const EGRESS_MODES: readonly EgressMode[] = ['nat-instance', 'nat-gateway', 'none'];

/** Older names still accepted: `nat` was the NAT-gateway mode before the NAT instance existed. */
export const EGRESS_ALIASES: Readonly<Record<string, EgressMode>> = { nat: 'nat-gateway' };

/** Whether a mode gives the worker a fixed public IP (the address bunq whitelists). */
export function hasFixedEgress(mode: EgressMode): boolean {
  return mode !== 'none';
}

/** The retention periods CloudWatch Logs accepts (anything else is rejected at deploy time). */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

export interface ReconcilerConfig {
  stackName: string;
  /** Minutes between scheduled reconcile runs of every credential. */
  scheduleMinutes: number;
  /** Where alarm notifications go; undefined means the topic has no subscription yet. */
  alarmEmail: string | undefined;
  /** Where change events (IP activated/deactivated, operation held) are mailed; undefined = no rule. */
  changeEmail: string | undefined;
  egress: EgressMode;
  /** Prefix of the Secrets Manager secrets the worker may read and update. */
  secretNamePrefix: string;
  /** Physical table names; undefined lets CloudFormation generate unique ones. */
  desiredTableName: string | undefined;
  stateTableName: string | undefined;
  logRetentionDays: number;
  /** How long `run#...` history items live in ReconcileState. */
  historyTtlDays: number;
  workerTimeoutSeconds: number;
  /** Upper bound on concurrent worker invocations (the SQS event source's maximum concurrency). */
  workerMaxConcurrency: number;
  /** Schedule periods that drift must persist before the drift alarm fires. */
  driftAlarmPeriods: number;
  /** Schedule periods without a successful run before the missed-run alarm fires. */
  missedRunPeriods: number;
}

/**
 * How long before its timeout a worker run stops starting bunq calls. The deadline reaches into the
 * bunq client (no call outlives it), so the margin only covers what runs after it: recording (20 s)
 * with clock slack (10 s), plus one AWS SDK retry budget for the recording writes (30 s). Must equal
 * RUN_DEADLINE_MARGIN_MS in lambdas/handlers/run-deadline.ts (a test checks; lib/ may not import
 * the runtime). The queue's visibility timeout stays above the Lambda timeout (lib/data-stores.ts).
 */
export const WORKER_DEADLINE_MARGIN_SECONDS = 60;
/** The margin plus 30 s for the run itself (a typical run is a few calls at bunq's 3 per 3 s). */
export const MIN_WORKER_TIMEOUT_SECONDS = WORKER_DEADLINE_MARGIN_SECONDS + 30;

export const DEFAULT_CONFIG: ReconcilerConfig = {
  stackName: 'BunqIpReconciler',
  scheduleMinutes: 5,
  alarmEmail: undefined,
  changeEmail: undefined,
  egress: 'nat-instance',
  secretNamePrefix: 'bunq-ip-reconciler/',
  desiredTableName: undefined,
  stateTableName: undefined,
  logRetentionDays: 90,
  historyTtlDays: 90,
  workerTimeoutSeconds: 300,
  workerMaxConcurrency: 2,
  driftAlarmPeriods: 3,
  missedRunPeriods: 3,
};

/** The context keys (`cdk synth -c key=value` or cdk.json "context") this app reads. */
export const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof ReconcilerConfig)[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid bunq-ip-reconciler configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// The per-credential alarms are Metrics Insights queries, which CloudWatch evaluates over the
// latest 3 hours of data only: period × evaluation periods must fit in that.
export const MAX_ALARM_LOOKBACK_MINUTES = 3 * 60;
/** The runs-failing alarm looks at this many schedule periods (and fires on 2 of them). */
export const RUNS_FAILING_EVALUATION_PERIODS = 3;
// A pragmatic address check: one @, a dotted domain, no spaces. SNS confirms the real mailbox.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
// Secrets Manager names allow these characters; the prefix must end in a separator so that the IAM
// wildcard `prefix*` cannot reach a sibling such as `bunq-ip-reconciler-other`.
const SECRET_PREFIX = /^[A-Za-z0-9/_+=.@-]{1,256}$/;

type Raw = Record<string, unknown>;

/**
 * Context values arrive as strings from `-c key=value` and as JSON values from cdk.json; both are
 * accepted, anything else is reported.
 */
function readInteger(raw: Raw, key: keyof ReconcilerConfig, min: number, max: number, problems: string[]): number {
  const fallback = DEFAULT_CONFIG[key] as number;
  const value = raw[key];
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n)) {
    problems.push(`${key} must be a whole number, got ${JSON.stringify(value)}`);
    return fallback;
  }
  if (n < min || n > max) {
    problems.push(`${key} must be between ${min} and ${max}, got ${n}`);
    return fallback;
  }
  return n;
}

function readString(raw: Raw, key: keyof ReconcilerConfig, problems: string[]): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    problems.push(`${key} must be a string, got ${JSON.stringify(value)}`);
    return undefined;
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Validates raw configuration (context values) and fills in defaults. Throws ConfigError listing every problem. */
export function parseConfig(raw: Raw): ReconcilerConfig {
  const problems: string[] = [];

  const stackName = readString(raw, 'stackName', problems) ?? DEFAULT_CONFIG.stackName;
  if (!STACK_NAME.test(stackName)) {
    problems.push(`stackName must start with a letter and contain only letters, digits and hyphens (max 128), got ${JSON.stringify(stackName)}`);
  }

  const scheduleMinutes = readInteger(raw, 'scheduleMinutes', 1, 1440, problems);

  const alarmEmail = readString(raw, 'alarmEmail', problems);
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) {
    problems.push(`alarmEmail must be an e-mail address like ops@example.com, got ${JSON.stringify(alarmEmail)}`);
  }
  const changeEmail = readString(raw, 'changeEmail', problems);
  if (changeEmail !== undefined && !EMAIL.test(changeEmail)) {
    problems.push(`changeEmail must be an e-mail address like ops@example.com, got ${JSON.stringify(changeEmail)}`);
  }

  const egressRaw = readString(raw, 'egress', problems) ?? DEFAULT_CONFIG.egress;
  const egress = EGRESS_MODES.find((m) => m === egressRaw) ?? (Object.hasOwn(EGRESS_ALIASES, egressRaw) ? EGRESS_ALIASES[egressRaw] : undefined);
  if (egress === undefined) {
    problems.push(`egress must be one of ${EGRESS_MODES.map((m) => `'${m}'`).join(', ')} (or 'nat', an alias of 'nat-gateway'), got ${JSON.stringify(egressRaw)}`);
  }

  const secretNamePrefix = readString(raw, 'secretNamePrefix', problems) ?? DEFAULT_CONFIG.secretNamePrefix;
  if (!SECRET_PREFIX.test(secretNamePrefix)) {
    problems.push(`secretNamePrefix may contain only letters, digits and /_+=.@-, got ${JSON.stringify(secretNamePrefix)}`);
  } else if (!/[/_+=.@-]$/.test(secretNamePrefix)) {
    problems.push(`secretNamePrefix must end with a separator such as '/', so IAM access cannot reach other secrets; got ${JSON.stringify(secretNamePrefix)}`);
  }

  const desiredTableName = readString(raw, 'desiredTableName', problems);
  const stateTableName = readString(raw, 'stateTableName', problems);
  for (const [key, name] of [['desiredTableName', desiredTableName], ['stateTableName', stateTableName]] as const) {
    if (name !== undefined && !TABLE_NAME.test(name)) {
      problems.push(`${key} must be 3-255 characters of letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`);
    }
  }
  if (desiredTableName !== undefined && desiredTableName === stateTableName) {
    problems.push('desiredTableName and stateTableName must differ: the reconciler keeps its own writes out of the table whose stream wakes it');
  }

  const logRetentionDays = readInteger(raw, 'logRetentionDays', 1, 3653, problems);
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    problems.push(`logRetentionDays must be one of CloudWatch's values (${LOG_RETENTION_DAYS.join(', ')}), got ${logRetentionDays}`);
  }

  const historyTtlDays = readInteger(raw, 'historyTtlDays', 1, 3650, problems);
  // 15 minutes is Lambda's ceiling. The worker starts no bunq call in the last
  // WORKER_DEADLINE_MARGIN_SECONDS, so below MIN_WORKER_TIMEOUT_SECONDS too little is left for a run.
  const workerTimeoutSeconds = readInteger(raw, 'workerTimeoutSeconds', MIN_WORKER_TIMEOUT_SECONDS, 900, problems);
  // 2 is the smallest maximum concurrency an SQS event source accepts.
  const workerMaxConcurrency = readInteger(raw, 'workerMaxConcurrency', 2, 20, problems);
  const driftAlarmPeriods = readInteger(raw, 'driftAlarmPeriods', 1, 100, problems);
  const missedRunPeriods = readInteger(raw, 'missedRunPeriods', 2, 100, problems);

  if (scheduleMinutes * RUNS_FAILING_EVALUATION_PERIODS > MAX_ALARM_LOOKBACK_MINUTES) {
    problems.push(`scheduleMinutes must be at most ${MAX_ALARM_LOOKBACK_MINUTES / RUNS_FAILING_EVALUATION_PERIODS}: the runs-failing alarm looks back ${RUNS_FAILING_EVALUATION_PERIODS} periods and Metrics Insights alarms at most 3 hours; got ${scheduleMinutes}`);
  }
  for (const [key, periods] of [['driftAlarmPeriods', driftAlarmPeriods], ['missedRunPeriods', missedRunPeriods]] as const) {
    if (scheduleMinutes * periods > MAX_ALARM_LOOKBACK_MINUTES) {
      problems.push(`scheduleMinutes × ${key} must not exceed ${MAX_ALARM_LOOKBACK_MINUTES} minutes (Metrics Insights alarms look back at most 3 hours), got ${scheduleMinutes} × ${periods}`);
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    stackName,
    scheduleMinutes,
    alarmEmail,
    changeEmail,
    egress: egress ?? DEFAULT_CONFIG.egress,
    secretNamePrefix,
    desiredTableName,
    stateTableName,
    logRetentionDays,
    historyTtlDays,
    workerTimeoutSeconds,
    workerMaxConcurrency,
    driftAlarmPeriods,
    missedRunPeriods,
  };
}

/** Reads every known key through `get` (e.g. `app.node.tryGetContext`). */
export function rawConfigFrom(get: (key: string) => unknown): Raw {
  const raw: Raw = {};
  for (const key of CONFIG_KEYS) {
    const value = get(key);
    if (value !== undefined) raw[key] = value;
  }
  return raw;
}
