import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { credentialAlarms, deploymentAlarms, type MonitoringProps } from '../../lib/monitoring';

function props(fixedEgressIp: string | undefined): MonitoringProps {
  const stack = new Stack(new App(), 'Specs');
  const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = () => {}') });
  return {
    stackName: 'Specs',
    key: new kms.Key(stack, 'Key'),
    alarmEmail: undefined,
    schedulePeriod: Duration.minutes(5),
    driftAlarmPeriods: 3,
    missedRunPeriods: 3,
    queue: new sqs.Queue(stack, 'Queue'),
    deadLetterQueue: new sqs.Queue(stack, 'Dlq'),
    functions: [fn],
    fanOut: fn,
    workerLogGroup: new logs.LogGroup(stack, 'Logs'),
    fixedEgressIp,
  };
}

// The alarm table is the reconciler's alerting contract: a new entry must fit it.
describe('alarm specs', () => {
  it('alarms about a credential are Metrics Insights queries grouped by credential, so each names its credential', () => {
    const specs = credentialAlarms(props('203.0.113.7'));
    expect(specs.map((s) => s.name)).toEqual([
      'RunsFailing', 'NoSuccessfulRun', 'DriftRemaining', 'GuardBlockedOperations', 'InvalidDesiredEntries', 'UnrecognisedEntries', 'CredentialClaimedTwice', 'ActiveWildcard',
    ]);
    for (const { name, metric } of specs) {
      expect(metric, name).toBeInstanceOf(cloudwatch.MathExpression);
      expect((metric as cloudwatch.MathExpression).expression, name).toMatch(/^SELECT .* GROUP BY credential$/);
    }
  });

  it('has no ActiveWildcard alarm without a fixed egress IP (`*` is then the intended state)', () => {
    expect(credentialAlarms(props(undefined)).map((s) => s.name)).not.toContain('ActiveWildcard');
  });

  it('every alarm has a unique name and tells what it means and what to do', () => {
    const specs = [...credentialAlarms(props('203.0.113.7')), ...deploymentAlarms(props('203.0.113.7'))];
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    expect(deploymentAlarms(props(undefined)).map((s) => s.name)).toEqual(['DeadLetters', 'OldestRequest', 'FanOutStopped', 'HandlerErrors']);
    for (const { name, options } of specs) {
      expect(options.alarmDescription, name).toMatch(/^Means: .+ Do: .+/);
      expect(options.treatMissingData, name).toBeDefined();
    }
  });
});
