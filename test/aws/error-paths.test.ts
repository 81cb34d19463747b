import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  GetSecretValueCommand,
  InvalidParameterException,
  PutSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ContextStore } from '../../lambdas/aws/context-store';
import { CredentialOwners } from '../../lambdas/aws/credential-owner';
import { DesiredStore } from '../../lambdas/aws/desired-store';
import type { MetricPoint } from '../../lambdas/aws/metrics';
import { StateStore } from '../../lambdas/aws/state-store';
import { createWorkerHandler } from '../../lambdas/handlers/reconcile-worker';
import { ManualClock } from '../support/manual-clock';
import { sampleContext } from './fixtures';

// Unit tests of failure paths AWS will not produce on demand; behaviour on real services is covered
// by the moto tests next to these.

const smMock = mockClient(SecretsManagerClient);
const docMock = mockClient(DynamoDBDocumentClient);

afterEach(() => {
  smMock.reset();
  docMock.reset();
});

const PREFIX = 'bunq-ip-reconciler/';

describe('context store error paths', () => {
  it('an unreadable secret names the secret and the AWS error', async () => {
    smMock.on(GetSecretValueCommand).rejects(
      new SecretsManagerServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'not allowed' }),
    );
    const store = new ContextStore(new SecretsManagerClient({ region: 'eu-west-1' }), { secretPrefix: PREFIX });
    await expect(store.load(`${PREFIX}prod`)).rejects.toMatchObject({
      code: 'secret-unreadable',
      message: `secret ${PREFIX}prod could not be read: AccessDeniedException: not allowed`,
    });
  });

  it('gives up after repeated lost compare-and-swaps instead of looping', async () => {
    const ctx = sampleContext();
    const older = { ...ctx, session: { ...ctx.session!, expiresAt: '2026-01-01T00:10:00.000Z' } };
    smMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(older), VersionId: 'v-other' });
    smMock.on(PutSecretValueCommand).resolves({ VersionId: 'v-mine' });
    smMock.on(UpdateSecretVersionStageCommand).rejects(new InvalidParameterException({ $metadata: {}, message: 'stage moved' }));
    const store = new ContextStore(new SecretsManagerClient({ region: 'eu-west-1' }), { secretPrefix: PREFIX, maxWriteAttempts: 3 });
    const basis = { secretName: `${PREFIX}prod`, context: ctx, versionId: 'v0' };
    await expect(store.saveSession(basis, { ...ctx.session!, expiresAt: '2026-01-01T09:00:00.000Z' })).rejects.toThrow(
      /3 concurrent writes in a row/,
    );
    expect(smMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(3);
  });
});

describe('worker error paths', () => {
  function record(body: string, id: string): SQSRecord {
    return {
      messageId: id, receiptHandle: id, body, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs',
      eventSourceARN: 'arn', awsRegion: 'eu-west-1',
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: 'prod' },
    };
  }

  it('when DynamoDB fails for both the read and the status write, the message is retried and both are logged', async () => {
    docMock.on(QueryCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    docMock.on(PutCommand).rejects(new Error('table gone'));
    docMock.on(UpdateCommand).rejects(new Error('table gone'));
    const dynamo = new DynamoDBClient({ region: 'eu-west-1' });
    const published: Array<{ credential: string; points: MetricPoint[] }> = [];
    const logs: Array<{ message: string; attributes?: Record<string, unknown> }> = [];
    const log = (message: string, attributes?: Record<string, unknown>) => logs.push({ message, attributes });
    const worker = createWorkerHandler({
      desired: new DesiredStore(dynamo, 'desired'),
      state: new StateStore(dynamo, 'state', 90),
      contexts: new ContextStore(new SecretsManagerClient({ region: 'eu-west-1' }), { secretPrefix: PREFIX }),
      metrics: { publish: (credential, points) => published.push({ credential, points }) },
      logger: { debug: log, info: log, warn: log, error: log },
      clock: new ManualClock(),
      owners: new CredentialOwners(dynamo, { stateTable: 'state', desiredTable: 'desired' }),
    });
    const body = JSON.stringify({ credential: 'prod', reason: 'schedule', requestedAt: '2026-01-01T00:00:00Z' });
    const result = await worker({ Records: [record(body, 'm1'), record(body, 'm2')] });
    // m2 is in the same message group: held back with m1 (FIFO order) without a second run.
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m1', 'm2']);
    expect(published).toHaveLength(1);
    expect(published[0]?.points.find((p) => p.name === 'RunFailed')?.value).toBe(1);
    expect(logs.map((l) => l.message)).toEqual(['could not write run status/history', 'reconcile run failed']);
    expect(logs[1]?.attributes).toMatchObject({ errorKind: 'unexpected', credential: 'prod' });
  });
});
