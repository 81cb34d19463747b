import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { EnvName } from '../lambdas/shared/env-names';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lambdas/shared/metric-names';
import type { ReconcilerConfig } from './config';
import type { DataStores } from './data-stores';
import type { FixedEgress } from './egress';
import { ReconcilerFunction } from './reconciler-function';
import { StackPart, uniqueIdOutsideParts } from './stack-part';

export interface ReconcilerFunctionsProps {
  config: ReconcilerConfig;
  data: DataStores;
  /** The NAT egress the worker leaves through, when the deployment has one. */
  egress: FixedEgress | undefined;
}

/** The three functions, what each is told (its environment) and what each may do (its role). */
/**
 * Memory of each function, MB. Lambda gives CPU in proportion (1,769 MB = one vCPU), which the
 * bench uses to turn a handler's measured CPU time into Lambda time. The worker gets more: RSA
 * signing and verification are CPU-bound, and more memory buys a faster CPU share.
 */
export const FUNCTION_MEMORY_MB = { fanOut: 256, streamTrigger: 256, worker: 512 } as const;

export class ReconcilerFunctions extends StackPart {
  readonly fanOut: ReconcilerFunction;
  readonly streamTrigger: ReconcilerFunction;
  readonly worker: ReconcilerFunction;
  private readonly data: DataStores;

  constructor(scope: Construct, id: string, props: ReconcilerFunctionsProps) {
    super(scope, id);
    const { config, data, egress } = props;
    this.data = data;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    // Every handler gets the same environment so a shared env parser works in each; what each may
    // actually do is decided by its role below, not by what it is told.
    const environment: Record<string, string> = {
      [EnvName.DesiredTable]: data.desiredTable.tableName,
      [EnvName.StateTable]: data.stateTable.tableName,
      [EnvName.QueueUrl]: data.queue.queueUrl,
      [EnvName.SecretPrefix]: config.secretNamePrefix,
      [EnvName.HistoryTtlDays]: String(config.historyTtlDays),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      // The worker always protects the address it calls bunq from (never deactivates it).
      ...(egress !== undefined ? { [EnvName.EgressIps]: egress.publicIp } : {}),
    };

    this.fanOut = new ReconcilerFunction(this, 'FanOut', {
      handlerFile: 'fan-out',
      description: 'Scheduled: enqueues one reconcile request per credential found in DesiredIps',
      timeout: Duration.seconds(60),
      memorySize: FUNCTION_MEMORY_MB.fanOut,
      environment,
      logRetention,
    });
    this.streamTrigger = new ReconcilerFunction(this, 'StreamTrigger', {
      handlerFile: 'stream-trigger',
      description: 'DesiredIps stream: enqueues a reconcile request for each credential an operator edited',
      timeout: Duration.seconds(30),
      memorySize: FUNCTION_MEMORY_MB.streamTrigger,
      environment,
      logRetention,
    });
    this.worker = new ReconcilerFunction(this, 'ReconcileWorker', {
      handlerFile: 'reconcile-worker',
      description: 'Reconciles one credential\'s bunq IP whitelist with DesiredIps',
      timeout: Duration.seconds(config.workerTimeoutSeconds),
      memorySize: FUNCTION_MEMORY_MB.worker,
      environment,
      logRetention,
      ...(egress !== undefined ? { vpc: egress.vpc } : {}),
    });
    if (egress !== undefined) this.keepSecurityGroupDescription(this.worker);

    this.grantFanOut();
    this.grantStreamTrigger();
    this.grantWorker(config.secretNamePrefix);
  }

  /** Every function, for the alarms that watch them all. */
  all(): ReconcilerFunction[] {
    return [this.fanOut, this.streamTrigger, this.worker];
  }

  /**
   * Lambda names the security group it creates for a VPC function after the function's path, and a
   * security group cannot change its description in place: give it the one it had before the
   * function moved into this part, so the deploy does not replace it (and the worker's ENIs).
   */
  private keepSecurityGroupDescription(fn: ReconcilerFunction): void {
    for (const sg of fn.connections.securityGroups) {
      const cfn = sg.node.defaultChild;
      if (cfn instanceof ec2.CfnSecurityGroup) cfn.groupDescription = `Automatic security group for Lambda Function ${uniqueIdOutsideParts(fn)}`;
    }
  }

  private grantFanOut(): void {
    const fn = this.fanOut;
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ScanDesiredIps',
      actions: ['dynamodb:Scan'],
      resources: [this.data.desiredTable.tableArn],
    }));
    this.data.key.grant(fn, 'kms:Decrypt', 'kms:DescribeKey');
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
      resources: [this.data.queue.queueArn],
    }));
    this.data.key.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
  }

  private grantWorker(secretNamePrefix: string): void {
    const fn = this.worker;
    const stack = Stack.of(this);
    const { desiredTable, stateTable, key } = this.data;
    desiredTable.grantReadData(fn);
    stateTable.grantReadWriteData(fn);
    const secretsArn = stack.formatArn({
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
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
    }));
    // Change events (lambdas/aws/events.ts) go to the account's default bus and nowhere else.
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'PublishChangeEventsToDefaultBus',
      actions: ['events:PutEvents'],
      resources: [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
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
