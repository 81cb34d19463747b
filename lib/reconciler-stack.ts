import { Annotations, CfnOutput, Duration, Stack, type CfnElement, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_SOURCE, EventDetailType } from '../lambdas/shared/event-names';
import { hasFixedEgress, type ReconcilerConfig } from './config';
import { DATA_STORES_ID, DataStores } from './data-stores';
import { FixedEgress } from './egress';
import { Monitoring } from './monitoring';
import { ReconcileTriggers } from './reconcile-triggers';
import type { ReconcilerFunction } from './reconciler-function';
import { ReconcilerFunctions } from './reconciler-functions';
import { logicalIdOutsideParts } from './stack-part';

export { MAX_RECEIVE_COUNT, VISIBILITY_SLACK_SECONDS } from './data-stores';

export interface ReconcilerStackProps extends StackProps {
  config: ReconcilerConfig;
}

/**
 * The one stack: data stores, egress (NAT instance by default), the three functions and what
 * triggers them, alarms and dashboard, change notifications, and the outputs the CLI reads.
 */
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

    const data = new DataStores(this, DATA_STORES_ID, config);
    ({ key: this.key, desiredTable: this.desiredTable, stateTable: this.stateTable, queue: this.queue, deadLetterQueue: this.deadLetterQueue } = data);

    this.egress = config.egress === 'none' ? undefined : new FixedEgress(this, 'Egress', { mode: config.egress, logRetention: config.logRetentionDays as logs.RetentionDays });
    if (!hasFixedEgress(config.egress)) {
      Annotations.of(this).addWarningV2(
        'bunq-ip-reconciler:egress-none',
        'egress=none: the worker calls bunq from changing AWS addresses, so the credential needs an ACTIVE `*` (a wildcard key) and bunq\'s IP filtering stays OFF for it: anyone holding the API key can call from anywhere. ' +
          'Deploy with the default egress (nat-instance, about $7/month) for a fixed IP and a closed whitelist.',
      );
    }

    const functions = new ReconcilerFunctions(this, 'Functions', { config, data, egress: this.egress });
    ({ fanOut: this.fanOut, streamTrigger: this.streamTrigger, worker: this.worker } = functions);
    new ReconcileTriggers(this, 'Triggers', { config, data, functions });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      stackName: config.stackName,
      key: this.key,
      alarmEmail: config.alarmEmail,
      schedulePeriod: Duration.minutes(config.scheduleMinutes),
      driftAlarmPeriods: config.driftAlarmPeriods,
      missedRunPeriods: config.missedRunPeriods,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      functions: functions.all(),
      fanOut: this.fanOut,
      workerLogGroup: this.worker.logGroupResource,
      fixedEgressIp: this.egress?.publicIp,
    });
    this.egress?.addHealthAlarms(this.monitoring.topic, config.stackName);

    if (config.changeEmail !== undefined) this.changeNotifications(config.changeEmail);
    this.outputs(config);
  }

  /** Logical IDs ignore StackParts (see stack-part.ts): grouping resources into parts replaces none. */
  protected override allocateLogicalId(element: CfnElement): string {
    return logicalIdOutsideParts(this, element);
  }

  private outputs(config: ReconcilerConfig): void {
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
}
