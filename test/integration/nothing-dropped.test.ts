/**
 * Issue 10 through the queue and the worker, on moto and the bunq emulator (IP whitelist on):
 * a DesiredIps item under a malformed sort key, or with an expiresAt that cannot be a deliberate
 * expiry, is an invalid desired entry that freezes deactivations (it used to be dropped, and its IP
 * deactivated); an IP bunq refuses for good fails on its own, terminally (acknowledged, not retried).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../emulator';
import { scheduleDeduplicationId } from '../../lambdas/aws/reconcile-request';
import {
  activeIps,
  addCredential,
  OUR_IP,
  pollUntilEmpty,
  putConfig,
  putDesiredIp,
  putItem,
  receive,
  type Credential,
  useWorld,
} from './harness';

const world = useWorld({ maxReceiveCount: 3, visibilityTimeoutSeconds: 0 });
afterEach(() => {
  world.emulator.faults.clear();
});

const S = (s: string): AttributeValue => ({ S: s });

/** One scheduled run from the queue; returns the poller's rounds and the status item. */
async function runFromQueue(cred: Credential) {
  const requestedAt = new Date(world.clock.now()).toISOString();
  await world.queue.send([{ request: { credential: cred.name, reason: 'schedule', requestedAt }, deduplicationId: scheduleDeduplicationId(cred.name, requestedAt) }]);
  const emfBefore = world.emf.length;
  const rounds = await pollUntilEmpty(world, 10);
  const dlq = await receive(world, world.dlqUrl);
  return { rounds, dlq, status: await world.state.readStatus(cred.name), emf: world.emf.slice(emfBefore).filter((r) => r.credential === cred.name) };
}

describe('nothing in DesiredIps is dropped silently', () => {
  it.each([
    ['an upper-case prefix', 'IP#203.0.113.60'],
    ['a bare address', '203.0.113.60'],
    ['a space for the #', 'ip 203.0.113.60'],
    ['another key', 'office'],
  ])('an item under %s is invalid and its IP stays ACTIVE (deactivations frozen)', async (_name, key) => {
    const cred = await addCredential(world);
    world.emulator.addIpEntryAsApp(cred.credentialId, '203.0.113.60', 'ACTIVE');
    await putConfig(world, cred);
    await putItem(world, { credential: S(cred.name), entry: S(key), ip: S('203.0.113.60') });
    const trail = await runFromQueue(cred);
    expect(trail.rounds).toEqual([[]]); // terminal: acknowledged, not retried
    expect(trail.dlq).toEqual([]);
    expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.60'].sort());
    expect(trail.status).toMatchObject({ outcome: 'held', error: { kind: 'invalid-desired' } });
    expect(trail.status?.invalid).toEqual([expect.objectContaining({ entry: key, code: 'entry-malformed' })]);
    expect(trail.status?.blocked).toEqual([expect.objectContaining({ guard: 'invalid-desired-freezes-deactivations' })]);
    expect(trail.emf[0]).toMatchObject({ InvalidDesiredEntries: 1, RunFailed: 1 });
  });

  it.each([
    ['a date typed as digits', '20261231'],
    ['a duration (8 hours)', '28800'],
  ])('an expiresAt that is %s is invalid, not expired: the live IP stays ACTIVE', async (_name, expiresAt) => {
    const cred = await addCredential(world);
    world.emulator.addIpEntryAsApp(cred.credentialId, '203.0.113.61', 'ACTIVE');
    await putConfig(world, cred);
    await putDesiredIp(world, cred.name, '203.0.113.61', { expiresAt: { N: expiresAt } });
    const trail = await runFromQueue(cred);
    expect(trail.rounds).toEqual([[]]);
    expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.61'].sort());
    expect(trail.status?.invalid).toEqual([
      expect.objectContaining({ entry: 'ip#203.0.113.61', code: 'invalid-expiry', reason: expect.stringMatching(/before 2020-01-01/) }),
    ]);
  });

  it('an IP bunq refuses for good fails on its own (ip-refused, terminal); the rest of the run is applied', async () => {
    const cred = await addCredential(world);
    world.emulator.addIpEntryAsApp(cred.credentialId, '198.51.100.62', 'ACTIVE');
    await putConfig(world, cred);
    await putDesiredIp(world, cred.name, '0.0.0.0');
    await putDesiredIp(world, cred.name, '203.0.113.62');
    world.emulator.faults.add({ method: 'POST', route: ROUTES.ipList, fault: { type: 'status', status: 400, description: 'This IP address cannot be whitelisted.' } });
    const trail = await runFromQueue(cred);
    expect(trail.rounds).toEqual([[]]); // one delivery: not retried five times through the queue
    expect(trail.dlq).toEqual([]);
    expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.62'].sort());
    expect(trail.status?.error).toMatchObject({ kind: 'ip-refused', message: expect.stringMatching(/0\.0\.0\.0.*cannot be whitelisted/) });
    expect(trail.status?.failed.map((o) => [o.operation.ip, o.error?.kind])).toEqual([['0.0.0.0', 'ip-refused']]);
    expect(trail.status?.applied.map((o) => [o.operation.kind, o.operation.ip])).toEqual([
      ['add', '203.0.113.62'],
      ['deactivate', '198.51.100.62'],
    ]);
  });
});
