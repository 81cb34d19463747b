/**
 * The bench's own moto_server (the AWS stand-in), started on a free loopback port and stopped by
 * its PID when the section is done. When moto is not installed the sections that need it are
 * skipped with a clear message instead of failing the whole bench.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createKeyedTable } from '../../lambdas/aws/table-shape';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

export const REGION = 'eu-west-1';
/** moto accepts any credentials; these are not secrets. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export { motoUnavailable, startMoto, type Moto } from '../../test/support/moto-process';

export interface AwsClients {
  dynamo: DynamoDBClient;
  secrets: SecretsManagerClient;
  sqs: SQSClient;
}

export function awsClientsFor(endpoint: string): AwsClients {
  const cfg = { endpoint, region: REGION, credentials: MOTO_CREDENTIALS };
  return { dynamo: new DynamoDBClient(cfg), secrets: new SecretsManagerClient(cfg), sqs: new SQSClient(cfg) };
}

/** A table shaped like DesiredIps / ReconcileState (PK credential, SK entry), on-demand. */
export async function createTable(dynamo: DynamoDBClient, name: string, ttlAttribute?: string): Promise<void> {
  await createKeyedTable(dynamo, name, ttlAttribute === undefined ? {} : { ttlAttribute });
}

export async function createFifoQueue(sqs: SQSClient, name: string): Promise<string> {
  const reply = await sqs.send(new CreateQueueCommand({ QueueName: `${name}.fifo`, Attributes: { FifoQueue: 'true' } }));
  if (reply.QueueUrl === undefined) throw new Error('moto returned no queue URL');
  return reply.QueueUrl;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const reply = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(reply.Attributes?.ApproximateNumberOfMessages ?? 0);
}
