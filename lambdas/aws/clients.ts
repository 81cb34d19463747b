import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * SDK clients with the SDK's standard configuration only (AWS_REGION, AWS_ENDPOINT_URL,
 * AWS_ENDPOINT_URL_DYNAMODB, ...), so the same code talks to AWS in Lambda and to moto in tests.
 * Created once per container and reused across invocations (connection reuse). One getter per
 * client, so a handler's bundle carries only the clients it asks for (the bundler drops the rest).
 */

let dynamo: DynamoDBClient | undefined;
let secrets: SecretsManagerClient | undefined;
let sqs: SQSClient | undefined;

export function dynamoClient(): DynamoDBClient {
  dynamo ??= new DynamoDBClient({});
  return dynamo;
}

export function secretsClient(): SecretsManagerClient {
  secrets ??= new SecretsManagerClient({});
  return secrets;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}
