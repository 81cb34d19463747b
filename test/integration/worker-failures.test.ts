import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import type { RemainingTime } from '../../lambdas/handlers/reconcile-worker';
import { RUN_DEADLINE_MARGIN_MS } from '../../lambdas/handlers/run-deadline';
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
  useWorld,
} from './harness';

/**
 * Every way a run can fail leaves the same trail: a status item naming the problem, a RunFailed
 * metric, and no deactivation the reconciler should not make. Every recorded failure, terminal
 * (operator data: secret, config, desired items, a key or IP bunq refuses) or transient (bunq down,
 * deadline), is acknowledged: the next scheduled run retries it, and the credential's later
 * messages are not held back behind a visibility timeout (issue 12). Only what left no record (an
 * unreadable message) goes back to the queue and on to the DLQ.
 */

const MAX_RECEIVE_COUNT = 3;
const STRAY_IP = '198.51.100.7';
const world = useWorld({ maxReceiveCount: MAX_RECEIVE_COUNT, visibilityTimeoutSeconds: 0 });

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

/** Enqueue, let the poller deliver until the queue is empty (acknowledged or dead-lettered), and collect the evidence. */
async function runFromQueue(cred: { name: string }, context?: RemainingTime): Promise<Trail> {
  const emfBefore = world.emf.length;
  await enqueue(cred.name);
  const rounds = await pollUntilEmpty(world, 10, context);
  const dlq = await receive(world, world.dlqUrl);
  const mine = world.emf.slice(emfBefore).filter((r) => r.credential === cred.name);
  return {
    status: await world.state.readStatus(cred.name),
    rounds,
    dlqBodies: dlq.map((m) => m.Body ?? ''),
    runFailedMetrics: mine.filter((r) => 'RunFailed' in r).map((r) => Number(r.RunFailed)),
    errorMetrics: mine.flatMap((r) => Object.keys(r).filter((k) => k.startsWith('BunqError'))),
  };
}

function expectRecordedAndAcknowledged(trail: Trail): void {
  // One delivery, reported as no failure: the poller deletes it; nothing reaches the DLQ.
  expect(trail.rounds).toEqual([[]]);
  expect(trail.dlqBodies).toEqual([]);
  expect(trail.runFailedMetrics).toEqual([1]);
  expect(trail.status?.consecutiveFailures).toBe(1);
}

