import { randomUUID } from 'node:crypto';
import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import { captureStdout, type EmfRecord } from '../aws/emf-capture';
import { ContextStore } from '../../lambdas/aws/context-store';
import { CredentialOwners } from '../../lambdas/aws/credential-owner';
import { DesiredStore } from '../../lambdas/aws/desired-store';
import { createRunMetrics, type MetricPoint, type ServiceMetrics } from '../../lambdas/aws/metrics';
import { ReconcileQueue } from '../../lambdas/aws/queue';
import { StateStore } from '../../lambdas/aws/state-store';
import { createContext, generateClientKeyPair, RateLimiter, type RsaKeyPairPem } from '../../lambdas/bunq';
import type { BunqContext } from '../../lambdas/bunq/types';
import type { WorkerDeps } from '../../lambdas/service/reconcile-credential';
import type { Logger } from '../../lambdas/shared/logger';
import { createFanOutHandler } from '../../lambdas/handlers/fan-out';
import { createWorkerHandler, type RemainingTime } from '../../lambdas/handlers/reconcile-worker';
import { resetHandlerRuntime } from '../../lambdas/handlers/runtime';
import { createStreamHandler } from '../../lambdas/handlers/stream-trigger';
import { systemClock, type Clock } from '../../lambdas/shared/clock';
import { ManualClock } from '../support/manual-clock';
import { startEmulator, type BunqEmulator } from '../../emulator';
import { createFifoQueueWithDlq, createTable, motoClients, motoEndpoint, REGION, uniqueName, type MotoClients } from '../aws/moto-helpers';

/**
 * A whole reconciler world for one test file: DesiredIps (with stream), ReconcileState, the FIFO
 * queue with its DLQ on moto, a bunq emulator, and the worker wired to all of them. Time is a
 * ManualClock shared by the worker and the emulator, so bunq's rate-limit windows and session
 * timeouts pass instantly.
 */

export const SECRET_PREFIX = 'bunq-ip-reconciler/';
export const OUR_IP = '127.0.0.1';

export interface LogLine {
  level: string;
  message: string;
  attributes: Record<string, unknown>;
}

export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'debug', message, attributes });
  }
  info(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', message, attributes });
  }
  warn(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', message, attributes });
  }
  error(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', message, attributes });
  }
}

/** Trigger metrics as published, one list per publish call. */
export class RecordingServiceMetrics implements ServiceMetrics {
  readonly published: MetricPoint[][] = [];
  publishService(points: MetricPoint[]): void {
    this.published.push(points);
  }
}

export interface Credential {
  name: string;
  userId: number;
  credentialId: number;
  secretName: string;
  context: BunqContext;
}

export interface World {
  aws: MotoClients;
  emulator: BunqEmulator;
  clock: Clock;
  desiredTable: string;
  stateTable: string;
  streamArn: string;
  queueUrl: string;
  dlqUrl: string;
  desired: DesiredStore;
  state: StateStore;
  contexts: ContextStore;
  queue: ReconcileQueue;
  logger: RecordingLogger;
  deps: WorkerDeps;
  /**
   * The worker handler; its stdout (EMF metrics) is captured into `emf`. Without a Lambda context
   * the run has no deadline (as in the CLI).
   */
  worker: (event: SQSEvent, context?: RemainingTime) => Promise<SQSBatchResponse>;
  emf: EmfRecord[];
  close(): Promise<void>;
}

let sharedKeys: Promise<RsaKeyPairPem> | undefined;

/** The environment the stack gives the Lambda handlers, pointed at this world (on moto). */
export function handlerEnvironment(world: World): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    DESIRED_TABLE_NAME: world.desiredTable,
    STATE_TABLE_NAME: world.stateTable,
    RECONCILE_QUEUE_URL: world.queueUrl,
    SECRET_NAME_PREFIX: SECRET_PREFIX,
    POWERTOOLS_SERVICE_NAME: 'bunq-ip-reconciler',
    POWERTOOLS_METRICS_NAMESPACE: 'BunqIpReconciler',
  };
}

