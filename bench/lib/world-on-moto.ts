/**
 * A whole reconciler world for the worker: DesiredIps and ReconcileState on moto, the credential's
 * API context as a Secrets Manager secret, a bunq emulator (real clock, bunq's classic rate limits)
 * holding the credential's entries. Shared by the worker-duration and cold-start sections.
 */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { systemClock } from '../../lambdas/shared/clock';
import { bunqWorld, OWN_IP, type BunqWorld } from './bunq-world';
import { awsClientsFor, createTable, type AwsClients } from './moto';
import { ipAt } from '../sections/ip';

export const SECRET_PREFIX = 'bunq-ip-reconciler/';

export interface WorkerWorld {
  aws: AwsClients;
  bunq: BunqWorld;
  desiredTable: string;
  stateTable: string;
  secretName: string;
  credential: string;
  /** Desired IPs as stored (our own IP first); bunq holds exactly these, ACTIVE. */
  desiredIps: string[];
  addDesiredIp(ip: string): Promise<void>;
  close(): Promise<void>;
}

export async function workerWorld(endpoint: string, desiredCount = 5): Promise<WorkerWorld> {
  const aws = awsClientsFor(endpoint);
  const id = randomUUID().slice(0, 8);
  const desiredTable = `bench-DesiredIps-${id}`;
  const stateTable = `bench-ReconcileState-${id}`;
  await createTable(aws.dynamo, desiredTable, 'expiresAt');
  await createTable(aws.dynamo, stateTable, 'ttl');
  const bunq = await bunqWorld({ clock: systemClock, seed: 21 });
  const credential = `bench-${id}`;
  const secretName = `${SECRET_PREFIX}${credential}`;
  await aws.secrets.send(new CreateSecretCommand({ Name: secretName, SecretString: JSON.stringify(bunq.context) }));
  const doc = DynamoDBDocumentClient.from(aws.dynamo);
  const desiredIps = [OWN_IP, ...Array.from({ length: desiredCount - 1 }, (_, i) => ipAt(700 + i))];
  const addDesiredIp = async (ip: string): Promise<void> => {
    await doc.send(new PutCommand({ TableName: desiredTable, Item: { credential, entry: `ip#${ip}`, ip, note: 'bench' } }));
  };
  for (const ip of desiredIps) await addDesiredIp(ip);
  await doc.send(
    new PutCommand({
      TableName: desiredTable,
      Item: {
        credential, entry: 'config', userId: bunq.userId, credentialPasswordIpId: bunq.credentialId, secretName,
        mode: 'enforce', maxDeactivationsPerRun: 5, protectedIps: [OWN_IP],
      },
    }),
  );
  bunq.emulator.replaceIpEntries(bunq.credentialId, desiredIps.map((ip) => ({ ip, status: 'ACTIVE' as const })));
  return { aws, bunq, desiredTable, stateTable, secretName, credential, desiredIps, addDesiredIp, close: () => bunq.close() };
}

/** The SQS event Lambda's poller would hand the worker for one scheduled request. */
export function scheduleEvent(credential: string, n: number): SQSEvent {
  const requestedAt = new Date().toISOString();
  return {
    Records: [
      {
        messageId: `bench-${n}`,
        receiptHandle: `bench-${n}`,
        body: JSON.stringify({ credential, reason: 'schedule', requestedAt }),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
          MessageGroupId: credential,
          MessageDeduplicationId: `bench-${n}`,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:bench.fifo',
        awsRegion: 'eu-west-1',
      },
    ],
  };
}
