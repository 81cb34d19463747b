/**
 * An in-process DynamoDB (dynalite) with the two tables the stack creates, shaped the same way
 * (partition key `credential`, sort key `entry`), for the demo. dynalite has no streams and no TTL:
 * the demo calls the reconcile service directly where AWS would react to the stream.
 */
import type { AddressInfo, Server } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createKeyedTable } from '../lambdas/aws/table-shape';

type DynaliteFactory = (options: Record<string, number>) => Server;

function dynaliteFactory(): DynaliteFactory {
  // dynalite ships no type declarations; check the one thing we rely on.
  const mod: unknown = require('dynalite');
  if (typeof mod !== 'function') throw new Error('dynalite did not load as a function; run `npm ci`');
  return mod as DynaliteFactory;
}

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

export async function startLocalDynamo(tables: readonly string[]): Promise<LocalDynamo> {
  const server = dynaliteFactory()({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  // Dummy credentials: dynalite checks none, and the demo must never pick up real AWS ones.
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
  });
  for (const name of tables) {
    await createKeyedTable(client, name);
  }
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