export interface WorldOptions {
  maxReceiveCount?: number;
  visibilityTimeoutSeconds?: number;
  clock?: Clock;
}

export async function createWorld(options: WorldOptions = {}): Promise<World> {
  const aws = motoClients();
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 0, 1));
  const emulator = await startEmulator({ clock });
  const desiredTable = uniqueName('DesiredIps');
  const stateTable = uniqueName('ReconcileState');
  const { streamArn } = await createTable(aws.dynamo, desiredTable, { stream: true, ttlAttribute: 'expiresAt' });
  await createTable(aws.dynamo, stateTable, { ttlAttribute: 'ttl' });
  const { queueUrl, dlqUrl } = await createFifoQueueWithDlq(aws.sqs, uniqueName('reconcile'), {
    maxReceiveCount: options.maxReceiveCount ?? 3,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 0,
  });
  const desired = new DesiredStore(aws.dynamo, desiredTable);
  const state = new StateStore(aws.dynamo, stateTable, 90);
  const contexts = new ContextStore(aws.secrets, { secretPrefix: SECRET_PREFIX, clock });
  const logger = new RecordingLogger();
  const deps: WorkerDeps = {
    desired,
    state,
    contexts,
    metrics: createRunMetrics(),
    logger,
    clock,
    owners: new CredentialOwners(aws.dynamo, { stateTable, desiredTable }),
    bunqOptions: { limiter: new RateLimiter({ clock }), retry: { maxAttempts: 2 } },
    // The emulator sees the worker's calls from loopback: as EGRESS_IPS would say in AWS.
    egress: { ips: [OUR_IP] },
  };
  const handler = createWorkerHandler(deps);
  const emf: EmfRecord[] = [];
  const worker = async (event: SQSEvent, context?: RemainingTime): Promise<SQSBatchResponse> => {
    const captured = await captureStdout(() => handler(event, context));
    emf.push(...captured.emf);
    return captured.value;
  };
  return {
    aws, emulator, clock, desiredTable, stateTable, streamArn: streamArn ?? '', queueUrl, dlqUrl,
    desired, state, contexts, queue: new ReconcileQueue(aws.sqs, queueUrl), logger, deps, worker, emf,
    close: () => emulator.close(),
  };
}

/** What a test file sets up on its world once it exists, and takes down before it is closed. */
export interface WorldHooks {
  started?: (world: World) => void | Promise<void>;
  stopping?: (world: World) => void | Promise<void>;
}

/**
 * One world for the tests of the file (or describe block) that calls this: created in beforeAll,
 * closed in afterAll. The hooks run inside those two, so a file's own set-up never depends on the
 * order vitest runs separate hooks in.
 *
 * The world exists only once beforeAll has run, but tests name it at the top of the file; the
 * returned stand-in forwards every read to the current world, and throws when read outside a test
 * instead of handing back undefined.
 */
export function useWorld(options: WorldOptions = {}, hooks: WorldHooks = {}): World {
  let current: World | undefined;
  beforeAll(async () => {
    current = await createWorld(options);
    await hooks.started?.(current);
  });
  afterAll(async () => {
    if (current === undefined) return;
    const world = current;
    current = undefined;
    try {
      await hooks.stopping?.(world);
    } finally {
      await world.close();
    }
  });
  // The target is never read: every property comes from the current world.
  return new Proxy(Object.create(null) as World, {
    get(_target, key) {
      if (current === undefined) throw new Error('the world exists only between beforeAll and afterAll: read it inside a test');
      return Reflect.get(current, key);
    },
  });
}

/**
 * A world the exported Lambda handlers find through process.env alone, as the stack configures
 * them (handlerEnvironment plus `extraEnv`); their cached runtime is dropped on the way in and on
 * the way out, and the environment restored. The handlers run on the system clock, so the emulator
 * does too.
 */
