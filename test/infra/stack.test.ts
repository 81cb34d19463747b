import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, MetricName, SERVICE_NAME } from '../../lambdas/shared/metric-names';
import { EnvName } from '../../lambdas/shared/env-names';
import type { EgressMode } from '../../lib/config';
import { logicalId, synthesize, type Synthesized } from './synth';

// Synths for the whole file: the defaults (egress nat-instance), every option changed at once (with
// egress given by its old name `nat`, i.e. nat-gateway), and egress=none.
let base: Synthesized;
let nat: Synthesized;
let none: Synthesized;

beforeAll(() => {
  base = synthesize({});
  nat = synthesize({
    egress: 'nat',
    alarmEmail: 'ops@example.com',
    scheduleMinutes: '10',
    workerTimeoutSeconds: '270',
    changeEmail: 'changes@example.com',
    workerMaxConcurrency: '3',
    logRetentionDays: '30',
    historyTtlDays: '30',
    driftAlarmPeriods: '4',
    missedRunPeriods: '5',
    secretNamePrefix: 'acme/bunq/',
    stackName: 'AcmeBunqIp',
  }, { bundle: false });
  none = synthesize({ egress: 'none' }, { bundle: false });
}, 120_000);

afterAll(() => {
  for (const dir of [base?.outdir, nat?.outdir, none?.outdir, namedOutdir]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string; Condition?: unknown };

function statementsOf(template: Template, rolePrefix: string): Statement[] {
  const roleId = logicalId(template, 'AWS::IAM::Role', rolePrefix);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  });
  return Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
}

function actionsOf(statements: Statement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
}

/** An alarm description as CloudWatch shows it, with the one deploy-time value (the egress IP) filled in. */
function descriptionText(value: unknown, egressIp: string): string {
  if (typeof value === 'string') return value;
  const parts = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts.map((p) => (typeof p === 'string' ? p : egressIp)).join('');
}

const keyArn = (t: Template): unknown => ({ 'Fn::GetAtt': [logicalId(t, 'AWS::KMS::Key', 'DataKey'), 'Arn'] });

describe('data: tables and key', () => {
  it('has a rotating customer-managed key that outlives the stack', () => {
    base.template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('lets CloudWatch alarms use the key to publish to the encrypted topic', () => {
    base.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('DesiredIps: credential/entry keys, on-demand, new+old image stream, PITR, CMK, TTL expiresAt, retained', () => {
    const { template } = base;
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [
          { AttributeName: 'credential', KeyType: 'HASH' },
          { AttributeName: 'entry', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'credential', AttributeType: 'S' },
          { AttributeName: 'entry', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn(template) },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        DeletionProtectionEnabled: true,
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('ReconcileState: same protections, TTL on `ttl`, and no stream (its writes can never wake the trigger)', () => {
    const { template } = base;
    const id = logicalId(template, 'AWS::DynamoDB::Table', 'ReconcileState');
    const table = template.toJSON().Resources[id];
    expect(table).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn(template) },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        DeletionProtectionEnabled: true,
      },
    });
    expect(table.Properties.StreamSpecification).toBeUndefined();
  });

  it('uses the configured physical table names when given', () => {
    const named = synthesizeNamesOnly();
    named.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'ops-desired-ips', TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
    named.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'ops-reconcile-state', TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } });
  });
});

// A third, cheap variant: only the names differ, so reuse would hide nothing. Lazily built once.
let namedTemplate: Template | undefined;
let namedOutdir: string | undefined;
function synthesizeNamesOnly(): Template {
  if (namedTemplate === undefined) {
    const named = synthesize({ desiredTableName: 'ops-desired-ips', stateTableName: 'ops-reconcile-state' }, { bundle: false });
    namedTemplate = named.template;
    namedOutdir = named.outdir;
  }
  return namedTemplate;
}

