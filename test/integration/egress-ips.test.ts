import { describe, expect, it } from 'vitest';
import { reconcileCredential } from '../../lambdas/service/reconcile-credential';
import { handler as workerHandler } from '../../lambdas/handlers/reconcile-worker';
import { resetHandlerRuntime } from '../../lambdas/handlers/runtime';
import { fakeLambdaContext } from './handler-context';
import { captureStdout } from '../aws/emf-capture';
import { activeIps, addCredential, OUR_IP, putConfig, putDesiredIp, sqsEvent, useHandlerWorld, useWorld } from './harness';

/**
 * EGRESS_IPS through the exported worker handler, configured only by the environment (moto and
 * the bunq emulator with its IP whitelist on; the emulator sees this process as OUR_IP): the worker
 * never deactivates the IP it calls bunq from, whatever the config item says. Its own world: the
 * emulator allows one session-server call per 30 s per IP, on the real clock these handlers use.
 */

const world = useHandlerWorld();

describe('worker with EGRESS_IPS', () => {
  it('EGRESS_IPS: the worker never deactivates its own IP, whatever the config says, and can still call bunq', async () => {
    const cred = await addCredential(world, 'egress-kept');
    // No protectedIps, and the desired set does not list the worker's IP (bootstrap bound it).
    await putConfig(world, cred, { protectedIps: [], desireOwnIp: false });
    await putDesiredIp(world, cred.name, '203.0.113.81');
    expect(activeIps(world, cred)).toEqual([OUR_IP]);
    const run = async (env: Record<string, string>) => {
      resetHandlerRuntime();
      Object.assign(process.env, env);
      const event = sqsEvent([{ MessageId: 'm1', Body: JSON.stringify({ credential: cred.name, reason: 'schedule', requestedAt: new Date().toISOString() }), Attributes: { MessageGroupId: cred.name } }]);
      return captureStdout(() => workerHandler(event, fakeLambdaContext('egress-ips-run')));
    };
    try {
      const first = await run({ EGRESS_IPS: OUR_IP });
      expect(first.value).toEqual({ batchItemFailures: [] });
      expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.81'].sort());
      const status = await world.state.readStatus(cred.name);
      expect(status?.blocked).toEqual([expect.objectContaining({ guard: 'caller-ip', operation: expect.objectContaining({ ip: OUR_IP }) })]);
      // The next run still reaches bunq from that IP.
      const second = await run({ EGRESS_IPS: OUR_IP });
      expect(second.emf[0]).toMatchObject({ RunFailed: 0 });
      expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.81'].sort());

      // A malformed EGRESS_IPS is a configuration error, and the worker then holds every deactivation.
      await world.emulator.addIpEntryAsApp(cred.credentialId, '198.51.100.9', 'ACTIVE');
      const third = await run({ EGRESS_IPS: '127.0.0.01' });
      expect(third.value).toEqual({ batchItemFailures: [] });
      const logged = third.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged.find((l) => l.level === 'ERROR' && String(l.message).startsWith('configuration error: EGRESS_IPS'))).toMatchObject({
        problem: expect.stringMatching(/EGRESS_IPS "127\.0\.0\.01" is not a comma-separated list of IPv4 addresses/),
      });
      expect(activeIps(world, cred)).toEqual([OUR_IP, '198.51.100.9', '203.0.113.81'].sort());
      const malformed = await world.state.readStatus(cred.name);
      expect(malformed?.blocked.map((b) => b.reason)).toEqual([
        'cannot tell which IP this run calls bunq from',
        'cannot tell which IP this run calls bunq from',
      ]);
      // ...and the run record says why, naming the bad value (issue 10 review m2).
      expect(malformed?.warnings).toContainEqual({ code: 'egress-ips-invalid', message: expect.stringContaining('"127.0.0.01"') });

      // A well-formed but wrong EGRESS_IPS (a stale EIP): bunq answered, so the real caller is
      // ACTIVE and the claimed 198.51.100.77 is not: the run counts its caller as unknown, and the
      // IP it really calls from stays ACTIVE (issue 10 review B1).
      const fourth = await run({ EGRESS_IPS: '198.51.100.77' });
      expect(fourth.value).toEqual({ batchItemFailures: [] });
      expect(activeIps(world, cred)).toEqual([OUR_IP, '198.51.100.9', '203.0.113.81'].sort());
      const stale = await world.state.readStatus(cred.name);
      expect(stale?.blocked.map((b) => [b.guard, b.operation.ip])).toEqual([['caller-ip', OUR_IP], ['caller-ip', '198.51.100.9']].sort((x, y) => x[1]!.localeCompare(y[1]!)));
      for (const b of stale?.blocked ?? []) expect(b.reason).toMatch(/claimed caller IP\(s\) 198\.51\.100\.77 are not ACTIVE at bunq, so the claim cannot be right/);
      expect(stale?.warnings.map((w) => w.code)).toContain('caller-ips-unconfirmed');
      // ...and it still reaches bunq from there.
      const fifth = await run({ EGRESS_IPS: OUR_IP });
      expect(fifth.emf[0]).toMatchObject({ RunFailed: 0 });
    } finally {
      delete process.env.EGRESS_IPS;
      resetHandlerRuntime();
    }
  });
});