export function useHandlerWorld(extraEnv: Record<string, string> = {}): World {
  const saved = { ...process.env };
  return useWorld(
    { clock: systemClock, visibilityTimeoutSeconds: 30 },
    {
      started(world) {
        Object.assign(process.env, handlerEnvironment(world), extraEnv);
        resetHandlerRuntime();
      },
      stopping() {
        process.env = saved;
        resetHandlerRuntime();
      },
    },
  );
}

/** The stream trigger on this world's queue, clock and logger, as the stack wires it. */
export function streamTrigger(world: World, metrics: ServiceMetrics = new RecordingServiceMetrics()): ReturnType<typeof createStreamHandler> {
  return createStreamHandler({ queue: world.queue, clock: world.clock, logger: world.logger, metrics });
}

/** The schedule's fan-out on this world's clock and logger; by default on its DesiredIps table and queue. */
export function fanOutTrigger(
  world: World,
  parts: { desired?: DesiredStore; queue?: ReconcileQueue; metrics?: ServiceMetrics } = {},
): ReturnType<typeof createFanOutHandler> {
  return createFanOutHandler({
    desired: parts.desired ?? world.desired,
    queue: parts.queue ?? world.queue,
    clock: world.clock,
    logger: world.logger,
    metrics: parts.metrics ?? new RecordingServiceMetrics(),
  });
}

/** A bunq user with a bootstrapped API context stored as a secret, as the CLI's bootstrap leaves it. */
export async function addCredential(world: World, name = uniqueName('cred')): Promise<Credential> {
  const { userId, apiKey, credentialId } = world.emulator.createUser();
  sharedKeys ??= generateClientKeyPair();
  const context = await createContext({
    apiKey,
    environment: 'SANDBOX',
    baseUrl: world.emulator.url,
    deviceDescription: `test ${name}`,
    keyPair: await sharedKeys,
    clock: world.clock,
    limiter: world.deps.bunqOptions?.limiter,
  });
  const secretName = `${SECRET_PREFIX}${name}-${randomUUID().slice(0, 6)}`;
  await world.aws.secrets.send(new CreateSecretCommand({ Name: secretName, SecretString: JSON.stringify(context) }));
  return { name, userId, credentialId, secretName, context };
}

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });

export async function putItem(world: World, item: Record<string, AttributeValue>): Promise<void> {
  await world.aws.dynamo.send(new PutItemCommand({ TableName: world.desiredTable, Item: item }));
}

export async function putConfig(
  world: World,
  cred: Credential,
  overrides: Partial<{ mode: string; maxDeactivationsPerRun: number; protectedIps: string[]; desireOwnIp: boolean }> = {},
): Promise<void> {
  // As the README tells operators: declare the reconciler's own egress IP and protect it, so it is
  // both kept and never reported as drift.
  if (overrides.desireOwnIp ?? true) await putDesiredIp(world, cred.name, OUR_IP, { note: S('reconciler egress') });
  await putItem(world, {
    credential: S(cred.name),
    entry: S('config'),
    userId: N(cred.userId),
    credentialPasswordIpId: N(cred.credentialId),
    secretName: S(cred.secretName),
    mode: S(overrides.mode ?? 'enforce'),
    maxDeactivationsPerRun: N(overrides.maxDeactivationsPerRun ?? 5),
    protectedIps: { L: (overrides.protectedIps ?? [OUR_IP]).map(S) },
  });
}

export async function putDesiredIp(world: World, credential: string, ip: string, extra: Record<string, AttributeValue> = {}): Promise<void> {
  await putItem(world, { credential: S(credential), entry: S(`ip#${ip}`), ip: S(ip), ...extra });
}

/** Reads a DynamoDB stream the way Lambda's event source mapping does, from a position onwards. */
export class StreamReader {
  private iterators: string[] | undefined;

  constructor(
    private readonly world: World,
    private readonly streamArn: string,
  ) {}

