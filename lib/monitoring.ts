import { Aws, Duration, Fn } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  BUNQ_ERROR_METRIC_PREFIX,
  DIMENSION_CREDENTIAL,
  DIMENSION_SERVICE,
  METRICS_NAMESPACE,
  MetricName,
  SERVICE_NAME,
  type MetricNameValue,
} from '../lambdas/shared/metric-names';
import { RUNS_FAILING_EVALUATION_PERIODS } from './config';

export interface MonitoringProps {
  stackName: string;
  key: kms.IKey;
  alarmEmail: string | undefined;
  schedulePeriod: Duration;
  driftAlarmPeriods: number;
  missedRunPeriods: number;
  queue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  /** Every reconciler function (HandlerErrors). */
  functions: lambda.IFunction[];
  /** The scheduled fan-out: its invocations prove the schedule runs (FanOutStopped). */
  fanOut: lambda.IFunction;
  /** The worker's log group: the per-credential Logs Insights widget reads its run summaries. */
  workerLogGroup: logs.ILogGroup;
  /**
   * The fixed egress IP (a token) when the deployment has one. With it an ACTIVE `*` is a finding and
   * alarms, naming the address to check; without it (egress=none) `*` is the intended state and
   * there is no ActiveWildcard alarm that would sit in ALARM forever.
   */
  fixedEgressIp?: string | undefined;
}

/** What the ActiveWildcard alarm says: the way to close `*` without locking the reconciler out. */
export function activeWildcardDescription(egressIp: string): string {
  return (
    `Means: a credential has an ACTIVE \`*\` entry, which turns off bunq's IP filtering for it, although this deployment calls bunq from the fixed egress IP ${egressIp}; the reconciler never touches \`*\` entries. ` +
    `Do: run \`bunq-ip doctor <credential>\` with the credential the alarm names. When it shows ${egressIp} ACTIVE: switch \`*\` off in the bunq app; the reconciler calls from ${egressIp}, which is ACTIVE. ` +
    `When it does not, first make it ACTIVE (\`bunq-ip desired add <credential> ${egressIp}\`, then \`bunq-ip apply <credential>\`), or switching \`*\` off locks the reconciler out.`
  );
}

/**
 * Sparse per-credential alarms look at this many periods and fire on 1 of them: their metric is
 * sent only while above 0, so one period without a run (schedule jitter) must not clear them.
 */
export const SPARSE_ALARM_EVALUATION_PERIODS = 2;

/** A reconciler metric aggregated over every credential (the {service} dimension set). */
export function serviceMetric(name: MetricNameValue, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { [DIMENSION_SERVICE]: SERVICE_NAME },
    statistic,
    period,
  });
}

/**
 * A Metrics Insights query over the {service, credential} metrics. With `GROUP BY credential` it
 * returns one time series per credential, and an alarm on it is a multi-time-series alarm: each
 * credential is a contributor with its own state, the alarm is in ALARM while any contributor is,
 * and the notification names the contributor's `credential` dimension. A new credential joins the
 * moment its first run emits; no alarm resource per credential.
 */
export function credentialQuery(fn: 'SUM' | 'MIN' | 'MAX', name: MetricNameValue, period: Duration, groupBy = true): cloudwatch.MathExpression {
  const schema = `SCHEMA("${METRICS_NAMESPACE}", ${DIMENSION_CREDENTIAL}, ${DIMENSION_SERVICE})`;
  return new cloudwatch.MathExpression({
    expression: `SELECT ${fn}(${name}) FROM ${schema} WHERE ${DIMENSION_SERVICE} = '${SERVICE_NAME}'${groupBy ? ` GROUP BY ${DIMENSION_CREDENTIAL}` : ''}`,
    usingMetrics: {},
    label: groupBy ? '' : name,
    period,
  });
}

/** One alarm of the reconciler: its name (also its construct id and, after the stack name, its alarm name), what it watches, when it fires and what it tells the operator. */
export interface AlarmSpec {
  name: string;
  metric: cloudwatch.IMetric;
  options: Omit<cloudwatch.CreateAlarmOptions, 'alarmName'>;
}

const atLeastOne = { threshold: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD };
// A sparse metric is sent only while something is wrong: no data is the all-clear.
const sparse = {
  ...atLeastOne,
  evaluationPeriods: SPARSE_ALARM_EVALUATION_PERIODS,
  datapointsToAlarm: 1,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
};
const STATUS = 'run `bunq-ip status <credential>` with the credential the alarm names (its `credential` contributor)';

