import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createKeyedTable } from '../../lambdas/aws/table-shape';
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
export const createTable = createKeyedTable;

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
