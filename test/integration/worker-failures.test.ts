import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StatusRecord } from '../../lambdas/aws/state-store';
import { scheduleDeduplicationId } from '../../lambdas/aws/reconcile-request';
import {
  activeIps,
  addCredential,
  createWorld,
  deleteMessages,
  OUR_IP,
  pollUntilEmpty,
  putConfig,
  putDesiredIp,
  putItem,
  queueDepth,
  receive,
  sqsEvent,
  whitelistWrites,
  type Credential,
  type World,
} from './harness';

/**
 * Every way a run can fail leaves the same trail: a status item naming the problem, a RunFailed
 * metric, the message retried (batchItemFailures) until the redrive policy moves it to the DLQ,
 * and no deactivation the reconciler should not make.
 */

const MAX_RECEIVE_COUNT = 3;
const STRAY_IP = '198.51.100.7';
let world: World;

beforeAll(async () => {
  world = await createWorld({ maxReceiveCount: MAX_RECEIVE_COUNT, visibilityTimeoutSeconds: 0 });
});

afterAll(async () => {
  await world.close();
});

afterEach(() => {
  world.emulator.faults.clear();
  world.emulator.config.mapCallerIp = undefined;
});

/** A credential with a healthy config, one desired IP, and a stray ACTIVE IP a good run would deactivate. */
async function healthyCredential(name: string): Promise<Credential> {
  const cred = await addCredential(world, name);
  world.emulator.addIpEntryAsApp(cred.credentialId, STRAY_IP, 'ACTIVE');
  await putConfig(world, cred);
  await putDesiredIp(world, cred.name, '203.0.113.40');
  return cred;
}

async function enqueue(credential: string): Promise<void> {
  const requestedAt = new Date(world.clock.now()).toISOString();
  const report = await world.queue.send([
    { request: { credential, reason: 'schedule', requestedAt }, deduplicationId: scheduleDeduplicationId(credential, requestedAt) },
  ]);
  expect(report.failed).toEqual([]);
}

interface Trail {
  status: StatusRecord | null;
  rounds: string[][];
  dlqBodies: string[];
  runFailedMetrics: number[];
  errorMetrics: string[];
}

/** Enqueue, let the poller deliver until the message is dead-lettered, and collect the evidence. */
async function runUntilDeadLettered(cred: { name: string }): Promise<Trail> {
  const emfBefore = world.emf.length;
  await enqueue(cred.name);
  const rounds = await pollUntilEmpty(world);
  const dlq = await receive(world, world.dlqUrl);
  const mine = world.emf.slice(emfBefore).filter((r) => r.credential === cred.name);
  return {
    status: await world.state.readStatus(cred.name),
    rounds,
    dlqBodies: dlq.map((m) => m.Body ?? ''),
    runFailedMetrics: mine.map((r) => Number(r.RunFailed)),
    errorMetrics: mine.flatMap((r) => Object.keys(r).filter((k) => k.startsWith('BunqError'))),
  };
}

function expectRetriedThenDeadLettered(trail: Trail, credential: string): void {
  expect(trail.rounds).toHaveLength(MAX_RECEIVE_COUNT);
  for (const failures of trail.rounds) expect(failures).toHaveLength(1);
  expect(trail.dlqBodies.map((b) => (JSON.parse(b) as { credential: string }).credential)).toEqual([credential]);
  expect(trail.runFailedMetrics).toEqual(Array(MAX_RECEIVE_COUNT).fill(1));
  expect(trail.status?.consecutiveFailures).toBe(MAX_RECEIVE_COUNT);
}

