import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import type { ReconcilerConfig } from './config';
import type { DataStores } from './data-stores';
import type { ReconcilerFunctions } from './reconciler-functions';
import { StackPart } from './stack-part';

export interface ReconcileTriggersProps {
  config: ReconcilerConfig;
  data: DataStores;
  functions: ReconcilerFunctions;
}

/**
 * What starts each function: the schedule (fan-out), the DesiredIps stream (stream trigger) and
 * the reconcile queue (worker), with the batching and concurrency that bound a run.
 */
export class ReconcileTriggers extends StackPart {
  constructor(scope: Construct, id: string, props: ReconcileTriggersProps) {
    super(scope, id);
    const { config, data, functions } = props;
    this.schedule(config, functions.fanOut);
    this.operatorEdits(data, functions.streamTrigger);
    this.reconcileRequests(config, data, functions.worker);
  }

  /** Scheduled path: every period the fan-out scans DesiredIps and enqueues every credential. */
  private schedule(config: ReconcilerConfig, fanOut: lambda.IFunction): void {
    const stack = Stack.of(this);
    const schedulePeriod = Duration.minutes(config.scheduleMinutes);
    const schedulerRole = new iam.Role(this, 'FanOutScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invoke the reconciler fan-out function',
    });
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fanOut.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason: 'CDK grants lambda:InvokeFunction on the fan-out function and its versions/aliases (`<arn>:*`); the wildcard never reaches another function.',
    });
    new scheduler.Schedule(this, 'FanOutSchedule', {
      description: `Reconcile every credential every ${config.scheduleMinutes} minute(s)`,
      schedule: scheduler.ScheduleExpression.rate(schedulePeriod),
      target: new targets.LambdaInvoke(fanOut, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 2,
        // A fan-out later than the next tick is redundant: that tick covers the same credentials.
        maxEventAge: Duration.seconds(Math.max(60, schedulePeriod.toSeconds())),
      }),
    });
  }

  /**
   * Event path: only operator items wake the trigger. ReconcileState (the system's own writes)
   * has no stream at all; on DesiredIps only `ip#...` and `config` items pass the filter.
   */
  private operatorEdits(data: DataStores, streamTrigger: lambda.Function): void {
    streamTrigger.addEventSource(
      new sources.DynamoEventSource(data.desiredTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        // Collects a burst of console edits into one invocation (one request per credential).
        maxBatchingWindow: Duration.seconds(5),
        bisectBatchOnError: true,
        retryAttempts: 3,
        // Records older than an hour are stale: the scheduled runs have healed them since.
        maxRecordAge: Duration.hours(1),
        reportBatchItemFailures: true,
        filters: [
          lambda.FilterCriteria.filter({
            dynamodb: { Keys: { entry: { S: [{ prefix: 'ip#' }, 'config'] } } },
          }),
        ],
      }),
    );
  }

  /**
   * Concurrency: bunq limits calls per source IP (GET 3, POST 5, PUT 2 per 3 s; session-server 1
   * per 30 s), and every worker of a NAT deployment shares one IP. Per-credential serialisation
   * comes from the FIFO message group; across credentials we cap the event source's maximum
   * concurrency (2, the smallest value Lambda accepts, by default). Reserved concurrency of 1 would
   * be stricter but throttles the poller's deliveries, and each throttled delivery counts towards
   * maxReceiveCount — healthy requests would end up in the DLQ — and it also fails to deploy in
   * accounts with the default low concurrency quota. The bunq client's limiter plus its 429
   * back-off absorb the overlap of two workers.
   * Batch size 1: one invocation reconciles one credential, so the function timeout (and the
   * visibility timeout derived from it) bounds exactly one run, and a failure never delays others.
   */
  private reconcileRequests(config: ReconcilerConfig, data: DataStores, worker: lambda.Function): void {
    worker.addEventSource(
      new sources.SqsEventSource(data.queue, {
        batchSize: 1,
        maxConcurrency: config.workerMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }
}