/** The Errors metric of every function, keyed for a math expression (HandlerErrors and the dashboard). */
function handlerErrorMetrics(functions: lambda.IFunction[]): Record<string, cloudwatch.IMetric> {
  return Object.fromEntries(functions.map((fn, i) => [`e${i}`, fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) })]));
}

/**
 * Alarms about a credential: Metrics Insights queries grouped by credential (see credentialQuery),
 * so each names the credential it fires for.
 */
export function credentialAlarms(props: MonitoringProps): AlarmSpec[] {
  const period = props.schedulePeriod;
  const minutes = period.toMinutes();
  return [
    {
      name: 'RunsFailing',
      metric: credentialQuery('SUM', MetricName.RunFailed, period),
      options: {
        ...atLeastOne,
        evaluationPeriods: RUNS_FAILING_EVALUATION_PERIODS,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          `Means: a credential's reconcile runs failed in at least 2 of the last ${RUNS_FAILING_EVALUATION_PERIODS} ${minutes}-minute periods, transient failures included (bunq down or rate-limiting, timeouts, the run deadline, a bad reply signature) as well as operator data (config, secret, desired items, a rejected key or IP). A failed run is retried by the next scheduled run. ` +
          `Do: ${STATUS} for the last error and its kind, and read the worker's log group; a rejected IP means the reconciler's egress address is not whitelisted, a rejected key needs a new API key and bootstrap.`,
      },
    },
    {
      // MIN(RunFailed) is 1 only when every run of the period failed; no run at all is no data.
      name: 'NoSuccessfulRun',
      metric: credentialQuery('MIN', MetricName.RunFailed, period),
      options: {
        ...atLeastOne,
        evaluationPeriods: props.missedRunPeriods,
        datapointsToAlarm: props.missedRunPeriods,
        // No data is exactly what this alarm is for: the credential's runs stopped (killed, crashing, never queued).
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription:
          `Means: no reconcile run of a credential succeeded in ${props.missedRunPeriods} consecutive ${minutes}-minute periods (its runs fail, or stopped: killed at the timeout, crashing, never queued), so its drift is no longer corrected. ` +
          'It also fires once for a credential just removed from DesiredIps, until its metrics age out of the query (3 hours). ' +
          `Do: ${STATUS}; if its last run is old, check the HandlerErrors, DeadLetters and OldestRequest alarms and the worker's log group.`,
      },
    },
    {
      // Each run that read bunq emits DriftRemaining (0 included); a run that could not read emits
      // none. IGNORE keeps the state through such periods instead of flapping to OK and back.
      name: 'DriftRemaining',
      metric: credentialQuery('MAX', MetricName.DriftRemaining, period),
      options: {
        ...atLeastOne,
        evaluationPeriods: props.driftAlarmPeriods,
        datapointsToAlarm: props.driftAlarmPeriods,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        alarmDescription:
          `Means: a credential's bunq IP whitelist still differs from DesiredIps after reconcile runs in ${props.driftAlarmPeriods} consecutive ${minutes}-minute periods ` +
          '(a guard held changes back, operations failed, or the credential is in observe/additive mode). ' +
          `Do: ${STATUS} to see the remaining drift and the held operations with their reasons; fix the desired entries or the config (mode, maxDeactivationsPerRun, protectedIps), or apply the change deliberately.`,
      },
    },
    {
      name: 'GuardBlockedOperations',
      metric: credentialQuery('MAX', MetricName.OperationsBlocked, period),
      options: {
        ...sparse,
        alarmDescription:
          'Means: a guard held planned operations of a credential back (never leave zero ACTIVE entries, the caller\'s own IP, a protected IP, too many deactivations in one run, invalid entries, additive/observe mode); its runs are recorded as HELD. ' +
          `Do: ${STATUS} to see each held operation with its guard and reason; if the change is intended, raise maxDeactivationsPerRun or change the mode for one run.`,
      },
    },
    {
      name: 'InvalidDesiredEntries',
      metric: credentialQuery('MAX', MetricName.InvalidDesiredEntries, period),
      options: {
        ...sparse,
        alarmDescription:
          'Means: DesiredIps holds an entry of a credential that is not a valid IPv4 address or expiry; while it exists, all deactivations for that credential are frozen (additions still happen). ' +
          `Do: ${STATUS} to see the entry and why it was rejected, then correct or delete it in DesiredIps.`,
      },
    },
    {
      name: 'UnrecognisedEntries',
      metric: credentialQuery('MAX', MetricName.UnrecognisedEntries, period),
      options: {
        ...sparse,
        alarmDescription:
          'Means: bunq lists entries on a credential that the reconciler cannot use (no usable id, an unknown status, an IP that is neither IPv4 nor `*`); it never changes them and never counts them as ACTIVE. ' +
          `Do: ${STATUS} to see the entries; remove or fix them in the bunq app, and report a new bunq format if it is one.`,
      },
    },
    {
      name: 'CredentialClaimedTwice',
      metric: credentialQuery('MAX', MetricName.CredentialClaimedTwice, period),
      options: {
        ...sparse,
        alarmDescription:
          'Means: a credential\'s config names a bunq credential (user and CredentialPasswordIp) that another live config also claims; the worker refuses it rather than let two configs fight over one whitelist. ' +
          `Do: ${STATUS} for the other config's name; keep one owner (\`bunq-ip bootstrap --force\` retires the old config) and delete or fix the other config item.`,
      },
    },
    // Only with a fixed egress IP: without one (egress=none) `*` is the intended state.
    ...(props.fixedEgressIp !== undefined
      ? [{
          name: 'ActiveWildcard',
          metric: credentialQuery('MAX', MetricName.ActiveWildcard, period),
          options: { ...sparse, alarmDescription: activeWildcardDescription(props.fixedEgressIp) },
        }]
      : []),
  ];
}

