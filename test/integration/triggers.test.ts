import { BatchWriteItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DesiredStore } from '../../lambdas/aws/desired-store';
import { ReconcileQueue } from '../../lambdas/aws/queue';
import { scheduledTimeOf } from '../../lambdas/handlers/fan-out';
import { createTable, uniqueName } from '../aws/moto-helpers';
import {
  activeIps,
  addCredential,
  deleteMessages,
  fanOutTrigger,
  OUR_IP,
  pollUntilEmpty,
  putConfig,
  putDesiredIp,
  putItem,
  receive,
  RecordingServiceMetrics,
  StreamReader,
  streamEvent,
  streamTrigger,
  type Credential,
  useWorld,
} from './harness';

const world = useWorld({ visibilityTimeoutSeconds: 0 });

describe('fan-out and stream trigger', () => {
  it('fans a schedule tick out to 50 credentials, one message group each, once per tick', async () => {
    const table = uniqueName('fleet');
    await createTable(world.aws.dynamo, table);
    const names = Array.from({ length: 50 }, (_, i) => `fleet-${String(i).padStart(2, '0')}`);
    const items = names.flatMap((name): Array<Record<string, AttributeValue>> => [
      { credential: { S: name }, entry: { S: 'config' }, userId: { N: '1' } },
      { credential: { S: name }, entry: { S: 'ip#203.0.113.1' }, ip: { S: '203.0.113.1' } },
    ]);
    for (let i = 0; i < items.length; i += 25) {
      await world.aws.dynamo.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }),
      );
    }
    const handler = fanOutTrigger(world, { desired: new DesiredStore(world.aws.dynamo, table) });
    const tick = { scheduledTime: '2026-01-01T01:00:00Z' };
    expect(await handler(tick)).toEqual({ scheduledTime: tick.scheduledTime, credentials: 50, enqueued: 50, skipped: 0 });
    // The scheduler retrying the same tick enqueues nothing new (FIFO deduplication).
    await handler(tick);
    const bodies: Array<{ credential: string; reason: string; group: string | undefined }> = [];
    for (let messages = await receive(world); messages.length > 0; messages = await receive(world)) {
      for (const m of messages) {
        bodies.push({ ...(JSON.parse(m.Body ?? '') as { credential: string; reason: string }), group: m.Attributes?.MessageGroupId });
      }
      await deleteMessages(world, messages);
    }
    expect(bodies).toHaveLength(50);
    expect(bodies.map((b) => b.credential).sort()).toEqual(names);
    expect(bodies.every((b) => b.reason === 'schedule' && b.group === b.credential)).toBe(true);
  });

  it('the worker reconciles a batch of ten credentials in one invocation', async () => {
    const creds: Credential[] = [];
    for (let i = 0; i < 10; i++) {
      const cred = await addCredential(world, `batch-${i}`);
      await putConfig(world, cred);
      await putDesiredIp(world, cred.name, `203.0.113.${100 + i}`);
      creds.push(cred);
    }
    await fanOutTrigger(world)({ scheduledTime: '2026-01-01T01:30:00Z' });
    const rounds = await pollUntilEmpty(world);
    expect(rounds).toEqual([[]]);
    for (const [i, cred] of creds.entries()) {
      expect(activeIps(world, cred)).toEqual([OUR_IP, `203.0.113.${100 + i}`].sort());
      expect(await world.state.readStatus(cred.name)).toMatchObject({ reason: 'schedule', outcome: 'converged' });
    }
  });

  it('fan-out skips (logs and counts) a credential whose name cannot be queued, and does not fail the tick for it', async () => {
    const table = uniqueName('fanout-bad');
    await createTable(world.aws.dynamo, table);
    const desired = new DesiredStore(world.aws.dynamo, table);
    for (const name of ['ok-1', 'has space', 'ok-2']) {
      await world.aws.dynamo.send(
        new PutItemCommand({
          TableName: table, Item: { credential: { S: name }, entry: { S: 'config' } },
        }),
      );
    }
    const metrics = new RecordingServiceMetrics();
    const linesBefore = world.logger.lines.length;
    expect(await fanOutTrigger(world, { desired, metrics })({ scheduledTime: '2026-01-01T02:00:00Z' })).toEqual({
      scheduledTime: '2026-01-01T02:00:00Z', credentials: 3, enqueued: 2, skipped: 1,
    });
    expect(metrics.published).toEqual([[{ name: 'CredentialsSkipped', unit: 'Count', value: 1, scope: 'service' }]]);
    const errors = world.logger.lines.slice(linesBefore).filter((l) => l.level === 'error');
    expect(errors).toEqual([
      expect.objectContaining({ attributes: expect.objectContaining({ credential: 'has space', trigger: 'schedule', reason: expect.stringMatching(/cannot be a queue message group/) }) }),
    ]);
    const messages = await receive(world);
    expect(messages.map((m) => (JSON.parse(m.Body ?? '') as { credential: string }).credential).sort()).toEqual(['ok-1', 'ok-2']);
    await deleteMessages(world, messages);
  });

  it('fan-out still fails the tick when SQS cannot take a message (a retry can help)', async () => {
    const table = uniqueName('fanout-down');
    await createTable(world.aws.dynamo, table);
    await world.aws.dynamo.send(new PutItemCommand({ TableName: table, Item: { credential: { S: 'ok-3' }, entry: { S: 'config' } } }));
    const handler = fanOutTrigger(world, {
      desired: new DesiredStore(world.aws.dynamo, table),
      queue: new ReconcileQueue(world.aws.sqs, `${world.queueUrl}-gone`),
    });
    await expect(handler({ scheduledTime: '2026-01-01T02:05:00Z' })).rejects.toThrow(/could not enqueue 1 of 1 credentials: ok-3 \(SendMessageBatch failed/);
  });

  it('fan-out takes the tick from the event, or the current minute, and rejects a malformed one', () => {
    const now = Date.UTC(2026, 0, 1, 3, 4, 5, 6);
    expect(scheduledTimeOf({ scheduledTime: '2026-01-01T03:00:00Z' }, now)).toBe('2026-01-01T03:00:00Z');
    expect(scheduledTimeOf({}, now)).toBe('2026-01-01T03:04:00.000Z');
    expect(scheduledTimeOf(undefined, now)).toBe('2026-01-01T03:04:00.000Z');
    expect(() => scheduledTimeOf({ scheduledTime: 'noon' }, now)).toThrow(/scheduledTime must be an ISO-8601 time, got "noon"/);
  });

  it('the stream trigger skips (logs and counts) a credential whose name cannot be queued, failing no record', async () => {
    const reader = new StreamReader(world, world.streamArn);
    await reader.read(); // skip what earlier tests wrote
    await putItem(world, { credential: { S: 'good-one' }, entry: { S: 'ip#203.0.113.1' }, ip: { S: '203.0.113.1' } });
    await putItem(world, { credential: { S: 'bad one' }, entry: { S: 'ip#203.0.113.2' }, ip: { S: '203.0.113.2' } });
    await putItem(world, { credential: { S: 'good-one' }, entry: { S: 'config' } });
    await putItem(world, { credential: { S: 'bad one' }, entry: { S: 'config' } });
    const records = await reader.read();
    expect(records).toHaveLength(4);
    const metrics = new RecordingServiceMetrics();
    const stream = streamTrigger(world, metrics);
    const { batchItemFailures } = await stream(streamEvent(records));
    expect(batchItemFailures).toEqual([]);
    expect(metrics.published).toEqual([[{ name: 'CredentialsSkipped', unit: 'Count', value: 1, scope: 'service' }]]);
    const messages = await receive(world);
    expect(messages.map((m) => m.Attributes?.MessageGroupId)).toEqual(['good-one']);
    expect(world.logger.lines.some((l) => l.level === 'error' && l.attributes.credential === 'bad one')).toBe(true);
    await deleteMessages(world, messages);
  });
});
