import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';

/** Real SDK v3 clients pointed at the test run's moto_server, with dummy credentials. */

export const REGION = 'eu-west-1';

export function motoEndpoint(): string {
  return process.env.MOTO_ENDPOINT ?? inject('motoEndpoint');
}

function clientConfig() {
  return {
    endpoint: motoEndpoint(),
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

export interface MotoClients {
  dynamo: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  secrets: SecretsManagerClient;
  sqs: SQSClient;
}

export function motoClients(): MotoClients {
  const cfg = clientConfig();
  return {
    dynamo: new DynamoDBClient(cfg),
    streams: new DynamoDBStreamsClient(cfg),
    secrets: new SecretsManagerClient(cfg),
    sqs: new SQSClient(cfg),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A table shaped like DesiredIps / ReconcileState (PK credential, SK entry). */
export async function createTable(
  dynamo: DynamoDBClient,
  name: string,
  options: { stream?: boolean; ttlAttribute?: string } = {},
): Promise<{ streamArn: string | undefined }> {
  const reply = await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'credential', KeyType: 'HASH' },
        { AttributeName: 'entry', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'credential', AttributeType: 'S' },
        { AttributeName: 'entry', AttributeType: 'S' },
      ],
      ...(options.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
    }),
  );
  if (options.ttlAttribute) {
    await dynamo.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { Enabled: true, AttributeName: options.ttlAttribute },
      }),
    );
  }
  return { streamArn: reply.TableDescription?.LatestStreamArn };
}

export interface FifoQueues {
  queueUrl: string;
  dlqUrl: string;
}

/** A FIFO queue with a FIFO dead-letter queue behind it, as the stack builds them. */
export async function createFifoQueueWithDlq(
  sqs: SQSClient,
  name: string,
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<FifoQueues> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }));
  const dlqUrl = dlq.QueueUrl ?? '';
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 0),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: attrs.Attributes?.QueueArn,
          maxReceiveCount: options.maxReceiveCount ?? 3,
        }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl ?? '', dlqUrl };
}
