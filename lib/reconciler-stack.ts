import { Annotations, ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lambdas/shared/metric-names';
import { EnvName } from '../lambdas/shared/env-names';
import { EVENT_SOURCE, EventDetailType } from '../lambdas/shared/event-names';
import { hasFixedEgress, type ReconcilerConfig } from './config';
import { FixedEgress } from './egress';
import { Monitoring } from './monitoring';
import { ReconcilerFunction } from './reconciler-function';

export interface ReconcilerStackProps extends StackProps {
  config: ReconcilerConfig;
}

/**
 * Visibility timeout = worker timeout + this slack (Lambda requires at least the timeout; the slack
 * keeps a redelivery from overlapping a run that is being killed at its timeout). Only a run that
 * left no record is redelivered (recorded failures are acknowledged and the schedule retries them),
 * so a long visibility buys nothing and would block the credential's FIFO group: issue 12.
 */
export const VISIBILITY_SLACK_SECONDS = 30;
/**
 * Receives of one reconcile request before it is parked in the dead-letter queue. 1: a run that
 * left no record (killed, crashed, the state table unwritable) or an unreadable message goes to the
 * DLQ after one visibility timeout (≤ 2 schedule periods), where DeadLetters reports it; the next
 * scheduled run retries the credential anyway, and a second delivery would hold its group longer.
 */
export const MAX_RECEIVE_COUNT = 1;

/** The one stack: tables, queue, the three functions, schedule, alarms, dashboard, and the egress (NAT instance by default). */
export class ReconcilerStack extends Stack {
  readonly key: kms.Key;
  readonly desiredTable: dynamodb.Table;
  readonly stateTable: dynamodb.Table;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly fanOut: ReconcilerFunction;
  readonly streamTrigger: ReconcilerFunction;
  readonly worker: ReconcilerFunction;
  readonly monitoring: Monitoring;
  readonly egress: FixedEgress | undefined;

  constructor(scope: Construct, id: string, props: ReconcilerStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const schedulePeriod = Duration.minutes(config.scheduleMinutes);
    const workerTimeout = Duration.seconds(config.workerTimeoutSeconds);

    // One customer-managed key for the tables, queues and topic. Retained with the tables: deleting
    // it would make the retained tables and their backups unreadable.
    this.key = new kms.Key(this, 'DataKey', {
      description: `bunq-ip-reconciler (${config.stackName}): tables, queues and alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms publish to the encrypted topic, which needs the key on their behalf.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseKeyForTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    const tableProtections = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    } as const;

    this.desiredTable = new dynamodb.Table(this, 'DesiredIps', {
      ...tableProtections,
      ...(config.desiredTableName !== undefined ? { tableName: config.desiredTableName } : {}),
      partitionKey: { name: 'credential', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'entry', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: 'expiresAt',
    });

    this.stateTable = new dynamodb.Table(this, 'ReconcileState', {
      ...tableProtections,
      ...(config.stateTableName !== undefined ? { tableName: config.stateTableName } : {}),
      partitionKey: { name: 'credential', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'entry', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'ttl',
    });

    this.deadLetterQueue = new sqs.Queue(this, 'ReconcileDeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'ReconcileQueue', {
      fifo: true,
      // Producers send explicit deduplication ids (credential + time bucket), so bursts collapse.
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(config.workerTimeoutSeconds + VISIBILITY_SLACK_SECONDS),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.egress = config.egress === 'none' ? undefined : new FixedEgress(this, 'Egress', { mode: config.egress, logRetention });
    if (!hasFixedEgress(config.egress)) {
      Annotations.of(this).addWarningV2(
        'bunq-ip-reconciler:egress-none',
        'egress=none: the worker calls bunq from changing AWS addresses, so the credential needs an ACTIVE `*` (a wildcard key) and bunq\'s IP filtering stays OFF for it: anyone holding the API key can call from anywhere. ' +
          'Deploy with the default egress (nat-instance, about $7/month) for a fixed IP and a closed whitelist.',
      );
    }

    // Every handler gets the same environment so a shared env parser works in each; what each may
    // actually do is decided by its role below, not by what it is told.
    const environment: Record<string, string> = {
      [EnvName.DesiredTable]: this.desiredTable.tableName,
      [EnvName.StateTable]: this.stateTable.tableName,
      [EnvName.QueueUrl]: this.queue.queueUrl,
      [EnvName.SecretPrefix]: config.secretNamePrefix,
      [EnvName.HistoryTtlDays]: String(config.historyTtlDays),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      // The worker always protects the address it calls bunq from (never deactivates it).
      ...(this.egress !== undefined ? { [EnvName.EgressIps]: this.egress.publicIp } : {}),
    };

    this.fanOut = new ReconcilerFunction(this, 'FanOut', {
      handlerFile: 'fan-out',
      description: 'Scheduled: enqueues one reconcile request per credential found in DesiredIps',
      timeout: Duration.seconds(60),
      memorySize: 256,
      environment,
      logRetention,
    });
    this.streamTrigger = new ReconcilerFunction(this, 'StreamTrigger', {
      handlerFile: 'stream-trigger',
      description: 'DesiredIps stream: enqueues a reconcile request for each credential an operator edited',
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment,
      logRetention,
    });
    this.worker = new ReconcilerFunction(this, 'ReconcileWorker', {
      handlerFile: 'reconcile-worker',
      description: 'Reconciles one credential\'s bunq IP whitelist with DesiredIps',
      timeout: workerTimeout,
      // RSA signing and verification are CPU-bound; more memory buys a faster CPU share.
      memorySize: 512,
      environment,
      logRetention,
      ...(this.egress !== undefined ? { vpc: this.egress.vpc } : {}),
    });

    this.grantFanOut();
    this.grantStreamTrigger();
    this.grantWorker(config.secretNamePrefix);

    // Scheduled path: every period the fan-out scans DesiredIps and enqueues every credential.
    const schedulerRole = new iam.Role(this, 'FanOutScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'EventBridge Scheduler: invoke the reconciler fan-out function',
    });
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.fanOut.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason: 'CDK grants lambda:InvokeFunction on the fan-out function and its versions/aliases (`<arn>:*`); the wildcard never reaches another function.',
    });
    new scheduler.Schedule(this, 'FanOutSchedule', {
      description: `Reconcile every credential every ${config.scheduleMinutes} minute(s)`,
      schedule: scheduler.ScheduleExpression.rate(schedulePeriod),
      target: new targets.LambdaInvoke(this.fanOut, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 2,
        // A fan-out later than the next tick is redundant: that tick covers the same credentials.
        maxEventAge: Duration.seconds(Math.max(60, schedulePeriod.toSeconds())),
      }),
    });

    // Event path: only operator items wake the trigger. ReconcileState (the system's own writes)
    // has no stream at all; on DesiredIps only `ip#...` and `config` items pass the filter.
    this.streamTrigger.addEventSource(
      new sources.DynamoEventSource(this.desiredTable, {
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

    // Concurrency: bunq limits calls per source IP (GET 3, POST 5, PUT 2 per 3 s; session-server 1
    // per 30 s), and every worker of a NAT deployment shares one IP. Per-credential serialisation
    // comes from the FIFO message group; across credentials we cap the event source's maximum
    // concurrency (2, the smallest value Lambda accepts, by default). Reserved concurrency of 1 would
    // be stricter but throttles the poller's deliveries, and each throttled delivery counts towards
    // maxReceiveCount — healthy requests would end up in the DLQ — and it also fails to deploy in
    // accounts with the default low concurrency quota. The bunq client's limiter plus its 429
    // back-off absorb the overlap of two workers.
    // Batch size 1: one invocation reconciles one credential, so the function timeout (and the
    // visibility timeout derived from it) bounds exactly one run, and a failure never delays others.
    this.worker.addEventSource(
      new sources.SqsEventSource(this.queue, {
        batchSize: 1,
        maxConcurrency: config.workerMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    this.monitoring = new Monitoring(this, 'Monitoring', {
      stackName: config.stackName,
      key: this.key,
      alarmEmail: config.alarmEmail,
      schedulePeriod,
      driftAlarmPeriods: config.driftAlarmPeriods,
      missedRunPeriods: config.missedRunPeriods,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      functions: [this.fanOut, this.streamTrigger, this.worker],
      fanOut: this.fanOut,
      workerLogGroup: this.worker.logGroupResource,
      fixedEgressIp: this.egress?.publicIp,
    });
    this.egress?.addHealthAlarms(this.monitoring.topic, config.stackName);

    if (config.changeEmail !== undefined) this.changeNotifications(config.changeEmail);

    new CfnOutput(this, 'DesiredTableName', { value: this.desiredTable.tableName, description: 'DesiredIps table: operators declare IPs here' });
    new CfnOutput(this, 'StateTableName', { value: this.stateTable.tableName, description: 'ReconcileState table: status and run history' });
    new CfnOutput(this, 'ReconcileQueueUrl', { value: this.queue.queueUrl, description: 'FIFO queue of reconcile requests (the CLI `apply` sends here)' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl, description: 'Reconcile requests whose run left no record (killed, crashed, unreadable)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'SNS topic the alarms notify; subscribe more endpoints here' });
    new CfnOutput(this, 'DashboardUrl', { value: this.monitoring.dashboardUrl(), description: 'CloudWatch dashboard' });
    new CfnOutput(this, 'SecretNamePrefix', { value: config.secretNamePrefix, description: 'Name prefix of the per-credential Secrets Manager secrets the worker may use' });
    new CfnOutput(this, 'DataKeyArn', { value: this.key.keyArn, description: 'KMS key of the tables and queues; the CLI may encrypt credential secrets with it' });
    if (this.egress !== undefined) {
      new CfnOutput(this, 'EgressIp', {
        value: this.egress.publicIp,
        description: 'Fixed public IP the worker calls bunq from: bootstrap with --permitted-ip/--protected-ip <EgressIp>; the CLI reads it as EGRESS_IPS',
      });
    }
  }

  /**
   * `-c changeEmail=…`: every change event (IP Activated / IP Deactivated / Operation Held) of this
   * reconciler, mailed through an encrypted topic of its own (alarms and changes stay separate lists).
   */
  private changeNotifications(email: string): void {
    const topic = new sns.Topic(this, 'ChangeTopic', {
      displayName: 'bunq IP reconciler changes',
      masterKey: this.key,
      enforceSSL: true,
    });
    topic.addSubscription(new subscriptions.EmailSubscription(email));
    new events.Rule(this, 'ChangeEventsRule', {
      description: 'bunq-ip-reconciler change events to the change e-mail topic',
      eventPattern: { source: [EVENT_SOURCE], detailType: Object.values(EventDetailType) },
      targets: [new eventTargets.SnsTopic(topic)],
    });
    // EventBridge publishes to the KMS-encrypted topic, which needs the key on its behalf.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeToUseKeyForChangeTopic',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    new CfnOutput(this, 'ChangeTopicArn', { value: topic.topicArn, description: 'SNS topic the change events are mailed through' });
  }

  private grantFanOut(): void {
    const fn = this.fanOut;
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ScanDesiredIps',
      actions: ['dynamodb:Scan'],
      resources: [this.desiredTable.tableArn],
    }));
    this.key.grant(fn, 'kms:Decrypt', 'kms:DescribeKey');
    this.grantEnqueue(fn);
  }

  private grantStreamTrigger(): void {
    // Stream read permissions come with the event source (DynamoEventSource grants them).
    this.grantEnqueue(this.streamTrigger);
    Validations.of(this.streamTrigger.role ?? this.streamTrigger).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams (granted by the DynamoDB event source) supports no resource-level permissions; every other stream action is scoped to the DesiredIps stream ARN.',
    });
  }

  /** Send to the reconcile queue; SSE-KMS producers need GenerateDataKey and Decrypt on its key. */
  private grantEnqueue(fn: lambda.IFunction): void {
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'EnqueueReconcileRequests',
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      resources: [this.queue.queueArn],
    }));
    this.key.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
  }

  private grantWorker(secretNamePrefix: string): void {
    const fn = this.worker;
    this.desiredTable.grantReadData(fn);
    this.stateTable.grantReadWriteData(fn);
    const secretsArn = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${secretNamePrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'UseCredentialSecrets',
      actions: [
        'secretsmanager:GetSecretValue',
        'secretsmanager:DescribeSecret',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      resources: [secretsArn],
    }));
    // Secrets the CLI encrypted with this stack's key; secrets on the AWS managed key need nothing.
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'DecryptCredentialSecretsViaSecretsManager',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
    }));
    // Change events (lambdas/aws/events.ts) go to the account's default bus and nowhere else.
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'PublishChangeEventsToDefaultBus',
      actions: ['events:PutEvents'],
      resources: [this.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
    }));
    const role = fn.role ?? fn;
    Validations.of(role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${secretNamePrefix}*]`,
        reason: 'Secret ARNs end in a random suffix and credentials are added by the operator CLI after deployment, so access is scoped by the reconciler\'s own name prefix (which the config requires to end in a separator).',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
        reason: 'Part of CDK\'s grant for writing the KMS-encrypted ReconcileState table; scoped to this stack\'s one key.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: 'Part of CDK\'s grant for writing the KMS-encrypted ReconcileState table; scoped to this stack\'s one key.',
      },
    );
  }
}