/** Alarms about the deployment: the queues, the schedule and the Lambda functions. */
export function deploymentAlarms(props: MonitoringProps): AlarmSpec[] {
  const period = props.schedulePeriod;
  const minutes = period.toMinutes();
  const oldestLimit = Duration.seconds(2 * period.toSeconds());
  const errorMetrics = handlerErrorMetrics(props.functions);
  return [
    {
      name: 'DeadLetters',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
      options: {
        ...atLeastOne,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          'Means: a reconcile request\'s run left no record (the worker was killed at its timeout or crashed, the state table could not be written) or the message was unreadable, and it was parked in the dead-letter queue after one delivery. Recorded failures never land here: the schedule retries them and RunsFailing reports them. ' +
          'Do: read the message (its body names the credential) and the worker log for the error; the next scheduled run has retried the credential already, so delete the message once the cause is understood.',
      },
    },
    {
      name: 'OldestRequest',
      metric: props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(5) }),
      options: {
        threshold: oldestLimit.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          `Means: a reconcile request has waited ${oldestLimit.toMinutes()} minutes (two schedule periods) or more in the queue: the worker is not keeping up, is not being invoked, or a credential's FIFO group is blocked by a request whose run hangs. ` +
          'Do: check the HandlerErrors alarm, the worker\'s log group and its event source mapping (enabled, not throttled); the dashboard\'s "Queues" graph shows depth and age.',
      },
    },
    {
      name: 'FanOutStopped',
      metric: props.fanOut.metricInvocations({ statistic: 'Sum', period }),
      options: {
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: props.missedRunPeriods,
        datapointsToAlarm: props.missedRunPeriods,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription:
          `Means: the scheduled fan-out has not run in ${props.missedRunPeriods} consecutive ${minutes}-minute periods, so no credential is being reconciled on schedule (only operator edits still trigger runs). ` +
          'Do: check that the EventBridge Scheduler schedule is enabled and its role may invoke the fan-out, and read the fan-out\'s log group.',
      },
    },
    {
      name: 'HandlerErrors',
      metric: new cloudwatch.MathExpression({
        expression: Object.keys(errorMetrics).join(' + '),
        usingMetrics: errorMetrics,
        label: 'Handler errors',
        period: Duration.minutes(5),
      }),
      options: {
        ...atLeastOne,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          'Means: a reconciler Lambda function (fan-out, stream trigger or worker) crashed or timed out in at least 2 of the last 3 five-minute periods. ' +
          'Do: find the failing function in the dashboard\'s "Runs and failures" graph and read its log group (Lambda console, Monitor, View CloudWatch logs); a worker timeout usually means bunq is slow or rate-limiting.',
      },
    },
  ];
}

