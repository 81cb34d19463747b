import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * SDK clients with the SDK's standard configuration only (AWS_REGION, AWS_ENDPOINT_URL,
 * AWS_ENDPOINT_URL_DYNAMODB, ...), so the same code talks to AWS in Lambda and to moto in tests.
 * Created once per container and reused across invocations (connection reuse).
 */

export interface AwsClients {
  dynamo: DynamoDBClient;
  secrets: SecretsManagerClient;
  sqs: SQSClient;
}

let shared: AwsClients | undefined;

export function awsClients(): AwsClients {
  shared ??= {
    dynamo: new DynamoDBClient({}),
    secrets: new SecretsManagerClient({}),
    sqs: new SQSClient({}),
  };
  return shared;
}
