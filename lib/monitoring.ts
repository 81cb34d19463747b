import { Aws, Duration, Fn } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
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
  functions: lambda.IFunction[];
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
    `Do: run \`bunq-ip doctor <credential>\`. When it shows ${egressIp} ACTIVE: switch \`*\` off in the bunq app; the reconciler calls from ${egressIp}, which is ACTIVE. ` +
    `When it does not, first make it ACTIVE (\`bunq-ip desired add <credential> ${egressIp}\`, then \`bunq-ip apply <credential>\`), or switching \`*\` off locks the reconciler out.`
  );
}

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

/** One line per credential, found by SEARCH so the dashboard needs no per-credential setup. */
function perCredential(name: MetricNameValue, statistic: string, period: Duration): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},${DIMENSION_SERVICE},${DIMENSION_CREDENTIAL}} MetricName="${name}" ${DIMENSION_SERVICE}="${SERVICE_NAME}"', '${statistic}', ${period.toSeconds()})`,
    usingMetrics: {},
    label: '',
    period,
  });
}

/**
 * Alarms, the topic they notify, and the dashboard. Every alarm watches the {service} dimension set,
 * so a new credential is covered the moment its first run emits metrics.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const period = props.schedulePeriod;
    const minutes = period.toMinutes();

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'bunq IP reconciler alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    const add = (
      name: string,
      metric: cloudwatch.IMetric,
      options: Omit<cloudwatch.CreateAlarmOptions, 'alarmName'>,
    ): void => {
      const alarm = new cloudwatch.Alarm(this, `${name}Alarm`, { ...options, metric, alarmName: `${props.stackName}-${name}` });
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
      this.alarms[name] = alarm;
    };

    // Each run that read bunq emits these per-run values (0 included); a run that could not read
    // emits none. IGNORE keeps the alarm's state through a period without such a run (bunq down,
    // or no run landed) instead of flapping to OK and back.
    add('DriftRemaining', serviceMetric(MetricName.DriftRemaining, 'Maximum', period), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: props.driftAlarmPeriods,
      datapointsToAlarm: props.driftAlarmPeriods,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      alarmDescription:
        `Means: a credential's bunq IP whitelist still differs from DesiredIps after reconcile runs in ${props.driftAlarmPeriods} consecutive ${minutes}-minute periods ` +
        '(a guard blocked changes, operations failed, or the credential is in observe/additive mode). ' +
        'Do: run `bunq-ip status <credential>` to see the remaining drift and the blocked operations with their reasons; fix the desired entries or the config (mode, maxDeactivationsPerRun, protectedIps), or apply the change deliberately.',
    });

    add('RunsFailing', serviceMetric(MetricName.RunFailed, 'Sum', period), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: RUNS_FAILING_EVALUATION_PERIODS,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `Means: reconcile runs failed in at least 2 of the last ${RUNS_FAILING_EVALUATION_PERIODS} ${minutes}-minute periods (bunq rejected our IP or key, the session could not be renewed, bunq was down, or a response signature failed). ` +
        'Do: run `bunq-ip status <credential>` for the last error and its kind, and read the worker\'s log group; a rejected IP means the reconciler\'s egress address is not whitelisted, a rejected key needs a new API key and bootstrap.',
    });

    add('NoSuccessfulRun', serviceMetric(MetricName.RunSucceeded, 'Sum', period), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: props.missedRunPeriods,
      datapointsToAlarm: props.missedRunPeriods,
      // No data is exactly the failure this alarm exists for: the schedule, fan-out or worker stopped.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription:
        `Means: no reconcile run succeeded for any credential in ${props.missedRunPeriods} consecutive ${minutes}-minute periods, so drift is no longer being corrected. ` +
        'It also fires while no credential is configured yet. ' +
        'Do: check the HandlerErrors and RunsFailing alarms, the fan-out and worker log groups, that the EventBridge schedule is enabled, and that DesiredIps has a config item per credential.',
    });

    add('DeadLetters', props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'Means: a reconcile request failed transiently 5 deliveries in a row (bunq down or rate-limiting, timeouts, the run deadline, an unreadable secret) and was moved to the dead-letter queue; scheduled runs still retry that credential. Failures on operator data (config, secret, desired items, a rejected key or IP) are not retried and never land here: RunsFailing reports them. ' +
        'Do: read the message (its body names the credential) and the worker log for the error, fix the cause, then delete the message or redrive it to the reconcile queue.',
    });

    if (props.fixedEgressIp !== undefined) {
      add('ActiveWildcard', serviceMetric(MetricName.ActiveWildcard, 'Maximum', period), {
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        alarmDescription: activeWildcardDescription(props.fixedEgressIp),
      });
    }

    add('InvalidDesiredEntries', serviceMetric(MetricName.InvalidDesiredEntries, 'Maximum', period), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      alarmDescription:
        'Means: DesiredIps holds an entry that is not a valid IPv4 address; while it exists, all deactivations for that credential are frozen (additions still happen). ' +
        'Do: run `bunq-ip status <credential>` to see the entry and why it was rejected, then correct or delete it in DesiredIps.',
    });

    add('GuardBlockedOperations', serviceMetric(MetricName.OperationsBlocked, 'Maximum', period), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      alarmDescription:
        'Means: a guard held back planned operations (never leave zero ACTIVE entries, protected IP, too many deactivations in one run, invalid entries, additive/observe mode). ' +
        'Do: run `bunq-ip status <credential>` to see each blocked operation with its guard and reason; if the change is intended, raise maxDeactivationsPerRun or change the mode for one run.',
    });

    const errorMetrics: Record<string, cloudwatch.IMetric> = {};
    props.functions.forEach((fn, i) => {
      errorMetrics[`e${i}`] = fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) });
    });
    add('HandlerErrors', new cloudwatch.MathExpression({
      expression: Object.keys(errorMetrics).join(' + '),
      usingMetrics: errorMetrics,
      label: 'Handler errors',
      period: Duration.minutes(5),
    }), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'Means: a reconciler Lambda function (fan-out, stream trigger or worker) crashed or timed out in at least 2 of the last 3 five-minute periods. ' +
        'Do: find the failing function in the dashboard\'s "Runs and failures" graph and read its log group (Lambda console, Monitor, View CloudWatch logs); a worker timeout usually means bunq is slow or rate-limiting.',
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.stackName,
      defaultInterval: Duration.days(1),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 12): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      graph('Drift (all credentials)', [
        serviceMetric(MetricName.DriftFound, 'Sum', period).with({ label: 'Drift found' }),
        serviceMetric(MetricName.DriftRemaining, 'Maximum', period).with({ label: 'Drift remaining' }),
      ]),
      graph('Drift remaining per credential', [perCredential(MetricName.DriftRemaining, 'Maximum', period)]),
    );
    this.dashboard.addWidgets(
      graph('Operations', [
        serviceMetric(MetricName.OperationsApplied, 'Sum', period).with({ label: 'Applied' }),
        serviceMetric(MetricName.OperationsFailed, 'Sum', period).with({ label: 'Failed' }),
        serviceMetric(MetricName.OperationsBlocked, 'Sum', period).with({ label: 'Blocked by a guard' }),
      ]),
      graph('Runs and failures', [
        serviceMetric(MetricName.RunSucceeded, 'Sum', period).with({ label: 'Runs succeeded' }),
        serviceMetric(MetricName.RunFailed, 'Sum', period).with({ label: 'Runs failed' }),
        ...Object.values(errorMetrics),
      ]),
    );
    this.dashboard.addWidgets(
      graph('ACTIVE IPs per credential', [perCredential(MetricName.ActiveIpCount, 'Maximum', period)]),
      graph('Queues', [
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'Dead-letter queue depth', statistic: 'Maximum', period: Duration.minutes(5) }),
        props.queue.metricApproximateNumberOfMessagesVisible({ label: 'Reconcile queue depth', statistic: 'Maximum', period: Duration.minutes(5) }),
        props.queue.metricApproximateAgeOfOldestMessage({ label: 'Oldest reconcile request (s)', statistic: 'Maximum', period: Duration.minutes(5) }),
      ]),
    );
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