describe('worker failures: clear status, failure metric, recorded and acknowledged whatever the kind, nothing deactivated', () => {
  it('a broken secret (terminal)', async () => {
    const cred = await healthyCredential('broken-secret');
    await world.aws.secrets.send(new PutSecretValueCommand({ SecretId: cred.secretName, SecretString: '{"version":1,"apiKey":' }));
    const requestsBefore = world.emulator.requests.length;
    const trail = await runFromQueue(cred);
    expectRecordedAndAcknowledged(trail);
    expect(trail.status).toMatchObject({ outcome: 'failed', error: { kind: 'secret-invalid' } });
    expect(trail.status?.error?.message).toContain(cred.secretName);
    expect(trail.status?.error?.message).not.toContain(cred.context.apiKey);
    expect(world.emulator.requests.length).toBe(requestsBefore);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP].sort());
  });

  it('a missing config item (terminal)', async () => {
    const cred = await addCredential(world, 'no-config');
    world.emulator.addIpEntryAsApp(cred.credentialId, STRAY_IP, 'ACTIVE');
    await putDesiredIp(world, cred.name, '203.0.113.41');
    const requestsBefore = world.emulator.requests.length;
    const trail = await runFromQueue(cred);
    expectRecordedAndAcknowledged(trail);
    expect(trail.status).toMatchObject({ outcome: 'failed', error: { kind: 'config-missing' } });
    expect(trail.status?.error?.message).toMatch(/has no config item/);
    expect(world.emulator.requests.length).toBe(requestsBefore);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP].sort());
  });

  it('an invalid desired item (terminal): additions proceed, deactivations stay frozen', async () => {
    const cred = await healthyCredential('invalid-item');
    await putItem(world, { credential: { S: cred.name }, entry: { S: 'ip#203.0.113.300' }, ip: { S: '203.0.113.300' } });
    const writesBefore = whitelistWrites(world).length;
    const trail = await runFromQueue(cred);
    expectRecordedAndAcknowledged(trail);
    // Every allowed change was applied; the frozen deactivation remains, so the run is "held" by
    // the core's account and failed by ours (the operator has to fix the item).
    expect(trail.status).toMatchObject({ outcome: 'held', error: { kind: 'invalid-desired' } });
    expect(trail.status?.error?.message).toContain('ip#203.0.113.300');
    expect(trail.status?.invalid.map((i) => i.entry)).toEqual(['ip#203.0.113.300']);
    expect(trail.status?.blocked.map((b) => b.guard)).toContain('invalid-desired-freezes-deactivations');
    expect(whitelistWrites(world).slice(writesBefore).map((w) => w.method)).toEqual(['POST']);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP, '203.0.113.40'].sort());
    const history = await world.state.listHistory(cred.name);
    expect(history.map((h) => [h.outcome, h.applied.length])).toEqual([['held', 1]]);
  });

  it('bunq down (503 on every call, transient)', async () => {
    const cred = await healthyCredential('bunq-down');
    world.emulator.faults.add({ times: Infinity, fault: { type: 'status', status: 503 } });
    const writesBefore = whitelistWrites(world).length;
    const trail = await runFromQueue(cred);
    expectRecordedAndAcknowledged(trail);
    expect(trail.status).toMatchObject({ outcome: 'failed', actual: null });
    expect(trail.status?.error?.kind).toMatch(/^(maintenance|server-error)$/);
    expect(trail.errorMetrics.length).toBe(1);
    expect(whitelistWrites(world).slice(writesBefore).filter((w) => w.status < 300)).toEqual([]);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP].sort());
  });

  it('bunq rejecting our IP (terminal)', async () => {
    const cred = await healthyCredential('ip-rejected');
    world.emulator.config.mapCallerIp = () => '192.0.2.99';
    const writesBefore = whitelistWrites(world).length;
    const trail = await runFromQueue(cred);
    expectRecordedAndAcknowledged(trail);
    expect(trail.status).toMatchObject({ outcome: 'failed', error: { kind: 'credentials-rejected' } });
    expect(trail.errorMetrics).toEqual(['BunqErrorCredentialsRejected']);
    expect(whitelistWrites(world).slice(writesBefore).filter((w) => w.status < 300)).toEqual([]);
    expect(activeIps(world, cred)).toEqual([STRAY_IP, OUR_IP].sort());
  });

  it('bunq down after a good run: the stored drift stays, no drift or guard metric claims "all clear"', async () => {
    const cred = await addCredential(world, 'down-after-read');
    world.emulator.addIpEntryAsApp(cred.credentialId, STRAY_IP, 'ACTIVE');
    await putConfig(world, cred, { mode: 'observe' });
    const observed = await runFromQueue(cred);
    expect(observed.status).toMatchObject({ outcome: 'observed', error: null });
    expect(observed.status?.drift).toEqual([expect.objectContaining({ kind: 'undesired-active', ip: STRAY_IP })]);
    const emfBefore = world.emf.length;
    world.emulator.faults.add({ times: Infinity, fault: { type: 'status', status: 503 } });
    const down = await runFromQueue(cred);
    expect(down.status).toMatchObject({ outcome: 'failed', actual: null, driftAsOf: observed.status?.lastRunAt });
    expect(down.status?.drift).toEqual(observed.status?.drift);
    const failedRuns = world.emf.slice(emfBefore).filter((r) => r.credential === cred.name);
    expect(failedRuns.length).toBeGreaterThan(0);
    for (const r of failedRuns) {
      if ('RunFailed' in r) expect(r.RunFailed).toBe(1);
      for (const name of ['DriftFound', 'DriftRemaining', 'OperationsBlocked', 'ActiveWildcard']) expect(r).not.toHaveProperty(name);
    }
  });

  it('a run that reaches its deadline is recorded (kind deadline) and acknowledged, not killed', async () => {
    const cred = await healthyCredential('deadline');
    const requestsBefore = world.emulator.requests.length;
    // As much time left as the margin: the deadline is now, so the run starts no bunq call.
    const trail = await runFromQueue(cred, { getRemainingTimeInMillis: () => RUN_DEADLINE_MARGIN_MS });
    expectRecordedAndAcknowledged(trail);
    expect(trail.status).toMatchObject({ outcome: 'failed', actual: null, error: { kind: 'deadline' } });
    expect(world.emulator.requests.length).toBe(requestsBefore);
    // With time to spare the same credential converges.
    const ok = await runFromQueue(cred, { getRemainingTimeInMillis: () => RUN_DEADLINE_MARGIN_MS + 60_000 });
    expect(ok.status).toMatchObject({ outcome: 'converged', error: null });
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
    await world.queue.send([{ request: { credential: bad.name, reason: 'cli', requestedAt }, deduplicationId: 'fifo-4' }]);
    const messages = await receive(world);
    expect(messages).toHaveLength(4);
    const { batchItemFailures } = await world.worker(sqsEvent(messages));
    const failedBodies = batchItemFailures.map((f) => messages.find((m) => m.MessageId === f.itemIdentifier)?.Body ?? '');
    // fifo-1 failed (no config): recorded and acknowledged. The unreadable fifo-3 is
    // retried, and fifo-4 behind it in the same group is held back unprocessed.
    expect(failedBodies).toEqual(['not json', expect.stringContaining('"reason":"cli"')]);
    expect(await world.state.readStatus(bad.name)).toMatchObject({ outcome: 'failed', error: { kind: 'config-missing' } });
    expect(await world.state.readStatus(good.name)).toMatchObject({ outcome: 'converged', error: null });
    // Clean up: let the bad group drain (the unreadable message to the DLQ).
    await deleteMessages(world, messages.filter((m) => !batchItemFailures.some((f) => f.itemIdentifier === m.MessageId)));
    await pollUntilEmpty(world);
    expect(await queueDepth(world, world.queueUrl)).toBe(0);
    const dead = (await receive(world, world.dlqUrl)).map((m) => m.Body ?? '');
    expect(dead).toEqual(['not json']);
  });
});

