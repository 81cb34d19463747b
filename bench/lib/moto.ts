/**
 * The bench's own moto_server (the AWS stand-in), started on a free loopback port and stopped by
 * its PID when the section is done. When moto is not installed the sections that need it are
 * skipped with a clear message instead of failing the whole bench.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createKeyedTable } from '../../lambdas/aws/table-shape';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

export const REGION = 'eu-west-1';
/** moto accepts any credentials; these are not secrets. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

function python(): string {
  return process.env.MOTO_PYTHON ?? 'python3';
}

/** Why moto cannot be used here, or null when it can. */
export function motoUnavailable(): string | null {
  const probe = spawnSync(python(), ['-c', 'import moto.server'], { encoding: 'utf8' });
  if (probe.error) return `${python()} not found (${probe.error.message}); install Python 3 and pip install 'moto[server]'`;
  if (probe.status !== 0) return `moto is not installed for ${python()}; pip install 'moto[server]'`;
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        reject(new Error('could not allocate a port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn(python(), ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited early (code ${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) return { endpoint, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not become ready at ${endpoint}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

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
