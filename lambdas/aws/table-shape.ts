/**
 * The key shape both tables share (partition `credential`, sort `entry`), as a CreateTable input.
 * The stack (lib/) declares the same keys in CDK, from the same contract (lambdas/shared/table-keys.ts).
 *
 * Not used by any Lambda handler: it serves everything that creates the tables outside
 * CloudFormation — `cli local` and the demo (dynalite), moto in tests, and the benchmarks. It stays
 * in lambdas/aws/ rather than test/support because the CLI and the demo ship it too.
 */
import { CreateTableCommand, UpdateTimeToLiveCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { PARTITION_KEY, SORT_KEY } from '../shared/table-keys';

export { PARTITION_KEY, SORT_KEY };

export function keyedTableInput(name: string, options: { stream?: boolean } = {}): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: SORT_KEY, AttributeType: 'S' },
    ],
    ...(options.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
  };
}

/** Creates a table of the shared shape; returns its stream ARN when a stream was asked for. */
export async function createKeyedTable(
  dynamo: DynamoDBClient,
  name: string,
  options: { stream?: boolean; ttlAttribute?: string } = {},
): Promise<{ streamArn: string | undefined }> {
  const reply = await dynamo.send(new CreateTableCommand(keyedTableInput(name, options)));
  if (options.ttlAttribute !== undefined) {
    await dynamo.send(
      new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: options.ttlAttribute } }),
    );
  }
  return { streamArn: reply.TableDescription?.LatestStreamArn };
}
