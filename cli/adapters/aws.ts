/**
 * AWS SDK clients for the CLI: the SDK's standard configuration (profile, AWS_REGION,
 * AWS_ENDPOINT_URL, ...) plus the --region / --endpoint-url flags when given, built on first use so
 * a command that needs no AWS never touches credentials.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { CliSettings } from '../settings';

export interface CliAwsClients {
  dynamo(): DynamoDBClient;
  secrets(): SecretsManagerClient;
  sqs(): SQSClient;
}

export function cliAwsClients(settings: Pick<CliSettings, 'region' | 'endpointUrl'>): CliAwsClients {
  const config = {
    ...(settings.region !== undefined ? { region: settings.region } : {}),
    ...(settings.endpointUrl !== undefined ? { endpoint: settings.endpointUrl } : {}),
  };
  let dynamo: DynamoDBClient | undefined;
  let secrets: SecretsManagerClient | undefined;
  let sqs: SQSClient | undefined;
  return {
    dynamo: () => (dynamo ??= new DynamoDBClient(config)),
    secrets: () => (secrets ??= new SecretsManagerClient(config)),
    sqs: () => (sqs ??= new SQSClient(config)),
  };
}
