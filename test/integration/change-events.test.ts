import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteRuleCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import type { ChangeEventDetail } from '../../lambdas/aws/change-events';
import { EventBridgeChangeEvents } from '../../lambdas/aws/events';
import { motoEndpoint, REGION, uniqueName } from '../aws/moto-helpers';
import { activeIps, addCredential, OUR_IP, pollUntilEmpty, putConfig, putDesiredIp, useWorld } from './harness';

/**
 * Change events end to end on moto: the worker publishes to the default bus through the real SDK
 * client, a rule (as an operator would write one) routes them to an SQS queue, and the test reads
 * what arrived. moto delivers a rule's matches to an SQS target synchronously.
 */

interface Delivered {
  source: string;
  'detail-type': string;
  detail: ChangeEventDetail;
}

const STRAY_A = '198.51.100.21';
const STRAY_B = '198.51.100.22';
const STRAY_C = '198.51.100.23';
let events: EventBridgeClient;
let targetUrl: string;
const ruleName = uniqueName('changes');

const world = useWorld({}, {
  async started(w) {
    const cfg = { endpoint: motoEndpoint(), region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    events = new EventBridgeClient(cfg);
    targetUrl = (await w.aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('change-target') }))).QueueUrl ?? '';
    const arn = (await w.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: targetUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    await events.send(new PutRuleCommand({
      Name: ruleName,
      EventBusName: 'default',
      EventPattern: JSON.stringify({ source: ['bunq-ip-reconciler'], 'detail-type': ['IP Activated', 'IP Deactivated', 'Operation Held'] }),
    }));
    await events.send(new PutTargetsCommand({ Rule: ruleName, EventBusName: 'default', Targets: [{ Id: 'queue', Arn: arn }] }));
    w.deps.events = new EventBridgeChangeEvents(events, 'default');
  },
  async stopping(w) {
    await events.send(new RemoveTargetsCommand({ Rule: ruleName, Ids: ['queue'] }));
    await events.send(new DeleteRuleCommand({ Name: ruleName }));
    await w.aws.sqs.send(new DeleteQueueCommand({ QueueUrl: targetUrl }));
  },
});

async function delivered(): Promise<Delivered[]> {
  const out: Delivered[] = [];
  for (;;) {
    const batch = await world.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: targetUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if ((batch.Messages ?? []).length === 0) return out;
    out.push(...(batch.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}') as Delivered));
  }
}

async function runOnce(credential: string): Promise<void> {
  const requestedAt = new Date(world.clock.now()).toISOString();
  await world.queue.send([{ request: { credential, reason: 'stream', requestedAt }, deduplicationId: uniqueName('d') }]);
  expect(await pollUntilEmpty(world)).toEqual([[]]);
}

describe('change events on the default EventBridge bus', () => {
  it('every applied change and every newly held operation arrives with credential, IP, entry id, bunq response id, run id, mode and reason', async () => {
    const cred = await addCredential(world, 'events');
    const inactive = world.emulator.addIpEntryAsApp(cred.credentialId, '203.0.113.61', 'INACTIVE');
    world.emulator.addIpEntryAsApp(cred.credentialId, STRAY_A, 'ACTIVE');
    await putConfig(world, cred, { maxDeactivationsPerRun: 1 });
    await putDesiredIp(world, cred.name, '203.0.113.60');
    await putDesiredIp(world, cred.name, '203.0.113.61');
    await runOnce(cred.name);

    expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.60', '203.0.113.61'].sort());
    const status = await world.state.readStatus(cred.name);
    const runId = `run#${status?.startedAt ?? ''}`;
    const first = await delivered();
    const byAction = Object.fromEntries(first.map((e) => [e.detail.action, e]));
    expect(first.map((e) => [e['detail-type'], e.detail.action, e.detail.ip]).sort()).toEqual([
      ['IP Activated', 'added', '203.0.113.60'],
      ['IP Activated', 'reactivated', '203.0.113.61'],
      ['IP Deactivated', 'deactivated', STRAY_A],
    ]);
    for (const e of first) {
      expect(e.source).toBe('bunq-ip-reconciler');
      expect(e.detail).toMatchObject({ credential: cred.name, runId, mode: 'enforce', trigger: 'stream' });
      expect(e.detail.bunqResponseId).toEqual(expect.any(String));
      expect(e.detail.reason.length).toBeGreaterThan(5);
    }
    const added = world.emulator.listIpEntries(cred.credentialId).find((x) => x.ip === '203.0.113.60');
    expect(byAction.added?.detail.entryId).toBe(added?.id);
    expect(byAction.reactivated?.detail.entryId).toBe(inactive.id);
    expect(byAction.deactivated?.detail.reason).toBe('ACTIVE but not desired');

    // Two strays, one deactivation allowed per run: the guard holds both back, once.
    world.emulator.addIpEntryAsApp(cred.credentialId, STRAY_B, 'ACTIVE');
    world.emulator.addIpEntryAsApp(cred.credentialId, STRAY_C, 'ACTIVE');
    await runOnce(cred.name);
    const held = await delivered();
    expect(held.map((e) => [e['detail-type'], e.detail.ip, e.detail.guard, e.detail.operation]).sort()).toEqual([
      ['Operation Held', STRAY_B, 'max-deactivations', 'deactivate'],
      ['Operation Held', STRAY_C, 'max-deactivations', 'deactivate'],
    ]);
    expect(held[0]?.detail).toMatchObject({ action: 'held', bunqResponseId: null, entryId: expect.any(Number) });
    expect(await world.state.readStatus(cred.name)).toMatchObject({ outcome: 'held' });

    // The same hold on the next run is no news.
    await runOnce(cred.name);
    expect(await delivered()).toEqual([]);
  });

  it('a bus that refuses the events never fails the run: logged and counted', async () => {
    const cred = await addCredential(world, 'events-down');
    await putConfig(world, cred);
    await putDesiredIp(world, cred.name, '203.0.113.70');
    const saved = world.deps.events;
    world.deps.events = new EventBridgeChangeEvents(new EventBridgeClient({ endpoint: 'http://127.0.0.1:1', region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 }));
    const emfBefore = world.emf.length;
    try {
      await runOnce(cred.name);
    } finally {
      world.deps.events = saved;
    }
    expect(await world.state.readStatus(cred.name)).toMatchObject({ outcome: 'converged', error: null });
    expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.70'].sort());
    expect(world.emf.slice(emfBefore).find((r) => 'ChangeEventsFailed' in r)).toMatchObject({ credential: cred.name, ChangeEventsFailed: 1 });
    expect(world.logger.lines.find((l) => l.message === 'change events not published')).toMatchObject({ level: 'error' });
  });
});