describe('queue', () => {
  it('is FIFO with explicit dedup ids, KMS, a FIFO DLQ after 1 receive, visibility = worker timeout + 30 s', () => {
    for (const [v, timeout] of [[base, 300], [nat, 270]] as const) {
      const { template } = v;
      const dlq = logicalId(template, 'AWS::SQS::Queue', 'ReconcileDeadLetterQueue');
      template.hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        ContentBasedDeduplication: false,
        KmsMasterKeyId: keyArn(template),
        VisibilityTimeout: timeout + 30,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 1 },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        KmsMasterKeyId: keyArn(template),
        MessageRetentionPeriod: 14 * 24 * 3600,
        RedrivePolicy: Match.absent(),
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'index.handler',
        Timeout: timeout,
        Description: Match.stringLikeRegexp('^Reconciles one credential'),
      });
    }
  });

  it('refuses plain-HTTP access to both queues', () => {
    const { template } = base;
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const q of queues) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: q }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });
});

describe('functions', () => {
  it('are three Node 24 arm64 functions, each with its own log group and retention', () => {
    for (const [v, days] of [[base, 90], [nat, 30]] as const) {
      const { template } = v;
      const fns = template.findResources('AWS::Lambda::Function');
      expect(Object.keys(fns)).toHaveLength(3);
      for (const fn of Object.values(fns) as { Properties: { LoggingConfig: { LogGroup: { Ref: string } } } }[]) {
        expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
        const lg = template.toJSON().Resources[fn.Properties.LoggingConfig.LogGroup.Ref];
        expect(lg).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: days } });
      }
    }
  });

  it('are bundled by the local esbuild, minified with a source map', () => {
    const assets = readdirSync(base.outdir).filter((d) => d.startsWith('asset.'));
    const bundles = assets.filter((d) => existsSync(join(base.outdir, d, 'index.js')));
    expect(bundles.length).toBe(3);
    for (const d of bundles) {
      const js = readFileSync(join(base.outdir, d, 'index.js'), 'utf8');
      expect(js).toContain('//# sourceMappingURL=index.js.map');
      expect(existsSync(join(base.outdir, d, 'index.js.map'))).toBe(true);
    }
  });

  it('get the environment the handlers read, from metric-names.ts', () => {
    const { template } = nat;
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    for (const fn of fns) {
      expect(fn.Properties.Environment.Variables).toEqual({
        DESIRED_TABLE_NAME: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'DesiredIps') },
        STATE_TABLE_NAME: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'ReconcileState') },
        RECONCILE_QUEUE_URL: { Ref: logicalId(template, 'AWS::SQS::Queue', 'ReconcileQueue') },
        SECRET_NAME_PREFIX: 'acme/bunq/',
        HISTORY_TTL_DAYS: '30',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        EGRESS_IPS: { 'Fn::GetAtt': [logicalId(template, 'AWS::EC2::EIP', 'Egress'), 'PublicIp'] },
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('get EGRESS_IPS (the Elastic IP) in both NAT modes, and no EGRESS_IPS without a fixed egress', () => {
    for (const { template } of [base, nat]) {
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[]) {
        expect(fn.Properties.Environment.Variables[EnvName.EgressIps]).toEqual({ 'Fn::GetAtt': [logicalId(template, 'AWS::EC2::EIP', 'Egress'), 'PublicIp'] });
      }
    }
    for (const fn of Object.values(none.template.findResources('AWS::Lambda::Function')) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[]) {
      expect(fn.Properties.Environment.Variables).not.toHaveProperty(EnvName.EgressIps);
    }
  });

  it('worker: SQS event source, one message per invocation, partial batch failures, bounded concurrency', () => {
    for (const [v, concurrency] of [[base, 2], [nat, 3]] as const) {
      const { template } = v;
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'ReconcileQueue'), 'Arn'] },
        FunctionName: { Ref: logicalId(template, 'AWS::Lambda::Function', 'ReconcileWorker') },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: concurrency },
      });
    }
  });

  it('stream trigger: DesiredIps stream filtered to operator items (ip#… and config), partial batch failures', () => {
    const { template } = base;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::DynamoDB::Table', 'DesiredIps'), 'StreamArn'] },
      FunctionName: { Ref: logicalId(template, 'AWS::Lambda::Function', 'StreamTrigger') },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { Keys: { entry: { S: [{ prefix: 'ip#' }, 'config'] } } } }) }] },
    });
    expect(template.findResources('AWS::Lambda::EventSourceMapping')).toSatisfy(
      (m: object) => Object.keys(m).length === 2,
    );
  });

  it('the stream filter lets operator items through and nothing else', () => {
    // Evaluates the synthesized pattern the way Lambda does for this shape (exact string or prefix),
    // so a wrong key path or matcher in the template fails here, not in production.
    const { template } = base;
    const esm = Object.values(template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { StartingPosition: 'TRIM_HORIZON' } }))[0] as {
      Properties: { FilterCriteria: { Filters: { Pattern: string }[] } };
    };
    const pattern = JSON.parse(esm.Properties.FilterCriteria.Filters[0]?.Pattern ?? '{}') as {
      dynamodb: { Keys: { entry: { S: (string | { prefix: string })[] } } };
    };
    const matches = (entry: string): boolean =>
      pattern.dynamodb.Keys.entry.S.some((m) => (typeof m === 'string' ? m === entry : entry.startsWith(m.prefix)));
    expect(['ip#203.0.113.7', 'ip#not-an-ip', 'config'].every(matches)).toBe(true);
    expect(['status', 'run#2026-01-01T00:00:00Z', 'configuration', 'IP#1.2.3.4'].some(matches)).toBe(false);
  });

  it('scheduler invokes the fan-out at the configured rate with the scheduled time as input', () => {
    for (const [v, minutes] of [[base, 5], [nat, 10]] as const) {
      const { template } = v;
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: `rate(${minutes} minutes)`,
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Function', 'FanOut'), 'Arn'] },
          Input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}',
          RoleArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'FanOutScheduleRole'), 'Arn'] },
        },
      });
    }
  });
});