describe('worker IPs recorded for CLI-local runs', () => {
  // A ManualClock world: bunq's session-server window (30 s per IP) passes instantly.
  const manual = useWorld();

  it('a CLI-local run keeps the IPs the worker recorded, which it cannot know itself', async () => {
    const laptop = '127.0.0.5';
    const world = manual;
    const cred = await addCredential(world, 'worker-recorded');
    world.emulator.addIpEntryAsApp(cred.credentialId, laptop, 'ACTIVE');
    await putConfig(world, cred, { protectedIps: [], desireOwnIp: false });
    await putDesiredIp(world, cred.name, laptop);
    await putDesiredIp(world, cred.name, '203.0.113.82');
    const event = sqsEvent([{ MessageId: 'w1', Body: JSON.stringify({ credential: cred.name, reason: 'schedule', requestedAt: new Date().toISOString() }), Attributes: { MessageGroupId: cred.name } }]);
    // The worker (the harness wires EGRESS_IPS = OUR_IP) records the IP it calls from.
    expect(await world.worker(event)).toEqual({ batchItemFailures: [] });
    expect((await world.state.readStatus(cred.name))?.workerCallerIps).toEqual([OUR_IP]);

    // apply --local from the operator's laptop: its own IP only, as the CLI knows it.
    const local = { ...world.deps, bunqOptions: { ...world.deps.bunqOptions, localAddress: laptop } };
    const request = { credential: cred.name, reason: 'cli' as const, requestedAt: new Date().toISOString() };
    const report = await reconcileCredential(local, request, { callerIps: [laptop] });
    expect(report.ok).toBe(true);
    expect(activeIps(world, cred)).toEqual([OUR_IP, laptop, '203.0.113.82'].sort());
    const status = await world.state.readStatus(cred.name);
    expect(status?.blocked).toEqual([expect.objectContaining({ guard: 'caller-ip', operation: expect.objectContaining({ ip: OUR_IP }) })]);
    // ...and the local run did not overwrite what the worker recorded.
    expect(status?.workerCallerIps).toEqual([OUR_IP]);
    // A local run that cannot tell its own IP stays unknown: nothing deactivated.
    const blind = await reconcileCredential(local, request, {});
    expect(blind.ok).toBe(true);
    expect((await world.state.readStatus(cred.name))?.blocked.map((b) => b.reason)).toEqual(['cannot tell which IP this run calls bunq from']);
    // The worker still reaches bunq (its own IP, not desired, is held back by caller-ip: HELD).
    expect(await world.worker(event)).toEqual({ batchItemFailures: [] });
    expect((await world.state.readStatus(cred.name))?.outcome).toBe('held');
  });
});