/**
 * Alarms, the topic they notify, and the dashboard. The alarms are data (credentialAlarms and
 * deploymentAlarms, like cdk-nag's rule packs); this construct builds each the same way.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'bunq IP reconciler alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    for (const spec of [...credentialAlarms(props), ...deploymentAlarms(props)]) this.addAlarm(props.stackName, spec);
    this.dashboard = this.buildDashboard(props);
  }

  /** Every alarm notifies the topic on ALARM and on OK, so a mail thread ends with its all-clear. */
  private addAlarm(stackName: string, { name, metric, options }: AlarmSpec): void {
    const alarm = new cloudwatch.Alarm(this, `${name}Alarm`, { ...options, metric, alarmName: `${stackName}-${name}` });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms[name] = alarm;
  }

  private buildDashboard(props: MonitoringProps): cloudwatch.Dashboard {
    const period = props.schedulePeriod;
    const errorMetrics = handlerErrorMetrics(props.functions);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.stackName,
      defaultInterval: Duration.days(1),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 12): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 3 }),
    );
    dashboard.addWidgets(
      graph('Drift (all credentials)', [
        serviceMetric(MetricName.DriftFound, 'Sum', period).with({ label: 'Drift found' }),
        credentialQuery('SUM', MetricName.DriftRemaining, period, false).with({ label: 'Drift remaining' }),
      ]),
      graph('Drift remaining per credential', [credentialQuery('MAX', MetricName.DriftRemaining, period)]),
    );
    dashboard.addWidgets(
      graph('Operations', [
        serviceMetric(MetricName.OperationsApplied, 'Sum', period).with({ label: 'Applied' }),
        serviceMetric(MetricName.OperationsFailed, 'Sum', period).with({ label: 'Failed' }),
        credentialQuery('SUM', MetricName.OperationsBlocked, period, false).with({ label: 'Held back by a guard' }),
        serviceMetric(MetricName.ChangeEventsFailed, 'Sum', period).with({ label: 'Change events not published' }),
      ]),
      graph('Runs failing per credential', [credentialQuery('SUM', MetricName.RunFailed, period)]),
    );
    dashboard.addWidgets(
      graph('Runs and failures', [
        credentialQuery('SUM', MetricName.RunFailed, period, false).with({ label: 'Runs failed' }),
        props.fanOut.metricInvocations({ statistic: 'Sum', period, label: 'Fan-out ticks' }),
        ...Object.values(errorMetrics),
      ]),
      graph('bunq errors by kind, skipped credentials', [
        new cloudwatch.MathExpression({
          expression: `SEARCH('{${METRICS_NAMESPACE},${DIMENSION_SERVICE}} MetricName=${BUNQ_ERROR_METRIC_PREFIX}', 'Sum', ${period.toSeconds()})`,
          usingMetrics: {},
          label: '',
          period,
        }),
        serviceMetric(MetricName.CredentialsSkipped, 'Sum', period).with({ label: 'Credentials skipped (name unusable)' }),
      ]),
    );
    dashboard.addWidgets(
      // Per-credential detail without per-credential metrics: the worker's run summary log lines.
      new cloudwatch.LogQueryWidget({
        title: 'Last run per credential (worker logs)',
        logGroupNames: [props.workerLogGroup.logGroupName],
        queryLines: [
          "filter message in ['reconcile run finished', 'reconcile run failed']",
          'stats latest(outcome) as outcome, latest(mode) as mode, latest(drift) as drift, latest(applied) as applied, ' +
            'latest(blocked) as held, latest(activeIps) as activeIps, latest(errorKind) as error, latest(durationMs) as ms, max(@timestamp) as lastRun by credential',
          'sort credential asc',
        ],
        width: 12,
        height: 6,
      }),
      graph('Queues', [
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'Dead-letter queue depth', statistic: 'Maximum', period: Duration.minutes(5) }),
        props.queue.metricApproximateNumberOfMessagesVisible({ label: 'Reconcile queue depth', statistic: 'Maximum', period: Duration.minutes(5) }),
        props.queue.metricApproximateAgeOfOldestMessage({ label: 'Oldest reconcile request (s)', statistic: 'Maximum', period: Duration.minutes(5) }),
      ]),
    );
    return dashboard;
  }

  /** The console address of the dashboard (works in any region the stack is deployed to). */
  dashboardUrl(): string {
    return Fn.join('', [
      'https://',
      Aws.REGION,
      '.console.aws.amazon.com/cloudwatch/home?region=',
      Aws.REGION,
      '#dashboards:name=',
      this.dashboard.dashboardName,
    ]);
  }
}