describe('a recorded failure does not hold back the credential', () => {
  it('after bunq was down, the next request is delivered at once (no visibility-timeout wait)', async () => {
    const slow = await createWorld({ maxReceiveCount: MAX_RECEIVE_COUNT, visibilityTimeoutSeconds: 120 });
    try {
      const cred = await addCredential(slow, 'outage-then-edit');
      await putConfig(slow, cred);
      await putDesiredIp(slow, cred.name, '203.0.113.43');
      const send = async (dedup: string): Promise<void> => {
        const requestedAt = new Date(slow.clock.now()).toISOString();
        expect((await slow.queue.send([{ request: { credential: cred.name, reason: 'stream', requestedAt }, deduplicationId: dedup }])).failed).toEqual([]);
      };
      slow.emulator.faults.add({ times: Infinity, fault: { type: 'status', status: 503 } });
      await send('down-1');
      expect(await pollUntilEmpty(slow)).toEqual([[]]);
      expect(await slow.state.readStatus(cred.name)).toMatchObject({ outcome: 'failed' });
      slow.emulator.faults.clear();
      await send('up-2');
      const next = await receive(slow);
      expect(next).toHaveLength(1);
      expect(await slow.worker(sqsEvent(next))).toEqual({ batchItemFailures: [] });
      await deleteMessages(slow, next);
      expect(await slow.state.readStatus(cred.name)).toMatchObject({ outcome: 'converged', error: null });
      expect(activeIps(slow, cred)).toEqual([OUR_IP, '203.0.113.43'].sort());
    } finally {
      await slow.close();
    }
  });

  it('the operator\'s fix, enqueued right after, is processed at once (no visibility-timeout wait)', async () => {
    // A real visibility timeout: a retried message would hide its whole group for this long.
    const slow = await createWorld({ maxReceiveCount: MAX_RECEIVE_COUNT, visibilityTimeoutSeconds: 120 });
    try {
      const cred = await addCredential(slow, 'fixed-later');
      slow.emulator.addIpEntryAsApp(cred.credentialId, STRAY_IP, 'ACTIVE');
      await putDesiredIp(slow, cred.name, '203.0.113.42');
      const send = async (dedup: string): Promise<void> => {
        const requestedAt = new Date(slow.clock.now()).toISOString();
        expect((await slow.queue.send([{ request: { credential: cred.name, reason: 'stream', requestedAt }, deduplicationId: dedup }])).failed).toEqual([]);
      };
      await send('edit-1');
      expect(await pollUntilEmpty(slow)).toEqual([[]]);
      expect(await slow.state.readStatus(cred.name)).toMatchObject({ outcome: 'failed', error: { kind: 'config-missing' } });

      await putConfig(slow, cred);
      await send('edit-2');
      const next = await receive(slow);
      expect(next.map((m) => JSON.parse(m.Body ?? '{}') as { credential: string }).map((b) => b.credential)).toEqual([cred.name]);
      expect(await slow.worker(sqsEvent(next))).toEqual({ batchItemFailures: [] });
      await deleteMessages(slow, next);
      expect(await slow.state.readStatus(cred.name)).toMatchObject({ outcome: 'converged', error: null, consecutiveFailures: 0 });
      expect(activeIps(slow, cred)).toEqual([OUR_IP, '203.0.113.42'].sort());
      expect(await queueDepth(slow, slow.dlqUrl)).toBe(0);
    } finally {
      await slow.close();
    }
  });
});
