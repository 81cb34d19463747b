import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PARTITION_KEY, SORT_KEY } from '../lambdas/shared/table-keys';
import type { ReconcilerConfig } from './config';

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

/**
 * The stack's id for DataStores. `Default` is the id CDK leaves out of logical IDs and of
 * Names.nodeUniqueId, so the key, tables and queues keep the IDs they had as direct children of
 * the stack (a changed ID replaces a retained table), and so do the event source mappings, whose
 * construct ids embed the table's and the queue's unique id.
 */
export const DATA_STORES_ID = 'Default';

/** Everything that holds data: the key, the two tables and the reconcile queue with its dead-letter queue. */
export class DataStores extends Construct {
  readonly key: kms.Key;
  readonly desiredTable: dynamodb.Table;
  readonly stateTable: dynamodb.Table;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, config: ReconcilerConfig) {
    super(scope, id);
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
      partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: 'expiresAt',
    });

    this.stateTable = new dynamodb.Table(this, 'ReconcileState', {
      ...tableProtections,
      ...(config.stateTableName !== undefined ? { tableName: config.stateTableName } : {}),
      partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
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
  }
}