  async read(): Promise<DynamoDBRecord[]> {
    const streams = this.world.aws.streams;
    if (this.iterators === undefined) {
      const described = await streams.send(new DescribeStreamCommand({ StreamArn: this.streamArn }));
      this.iterators = [];
      for (const shard of described.StreamDescription?.Shards ?? []) {
        const it = await streams.send(
          new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
        );
        if (it.ShardIterator) this.iterators.push(it.ShardIterator);
      }
    }
    const out: DynamoDBRecord[] = [];
    const next: string[] = [];
    for (const iterator of this.iterators) {
      const reply = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const r of reply.Records ?? []) {
        // The SDK gives a Date where the Lambda event carries epoch seconds; otherwise the shapes match.
        const { ApproximateCreationDateTime, ...rest } = r.dynamodb ?? {};
        out.push({
          eventID: r.eventID,
          eventName: r.eventName,
          eventVersion: r.eventVersion,
          eventSource: r.eventSource,
          awsRegion: r.awsRegion,
          eventSourceARN: this.streamArn,
          dynamodb: {
            ...(rest as NonNullable<DynamoDBRecord['dynamodb']>),
            ApproximateCreationDateTime: ApproximateCreationDateTime ? ApproximateCreationDateTime.getTime() / 1000 : undefined,
          },
        });
      }
      if (reply.NextShardIterator) next.push(reply.NextShardIterator);
    }
    this.iterators = next;
    return out;
  }
}

export function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

/** The SQS event Lambda would build from received messages. */
export function sqsEvent(messages: readonly Message[], queueArn = 'arn:aws:sqs:eu-west-1:123456789012:q.fifo'): SQSEvent {
  return {
    Records: messages.map((m): SQSRecord => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? '0',
        SenderId: m.Attributes?.SenderId ?? 'test',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? '0',
        MessageGroupId: m.Attributes?.MessageGroupId,
        MessageDeduplicationId: m.Attributes?.MessageDeduplicationId,
        SequenceNumber: m.Attributes?.SequenceNumber,
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'eu-west-1',
    })),
  };
}

export async function receive(world: World, queueUrl = world.queueUrl, max = 10): Promise<Message[]> {
  const reply = await world.aws.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: max, MessageSystemAttributeNames: ['All'] }),
  );
  return reply.Messages ?? [];
}

export async function deleteMessages(world: World, messages: readonly Message[]): Promise<void> {
  for (const m of messages) {
    await world.aws.sqs.send(new DeleteMessageCommand({ QueueUrl: world.queueUrl, ReceiptHandle: m.ReceiptHandle }));
  }
}

/**
 * Lambda's SQS poller in miniature: receive, invoke the worker, delete what succeeded, leave the
 * reported failures for redelivery. Runs until the queue is empty; returns each invocation's
 * failures.
 */
export async function pollUntilEmpty(world: World, maxRounds = 10, context?: RemainingTime): Promise<string[][]> {
  const rounds: string[][] = [];
  for (let i = 0; i < maxRounds; i++) {
    const messages = await receive(world);
    // A receive that moves a message to the DLQ can come back empty while others wait.
    if (messages.length === 0) {
      if ((await queueDepth(world, world.queueUrl)) === 0) return rounds;
      continue;
    }
    const { batchItemFailures } = await world.worker(sqsEvent(messages), context);
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    await deleteMessages(world, messages.filter((m) => !failed.has(m.MessageId ?? '')));
    rounds.push([...failed]);
  }
  throw new Error(`queue not empty after ${maxRounds} rounds`);
}

export async function queueDepth(world: World, queueUrl: string): Promise<number> {
  const reply = await world.aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(reply.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(reply.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

export function activeIps(world: World, cred: Credential): string[] {
  return world.emulator
    .listIpEntries(cred.credentialId)
    .filter((e) => e.status === 'ACTIVE')
    .map((e) => e.ip)
    .sort();
}

/** Whitelist writes (POST/PUT to the IP endpoint) the emulator received, optionally since an index. */
export function whitelistWrites(world: World, since = 0): Array<{ method: string; path: string; status: number }> {
  return world.emulator.requests
    .slice(since)
    .filter((r) => (r.method === 'POST' || r.method === 'PUT') && /\/credential-password-ip\/\d+\/ip/.test(r.path))
    .map((r) => ({ method: r.method, path: r.path, status: r.status }));
}
