import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { scheduleDeduplicationId } from '../../lambdas/aws/reconcile-request';
import { reconcileCredential, type RunOptions, type RunReport } from '../../lambdas/service/reconcile-credential';
import { captureStdout } from '../aws/emf-capture';
import {
  activeIps,
  addCredential,
  OUR_IP,
  pollUntilEmpty,
  putConfig,
  putDesiredIp,
  putItem,
  type Credential,
  useWorld,
} from './harness';

/**
 * One owner per bunq credential, through the real worker handler on moto and the emulator: a config
 * copied by hand in the console is refused (terminal, its own metric, no bunq call), two twins at
 * once cannot both run, a retired config is never reconciled, and a refusal by bunq names the IPs
 * the run believed it called from.
 */

const world = useWorld({ maxReceiveCount: 3, visibilityTimeoutSeconds: 0 });
const STRAY = '198.51.100.7';

const S = (s: string): AttributeValue => ({ S: s });

/** What an operator does in the console: duplicate the config item under another name. */
async function copyConfigByHand(from: Credential, to: string, extra: Record<string, AttributeValue> = {}): Promise<void> {
  await putItem(world, {
    credential: S(to), entry: S('config'), userId: { N: String(from.userId) },
    credentialPasswordIpId: { N: String(from.credentialId) }, secretName: S(from.secretName), mode: S('enforce'), ...extra,
  });
}

async function runFromQueue(credential: string): Promise<string[][]> {
  const requestedAt = new Date(world.clock.now()).toISOString();
  await world.queue.send([{ request: { credential, reason: 'schedule', requestedAt }, deduplicationId: scheduleDeduplicationId(credential, requestedAt) }]);
  return pollUntilEmpty(world);
}

function req(credential: string) {
  return { credential, reason: 'cli' as const, requestedAt: new Date(world.clock.now()).toISOString() };
}

/** The worker's service run directly (as `apply --local` runs it), its EMF kept off the test output. */
async function run(credential: string, options: RunOptions = {}): Promise<RunReport> {
  return (await captureStdout(() => reconcileCredential(world.deps, req(credential), options))).value;
}

describe('one owner per bunq credential (worker on moto and the emulator)', () => {
  it('refuses a hand-copied twin config: terminal credential-claimed-twice, its own metric, no bunq call', async () => {
    const cred = await addCredential(world, 'owner-prod');
    await putConfig(world, cred);
    world.emulator.addIpEntryAsApp(cred.credentialId, STRAY, 'ACTIVE');
    expect(await runFromQueue(cred.name)).toEqual([[]]);
    expect(activeIps(world, cred)).toEqual([OUR_IP]);

    // The copy declares nothing: left running, it would switch off the first config's IPs.
    await copyConfigByHand(cred, 'owner-prod-copy');
    const requestsBefore = world.emulator.requests.length;
    const emfBefore = world.emf.length;
    const rounds = await runFromQueue('owner-prod-copy');
    expect(rounds).toEqual([[]]); // acknowledged: a retry reads the same tables
    expect(world.emulator.requests.length).toBe(requestsBefore);
    expect(activeIps(world, cred)).toEqual([OUR_IP]);
    const status = await world.state.readStatus('owner-prod-copy');
    expect(status).toMatchObject({ outcome: 'failed', error: { kind: 'credential-claimed-twice' } });
    expect(status?.error?.message).toMatch(/credential "owner-prod" already reconciles/);
    expect(status?.error?.message).toMatch(/bunq-ip bootstrap owner-prod-copy --force/);
    const metrics = world.emf.slice(emfBefore).filter((r) => r.credential === 'owner-prod-copy');
    expect(metrics.map((r) => [r.CredentialClaimedTwice, r.RunFailed])).toEqual([[1, 1]]);

    // The owner keeps running normally.
    expect(await runFromQueue(cred.name)).toEqual([[]]);
    expect((await world.state.readStatus(cred.name))?.error).toBeNull();
  });

  it('two twins without an owner record, run at once: neither calls bunq until bootstrap --force picks one', async () => {
    const cred = await addCredential(world, 'race-a');
    await putConfig(world, cred);
    await copyConfigByHand(cred, 'race-b', { protectedIps: { L: [S(OUR_IP)] } });
    await putDesiredIp(world, 'race-b', OUR_IP);
    const calls = (): number => world.emulator.requests.filter((r) => r.path.includes(`/user/${cred.userId}/credential-password-ip`)).length;
    const before = calls();
    const reports = await captureStdout(() => Promise.all([reconcileCredential(world.deps, req('race-a')), reconcileCredential(world.deps, req('race-b'))])).then((c) => c.value);
    expect(reports.map((r) => [r.ok, r.error?.kind, r.retry])).toEqual([
      [false, 'credential-claimed-twice', false],
      [false, 'credential-claimed-twice', false],
    ]);
    expect(reports[0]?.error?.message).toMatch(/and so do live config\(s\) "race-b"; no owner record says which/);
    expect(calls()).toBe(before);
  });

  it('a retired config is not reconciled and calls nothing', async () => {
    const cred = await addCredential(world, 'retired-one');
    await putConfig(world, cred);
    await putItem(world, {
      credential: S('retired-one'), entry: S('config'), userId: { N: String(cred.userId) }, credentialPasswordIpId: { N: String(cred.credentialId) },
      secretName: S(cred.secretName), mode: S('enforce'), retiredAt: S('2026-01-01T00:00:00.000Z'), retiredInFavourOf: S('retired-successor'),
    });
    world.emulator.addIpEntryAsApp(cred.credentialId, STRAY, 'ACTIVE');
    const requestsBefore = world.emulator.requests.length;
    const report = await run('retired-one');
    expect(report).toMatchObject({ ok: true, retry: false, outcome: 'retired', error: null });
    expect(world.emulator.requests.length).toBe(requestsBefore);
    expect(activeIps(world, cred)).toEqual([OUR_IP, STRAY].sort());
    expect(await world.state.readStatus('retired-one')).toBeNull();
    expect(await world.desired.listCredentials()).not.toContain('retired-one');
  });

  it('when bunq rejects the caller, the recorded error names the IPs the run believed it had', async () => {
    const cred = await addCredential(world, 'rejected');
    await putConfig(world, cred);
    const own = world.emulator.listIpEntries(cred.credentialId).find((e) => e.ip === OUR_IP);
    world.emulator.setIpStatusAsApp(cred.credentialId, own?.id ?? 0, 'INACTIVE');

    const known = await run('rejected', { callerIps: ['203.0.113.9'] });
    expect(known).toMatchObject({ ok: false, retry: false, error: { kind: 'credentials-rejected' } });
    expect(known.error?.message).toMatch(/this run calls bunq from 203\.0\.113\.9; if the API key is current, that IP must be ACTIVE/);
    expect((await world.state.readStatus('rejected'))?.error?.message).toMatch(/calls bunq from 203\.0\.113\.9/);
    const logged = world.logger.lines.filter((l) => l.message === 'reconcile run failed' && l.attributes.credential === 'rejected');
    expect(JSON.stringify(logged.at(-1)?.attributes)).toMatch(/calls bunq from 203\.0\.113\.9/);

    const unknown = await run('rejected');
    expect(unknown.error?.message).toMatch(/this run could not tell which IP it calls bunq from/);
    const all = JSON.stringify([known, unknown, await world.state.readStatus('rejected')]);
    for (const secret of [cred.context.apiKey, cred.context.installationToken, cred.context.session?.token ?? 'no-session']) {
      expect(all).not.toContain(secret);
    }
  });
});