describe('worker failures: clear status, failure metric, retried, dead-lettered, nothing deactivated', () => {
  it('a broken secret', async () => {
    const cred = await healthyCredential('broken-secret');
    await world.aws.secrets.send(new PutSecretValueCommand({ SecretId: cred.secretName, SecretString: '{"version":1,"apiKey":' }));
    const requestsBefore = world.emulator.requests.length;
    const trail = await runUntilDeadLettered(cred);
    expectRetriedThenDeadLettered(trail, cred.name);
    expect(trail.status).toMatchObject({ outcome: 'failed', error: { kind: 'secret-invalid' } });
    expect(trail.status?.error?.message).toContain(cred.secretName);
    expect(trail.status?.error?.message).not.toContain(cred.context.apiKey);
    expect(world.emulator.requests.length).toBe(requestsBefore);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP].sort());
  });

  it('a missing config item', async () => {
    const cred = await addCredential(world, 'no-config');
    world.emulator.addIpEntryAsApp(cred.credentialId, STRAY_IP, 'ACTIVE');
    await putDesiredIp(world, cred.name, '203.0.113.41');
    const requestsBefore = world.emulator.requests.length;
    const trail = await runUntilDeadLettered(cred);
    expectRetriedThenDeadLettered(trail, cred.name);
    expect(trail.status).toMatchObject({ outcome: 'failed', error: { kind: 'config-missing' } });
    expect(trail.status?.error?.message).toMatch(/has no config item/);
    expect(world.emulator.requests.length).toBe(requestsBefore);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP].sort());
  });

  it('an invalid desired item: additions proceed, deactivations stay frozen', async () => {
    const cred = await healthyCredential('invalid-item');
    await putItem(world, { credential: { S: cred.name }, entry: { S: 'ip#203.0.113.300' }, ip: { S: '203.0.113.300' } });
    const writesBefore = whitelistWrites(world).length;
    const trail = await runUntilDeadLettered(cred);
    expectRetriedThenDeadLettered(trail, cred.name);
    // Every planned change was applied; the frozen deactivation remains, so the run is "converged"
    // by the core's account and failed by ours (the operator has to fix the item).
    expect(trail.status).toMatchObject({ outcome: 'converged', error: { kind: 'invalid-desired' } });
    expect(trail.status?.error?.message).toContain('ip#203.0.113.300');
    expect(trail.status?.invalid.map((i) => i.entry)).toEqual(['ip#203.0.113.300']);
    expect(trail.status?.blocked.map((b) => b.guard)).toContain('invalid-desired-freezes-deactivations');
    // The first run added the valid IP; the retries found nothing more to do.
    expect(whitelistWrites(world).slice(writesBefore).map((w) => w.method)).toEqual(['POST']);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP, '203.0.113.40'].sort());
    const history = await world.state.listHistory(cred.name);
    expect(history.map((h) => [h.outcome, h.applied.length])).toEqual([['converged', 0], ['converged', 0], ['converged', 1]]);
  });

  it('bunq down (503 on every call)', async () => {
    const cred = await healthyCredential('bunq-down');
    world.emulator.faults.add({ times: Infinity, fault: { type: 'status', status: 503 } });
    const writesBefore = whitelistWrites(world).length;
    const trail = await runUntilDeadLettered(cred);
    expectRetriedThenDeadLettered(trail, cred.name);
    expect(trail.status).toMatchObject({ outcome: 'failed', actual: null });
    expect(trail.status?.error?.kind).toMatch(/^(maintenance|server-error)$/);
    expect(trail.errorMetrics.length).toBe(MAX_RECEIVE_COUNT);
    expect(whitelistWrites(world).slice(writesBefore).filter((w) => w.status < 300)).toEqual([]);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP].sort());
  });

  it('bunq rejecting our IP', async () => {
    const cred = await healthyCredential('ip-rejected');
    world.emulator.config.mapCallerIp = () => '192.0.2.99';
    const writesBefore = whitelistWrites(world).length;
    const trail = await runUntilDeadLettered(cred);
    expectRetriedThenDeadLettered(trail, cred.name);
    expect(trail.status).toMatchObject({ outcome: 'failed', error: { kind: 'credentials-rejected' } });
    expect(trail.errorMetrics).toEqual(Array(MAX_RECEIVE_COUNT).fill('BunqErrorCredentialsRejected'));
    expect(whitelistWrites(world).slice(writesBefore).filter((w) => w.status < 300)).toEqual([]);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP].sort());
  });

  it('a failing credential holds back only its own messages in a batch (FIFO order per group)', async () => {
    const bad = await addCredential(world, 'fifo-bad');
    const good = await healthyCredential('fifo-good');
    const requestedAt = new Date(world.clock.now()).toISOString();
    await world.queue.send([
      { request: { credential: bad.name, reason: 'stream', requestedAt }, deduplicationId: 'fifo-1' },
      { request: { credential: good.name, reason: 'stream', requestedAt }, deduplicationId: 'fifo-2' },
    ]);
    await world.aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: world.queueUrl, MessageBody: 'not json', MessageGroupId: bad.name, MessageDeduplicationId: 'fifo-3',
      }),
    );
    const messages = await receive(world);
    expect(messages).toHaveLength(3);
    const { batchItemFailures } = await world.worker(sqsEvent(messages));
    const failedBodies = batchItemFailures.map((f) => messages.find((m) => m.MessageId === f.itemIdentifier)?.Body ?? '');
    expect(failedBodies).toHaveLength(2);
    expect(failedBodies.every((b) => b === 'not json' || b.includes(bad.name))).toBe(true);
    expect(await world.state.readStatus(good.name)).toMatchObject({ outcome: 'converged', error: null });
    // Clean up: let the bad group drain to the DLQ.
    await deleteMessages(world, messages.filter((m) => !batchItemFailures.some((f) => f.itemIdentifier === m.MessageId)));
    await pollUntilEmpty(world);
    expect(await queueDepth(world, world.queueUrl)).toBe(0);
    const dead = (await receive(world, world.dlqUrl)).map((m) => m.Body ?? '');
    expect(dead).toHaveLength(2);
    expect(dead).toContain('not json');
    expect(dead.find((b) => b !== 'not json')).toContain(bad.name);
  });
});