describe('IAM least privilege', () => {
  it('no role carries an AWS managed policy except the VPC ENI policy of the worker in the NAT modes', () => {
    for (const fn of Object.values(none.template.findResources('AWS::IAM::Role'))) {
      expect((fn as { Properties: { ManagedPolicyArns?: unknown } }).Properties.ManagedPolicyArns).toBeUndefined();
    }
    for (const { template } of [base, nat]) {
      const natRoles = Object.entries(template.findResources('AWS::IAM::Role')).filter(
        ([, r]) => (r as { Properties: { ManagedPolicyArns?: unknown } }).Properties.ManagedPolicyArns !== undefined,
      );
      expect(natRoles.map(([id]) => id)).toEqual([logicalId(template, 'AWS::IAM::Role', 'ReconcileWorkerRole')]);
      expect(JSON.stringify(natRoles[0]?.[1])).toContain('service-role/AWSLambdaVPCAccessExecutionRole');
    }
  });

  it('the NAT instance\'s role has no policy at all', () => {
    const role = base.template.toJSON().Resources[logicalId(base.template, 'AWS::IAM::Role', 'EgressVpcpublicSubnet1NatInstance')];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    const attached = Object.values(base.template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p).includes(logicalId(base.template, 'AWS::IAM::Role', 'EgressVpcpublicSubnet1NatInstance')),
    );
    expect(attached).toEqual([]);
  });

  it('fan-out may scan DesiredIps, enqueue, write its logs — nothing else', () => {
    const { template } = base;
    const statements = statementsOf(template, 'FanOutRole');
    expect(actionsOf(statements)).toEqual([
      'dynamodb:Scan',
      'kms:Decrypt', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey',
      'logs:CreateLogStream', 'logs:PutLogEvents',
      'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage',
    ]);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'dynamodb:Scan', Resource: { 'Fn::GetAtt': [logicalId(template, 'AWS::DynamoDB::Table', 'DesiredIps'), 'Arn'] } }));
    expect(statements).toContainEqual(expect.objectContaining({ Sid: 'EnqueueReconcileRequests', Resource: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'ReconcileQueue'), 'Arn'] } }));
    expect(statements).toContainEqual(expect.objectContaining({ Sid: 'WriteOwnLogs', Resource: { 'Fn::GetAtt': [logicalId(template, 'AWS::Logs::LogGroup', 'FanOutLogs'), 'Arn'] } }));
    for (const s of statements.filter((x) => actionsOf([x]).some((a) => a.startsWith('kms:')))) expect(s.Resource).toEqual(keyArn(template));
  });

  it('stream trigger may read the DesiredIps stream and enqueue; its only `*` is ListStreams', () => {
    const { template } = base;
    const statements = statementsOf(template, 'StreamTriggerRole');
    expect(statements).toContainEqual(expect.objectContaining({
      Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
      Resource: { 'Fn::GetAtt': [logicalId(template, 'AWS::DynamoDB::Table', 'DesiredIps'), 'StreamArn'] },
    }));
    expect(statements.filter((s) => s.Resource === '*')).toEqual([{ Action: 'dynamodb:ListStreams', Effect: 'Allow', Resource: '*' }]);
    expect(actionsOf(statements).filter((a) => a.startsWith('dynamodb:') && !/Stream|GetRecords|GetShardIterator/.test(a))).toEqual([]);
  });

  it('worker may use secrets under the prefix only, read DesiredIps, read/write ReconcileState', () => {
    for (const [v, prefix] of [[base, 'bunq-ip-reconciler/'], [nat, 'acme/bunq/']] as const) {
      const { template } = v;
      const statements = statementsOf(template, 'ReconcileWorkerRole');
      const secrets = statements.find((s) => s.Sid === 'UseCredentialSecrets');
      expect(secrets).toEqual({
        Sid: 'UseCredentialSecrets',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:secret:${prefix}*`]] },
      });
      const desired = { 'Fn::GetAtt': [logicalId(template, 'AWS::DynamoDB::Table', 'DesiredIps'), 'Arn'] };
      const state = { 'Fn::GetAtt': [logicalId(template, 'AWS::DynamoDB::Table', 'ReconcileState'), 'Arn'] };
      const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
      for (const s of statements.filter((x) => JSON.stringify(x.Resource).includes(JSON.stringify(desired)))) {
        expect(actionsOf([s]).filter((a) => writes.includes(a))).toEqual([]);
      }
      expect(statements.some((s) => JSON.stringify(s.Resource).includes(JSON.stringify(state)) && actionsOf([s]).includes('dynamodb:PutItem'))).toBe(true);
      const queueArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'ReconcileQueue'), 'Arn'] });
      expect(statements.some((s) => JSON.stringify(s.Resource) === queueArn && actionsOf([s]).includes('sqs:ReceiveMessage'))).toBe(true);
      expect(statements.some((s) => s.Resource === '*')).toBe(false);
      expect(actionsOf(statements).some((a) => a.startsWith('sqs:Send'))).toBe(false);
    }
  });

  it('worker may put change events on the default bus only; no other role may', () => {
    for (const { template } of [base, nat]) {
      const statements = statementsOf(template, 'ReconcileWorkerRole');
      expect(statements.filter((x) => actionsOf([x]).some((act) => act.startsWith('events:')))).toEqual([{
        Sid: 'PublishChangeEventsToDefaultBus',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']] },
      }]);
      for (const role of ['FanOutRole', 'StreamTriggerRole']) {
        expect(actionsOf(statementsOf(template, role)).some((act) => act.startsWith('events:'))).toBe(false);
      }
    }
  });

  it('-c changeEmail adds a rule for the change events, an encrypted topic and the e-mail subscription', () => {
    base.template.resourceCountIs('AWS::Events::Rule', 0);
    const { template } = nat;
    const topic = logicalId(template, 'AWS::SNS::Topic', 'ChangeTopic');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['bunq-ip-reconciler'], 'detail-type': ['IP Activated', 'IP Deactivated', 'Operation Held'] },
      Targets: [Match.objectLike({ Arn: { Ref: topic } })],
    });
    template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'bunq IP reconciler changes', KmsMasterKeyId: keyArn(template) });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'changes@example.com', TopicArn: { Ref: topic } });
  });

  it('no statement anywhere allows every action of a service', () => {
    for (const { template } of [base, nat]) {
      for (const p of Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[]) {
        for (const a of actionsOf(p.Properties.PolicyDocument.Statement)) expect(a).not.toMatch(/(^\*$|:\*$)/);
      }
    }
  });
});

describe('alarms and topic', () => {
  it('topic is KMS-encrypted, refuses plain HTTP, and has an e-mail subscription only when configured', () => {
    for (const { template } of [base, nat]) {
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn(template) });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
    base.template.resourceCountIs('AWS::SNS::Subscription', 0);
    nat.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: logicalId(nat.template, 'AWS::SNS::Topic', 'MonitoringAlarmTopic') } });
  });

  it('every alarm notifies the topic on ALARM and OK and explains what it means and what to do', () => {
    for (const [{ template }, count] of [[base, 14], [nat, 12], [none, 11]] as const) {
      const topic = { Ref: logicalId(template, 'AWS::SNS::Topic', 'MonitoringAlarmTopic') };
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: Record<string, unknown> }[];
      expect(alarms).toHaveLength(count);
      for (const a of alarms) {
        expect(a.Properties.AlarmActions).toContainEqual(topic);
        expect(a.Properties.OKActions).toEqual([topic]);
        // The wildcard alarm names the egress IP, a deploy-time value: 15 characters at most.
        const description = descriptionText(a.Properties.AlarmDescription, '255.255.255.255');
        expect(description).toMatch(/^Means: .+ Do: .+/s);
        expect(description.length).toBeLessThanOrEqual(1024);
      }
    }
  });

  it('ActiveWildcard: with a fixed egress it says how to close `*`, naming the egress IP; with egress=none there is none', () => {
    for (const { template } of [base, nat]) {
      const [alarm] = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: Match.stringLikeRegexp('-ActiveWildcard$') } })) as { Properties: Record<string, unknown> }[];
      const eip = { 'Fn::GetAtt': [logicalId(template, 'AWS::EC2::EIP', 'Egress'), 'PublicIp'] };
      expect(JSON.stringify(alarm?.Properties.AlarmDescription)).toContain(JSON.stringify(eip));
      expect(descriptionText(alarm?.Properties.AlarmDescription, '203.0.113.9')).toContain('switch `*` off in the bunq app; the reconciler calls from 203.0.113.9, which is ACTIVE');
    }
    expect(Object.keys(none.template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: Match.stringLikeRegexp('-ActiveWildcard$') } }))).toEqual([]);
  });

  const query = (fn: string, metric: string): string =>
    `SELECT ${fn}(${metric}) FROM SCHEMA("${METRICS_NAMESPACE}", credential, service) WHERE service = '${SERVICE_NAME}' GROUP BY credential`;
  const insightsAlarm = (fn: string, metric: string, period: number, extra: Record<string, unknown>): Record<string, unknown> => ({
    Metrics: [{ Id: Match.anyValue(), Expression: query(fn, metric), Period: period, ReturnData: true }],
    Namespace: Match.absent(),
    Dimensions: Match.absent(),
    ...extra,
  });
  const atLeastOne = { Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' };

  it.each([
    ['drift still present for N periods', 'DriftRemaining', 'MAX', MetricName.DriftRemaining, { ...atLeastOne, TreatMissingData: 'ignore' }, [3, 3], [4, 4]],
    ['runs failing, transient kinds included', 'RunsFailing', 'SUM', MetricName.RunFailed, { ...atLeastOne, TreatMissingData: 'notBreaching' }, [3, 2], [3, 2]],
    ['no successful run (missing data = breaching)', 'NoSuccessfulRun', 'MIN', MetricName.RunFailed, { ...atLeastOne, TreatMissingData: 'breaching' }, [3, 3], [5, 5]],
    ['an ACTIVE `*`', 'ActiveWildcard', 'MAX', MetricName.ActiveWildcard, { ...atLeastOne, TreatMissingData: 'notBreaching' }, [2, 1], [2, 1]],
    ['invalid desired entries', 'InvalidDesiredEntries', 'MAX', MetricName.InvalidDesiredEntries, { ...atLeastOne, TreatMissingData: 'notBreaching' }, [2, 1], [2, 1]],
    ['guard-held operations', 'GuardBlockedOperations', 'MAX', MetricName.OperationsBlocked, { ...atLeastOne, TreatMissingData: 'notBreaching' }, [2, 1], [2, 1]],
    ['unrecognised entries', 'UnrecognisedEntries', 'MAX', MetricName.UnrecognisedEntries, { ...atLeastOne, TreatMissingData: 'notBreaching' }, [2, 1], [2, 1]],
    ['a bunq credential claimed twice', 'CredentialClaimedTwice', 'MAX', MetricName.CredentialClaimedTwice, { ...atLeastOne, TreatMissingData: 'notBreaching' }, [2, 1], [2, 1]],
  ] as const)('alarm on %s is a Metrics Insights query grouped by credential, one period per schedule tick', (_what, name, fn, metric, props, [baseEval, baseDp], [natEval, natDp]) => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', insightsAlarm(fn, metric, 300, {
      ...props, AlarmName: `BunqIpReconciler-${name}`, EvaluationPeriods: baseEval, DatapointsToAlarm: baseDp,
    }));
    nat.template.hasResourceProperties('AWS::CloudWatch::Alarm', insightsAlarm(fn, metric, 600, {
      ...props, AlarmName: `AcmeBunqIp-${name}`, EvaluationPeriods: natEval, DatapointsToAlarm: natDp,
    }));
  });

  it('alarm on the oldest reconcile request: two schedule periods', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'BunqIpReconciler-OldestRequest', Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum', Threshold: 600, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1,
    });
    nat.template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'AcmeBunqIp-OldestRequest', Threshold: 1200 });
  });

  it('alarm on the schedule itself: fan-out invocations, missing data = breaching', () => {
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'BunqIpReconciler-FanOutStopped', Namespace: 'AWS/Lambda', MetricName: 'Invocations', Period: 300,
      Threshold: 1, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3, TreatMissingData: 'breaching',
    });
  });

  it('alarm on messages in the DLQ', () => {
    const { template } = base;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'BunqIpReconciler-DeadLetters',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'ReconcileDeadLetterQueue'), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarm on handler errors sums the three functions', () => {
    const { template } = base;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'BunqIpReconciler-HandlerErrors',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'e0 + e1 + e2' })]),
    });
  });
});

describe('dashboard and outputs', () => {
  it('dashboard shows drift, operations, failures, the per-credential log query and DLQ depth', () => {
    const { template } = base;
    const dash = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as { Properties: { DashboardBody: unknown; DashboardName: string } };
    expect(dash.Properties.DashboardName).toBe('BunqIpReconciler');
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const m of [MetricName.DriftFound, MetricName.OperationsApplied, MetricName.OperationsFailed, MetricName.ChangeEventsFailed, MetricName.CredentialsSkipped]) {
      expect(body).toContain(`\\"${m}\\"`);
    }
    for (const m of [MetricName.DriftRemaining, MetricName.OperationsBlocked, MetricName.RunFailed]) expect(body).toContain(`(${m}) FROM SCHEMA`);
    expect(body).toContain('stats latest(outcome) as outcome');
    expect(body).toContain(`SEARCH('{${METRICS_NAMESPACE},service} MetricName=BunqError'`);
    expect(body).toContain('Dead-letter queue depth');
    expect(body).toContain(logicalId(template, 'AWS::SQS::Queue', 'ReconcileDeadLetterQueue'));
    expect(body).toContain('\\"Errors\\"');
  });

  it('every metric the runtime emits is read by an alarm or a dashboard widget', () => {
    const resources = JSON.stringify(base.template.toJSON().Resources);
    const read = (name: string): boolean =>
      resources.includes(`(${name}) FROM SCHEMA`) || resources.includes(`"MetricName":"${name}"`) || resources.includes(`\\"${name}\\"`);
    expect(Object.values(MetricName).filter((m) => !read(m))).toEqual([]);
  });

  it('outputs table names, topic, dashboard URL, secret prefix; the egress IP only in the NAT modes', () => {
    const { template } = none;
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.DesiredTableName?.Value).toEqual({ Ref: logicalId(template, 'AWS::DynamoDB::Table', 'DesiredIps') });
    expect(outputs.StateTableName?.Value).toEqual({ Ref: logicalId(template, 'AWS::DynamoDB::Table', 'ReconcileState') });
    expect(outputs.AlarmTopicArn?.Value).toEqual({ Ref: logicalId(template, 'AWS::SNS::Topic', 'MonitoringAlarmTopic') });
    expect(outputs.SecretNamePrefix?.Value).toBe('bunq-ip-reconciler/');
    expect(JSON.stringify(outputs.DashboardUrl?.Value)).toContain('#dashboards:name=');
    expect(outputs.ReconcileQueueUrl?.Value).toEqual({ Ref: logicalId(template, 'AWS::SQS::Queue', 'ReconcileQueue') });
    expect(outputs.EgressIp).toBeUndefined();
    for (const { template: t } of [base, nat]) {
      expect((t.toJSON().Outputs as Record<string, { Value: unknown }>).EgressIp?.Value).toEqual({
        'Fn::GetAtt': [logicalId(t, 'AWS::EC2::EIP', 'Egress'), 'PublicIp'],
      });
    }
  });
});

describe('egress', () => {
  const privateSubnetsOf = (template: Template): string[] => Object.keys(template.findResources('AWS::EC2::Subnet', {
    Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]) },
  }));

  /** A NAT mode's egress: one VPC and one Elastic IP, held by a NAT gateway or a NAT instance. */
  const expectEgress = (
    { template, config }: Synthesized,
    mode: EgressMode,
    counts: { natGateways: number; instances: number },
  ): void => {
    expect(config.egress).toBe(mode);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', counts.natGateways);
    template.resourceCountIs('AWS::EC2::Instance', counts.instances);
    template.resourceCountIs('AWS::EC2::EIP', 1);
  };

  const workerInPrivateSubnets = (template: Template): void => {
    const privateSubnets = privateSubnetsOf(template);
    expect(privateSubnets).toHaveLength(2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Reconciles one credential'),
      VpcConfig: { SubnetIds: privateSubnets.map((id) => ({ Ref: id })) },
    });
    const inVpc = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { VpcConfig: Match.anyValue() } }));
    expect(inVpc).toEqual([logicalId(template, 'AWS::Lambda::Function', 'ReconcileWorker')]);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  };

  it('default nat-instance: no NAT gateway, one t4g.nano with source/dest check off holding the Elastic IP', () => {
    const { template } = base;
    expectEgress(base, 'nat-instance', { natGateways: 0, instances: 1 });
    const instanceId = logicalId(template, 'AWS::EC2::Instance', 'EgressVpcpublicSubnet1NatInstance');
    const instance = template.toJSON().Resources[instanceId];
    expect(instance.Properties).toMatchObject({
      InstanceType: 't4g.nano',
      SourceDestCheck: false,
      CreditSpecification: { CPUCredits: 'standard' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeType: 'gp3' } }],
      SubnetId: { Ref: expect.stringMatching(/^EgressVpcpublicSubnet1/) },
    });
    // The address survives a replaced instance: the EIP is the stack's, only the association moves.
    template.hasResourceProperties('AWS::EC2::EIPAssociation', {
      AllocationId: { 'Fn::GetAtt': [logicalId(template, 'AWS::EC2::EIP', 'Egress'), 'AllocationId'] },
      InstanceId: { Ref: instanceId },
    });
    // Both private subnets route to the instance.
    const routes = Object.values(template.findResources('AWS::EC2::Route', { Properties: { InstanceId: { Ref: instanceId } } }));
    expect(routes).toHaveLength(2);
    workerInPrivateSubnets(template);
  });

  it('nat-instance: Amazon Linux 2023 (arm64) resolved at deploy time from SSM, no synth-time lookup', () => {
    const { template } = base;
    const instance = template.toJSON().Resources[logicalId(template, 'AWS::EC2::Instance', 'EgressVpcpublicSubnet1NatInstance')];
    const parameter = (instance.Properties.ImageId as { Ref: string }).Ref;
    expect(template.toJSON().Parameters[parameter]).toEqual({
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: expect.stringMatching(/^\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-.*-arm64$/),
    });
    expect(base.app.node.tryGetContext('ami:')).toBeUndefined();
    expect(JSON.stringify(base.stack.node.metadata)).not.toContain('aws:cdk:missing');
    // CDK's own AL2023 NAT set-up (iptables masquerade), its package install retried.
    const userData = (instance.Properties.UserData as { 'Fn::Base64': string })['Fn::Base64'];
    expect(userData).toContain('iptables -t nat -A POSTROUTING');
    expect(userData).toMatch(/for attempt in .*yum install iptables-services -y && break/);
  });

  it('nat-instance: IMDSv2 only, inbound HTTPS from the VPC only, the instance\'s SG never open to the internet', () => {
    const { template } = base;
    const instance = template.toJSON().Resources[logicalId(template, 'AWS::EC2::Instance', 'EgressVpcpublicSubnet1NatInstance')];
    const lt = template.toJSON().Resources[(instance.Properties.LaunchTemplate as { LaunchTemplateId: { Ref: string } }).LaunchTemplateId.Ref];
    expect(lt.Properties).toEqual({ LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } } });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Security Group for NAT instances',
      SecurityGroupIngress: [{ CidrIp: '10.80.0.0/20', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
    });
    expect(Object.keys(template.findResources('AWS::EC2::SecurityGroupIngress'))).toEqual([]);
  });

  it('nat-instance: a failed system check recovers the instance, a failed instance check reboots it; both notify', () => {
    const { template } = base;
    const instance = { Ref: logicalId(template, 'AWS::EC2::Instance', 'EgressVpcpublicSubnet1NatInstance') };
    const topic = { Ref: logicalId(template, 'AWS::SNS::Topic', 'MonitoringAlarmTopic') };
    const automate = (action: string): unknown => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':automate:', { Ref: 'AWS::Region' }, `:ec2:${action}`]] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'BunqIpReconciler-NatInstanceSystemCheck',
      Namespace: 'AWS/EC2',
      MetricName: 'StatusCheckFailed_System',
      Dimensions: [{ Name: 'InstanceId', Value: instance }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [automate('recover'), topic],
      OKActions: [topic],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'BunqIpReconciler-NatInstanceStatusCheck',
      MetricName: 'StatusCheckFailed_Instance',
      Dimensions: [{ Name: 'InstanceId', Value: instance }],
      AlarmActions: [automate('reboot'), topic],
    });
  });

  it('nat-gateway (and its old name `nat`): one NAT gateway holding the Elastic IP, no instance, worker in the private subnets, flow logs on', () => {
    const { template } = nat;
    expectEgress(nat, 'nat-gateway', { natGateways: 1, instances: 0 });
    template.hasResourceProperties('AWS::EC2::NatGateway', {
      AllocationId: { 'Fn::GetAtt': [logicalId(template, 'AWS::EC2::EIP', 'Egress'), 'AllocationId'] },
    });
    workerInPrivateSubnets(template);
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/EC2' } }))).toEqual([]);
  });

  it('each NAT mode has its own Elastic IP; nat-gateway keeps the logical id `egress=nat` always had', () => {
    // An upgrade must not replace the address existing `nat` deployments have whitelisted; a switch
    // between the NAT modes creates the new mode's address while the old NAT still holds its own.
    expect(Object.keys(nat.template.findResources('AWS::EC2::EIP'))).toEqual(['EgressElasticIp8344C513']);
    expect(Object.keys(base.template.findResources('AWS::EC2::EIP'))).toEqual([logicalId(base.template, 'AWS::EC2::EIP', 'EgressNatInstanceElasticIp')]);
  });

  it('none: no VPC, no function in a VPC, and a synth warning that IP filtering stays off', () => {
    const { template, stack } = none;
    for (const t of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::EC2::Instance', 'AWS::EC2::EIP']) template.resourceCountIs(t, 0);
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: { VpcConfig?: unknown } }[]) {
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('egress=none'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.entry.data)).toContain('IP filtering stays OFF');
    for (const { stack: s } of [base, nat]) expect(Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('egress=none'))).toEqual([]);
  });
});

describe('cdk-nag', () => {
  it('finds zero unacknowledged AwsSolutions violations in every egress mode', () => {
    for (const { stack } of [base, nat, none]) {
      const violations = new AwsSolutionsChecks().validateScope(stack).violations;
      expect(violations.map((v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    }
  });

  it('every acknowledgement carries a reason a reviewer can read', () => {
    for (const { stack } of [base, nat, none]) {
      const acks: [string, string][] = [];
      for (const c of stack.node.findAll()) {
        for (const m of c.node.metadata) {
          if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) acks.push(...Object.entries(m.data as Record<string, string>));
        }
      }
      expect(acks.length).toBeGreaterThan(0);
      const nagAcks = acks.filter(([id]) => id.includes('AwsSolutions-'));
      expect(nagAcks.length).toBeGreaterThan(0);
      for (const [id, reason] of nagAcks) {
        expect(id).toMatch(/^Annotation::AwsSolutions-(IAM4\[|IAM5\[|EC28$|EC29$)/);
        expect(reason.length, id).toBeGreaterThan(60);
      }
    }
  });
});
