import { describe, expect, it, vi } from 'vitest';
import { plan as corePlan } from '../../lambdas/core/plan';
import { parseCommandLine } from '../../cli/args';
import { applyCommand } from '../../cli/commands/apply';
import type { CommandContext } from '../../cli/context';
import { CliError, ExitCode } from '../../cli/errors';
import type { CliIo } from '../../cli/io';
import { resolveSettings } from '../../cli/settings';
import { plainStyle } from '../../cli/style';
import { reconcileCredential } from '../../lambdas/service/reconcile-credential';
import {
  activeIps,
  addCredential,
  deleteMessages,
  OUR_IP,
  putConfig,
  putDesiredIp,
  receive,
  RecordingLogger,
  SECRET_PREFIX,
  whitelistWrites,
  type Credential,
  useWorld,
} from '../integration/harness';

// Every plan() anyone makes (the CLI's shown plan, the run's own) goes through this spy, so the
// number of plans per apply is counted, not assumed.
vi.mock('../../lambdas/core/plan', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lambdas/core/plan')>();
  return { ...original, plan: vi.fn(original.plan) };
});
const planSpy = vi.mocked(corePlan);

/**
 * `apply` in-process against moto and the bunq emulator, with a terminal whose prompt can change
 * the world while the operator is "reading" the plan: the race a local apply must not lose.
 */

const world = useWorld();

function context(options: { queueUrl?: string; onPrompt?: () => Promise<void> | void }): CommandContext & { errText: string[]; outText: string[] } {
  const errText: string[] = [];
  const outText: string[] = [];
  const io: CliIo = {
    out: (t) => outText.push(t),
    err: (t) => errText.push(t),
    readStdin: () => Promise.resolve(''),
    prompt: async () => {
      await options.onPrompt?.();
      return 'yes';
    },
    stdinIsTTY: true,
    stdoutIsTTY: false,
    env: {},
  };
  return {
    errText,
    outText,
    io,
    style: plainStyle,
    json: false,
    verbose: false,
    settings: resolveSettings(
      { 'desired-table': world.desiredTable, 'state-table': world.stateTable, 'secret-prefix': SECRET_PREFIX, 'queue-url': options.queueUrl },
      {},
    ),
    aws: { dynamo: () => world.aws.dynamo, secrets: () => world.aws.secrets, sqs: () => world.aws.sqs },
    clock: world.clock,
    logger: new RecordingLogger(),
  };
}

async function apply(ctx: CommandContext, ...args: string[]): Promise<number> {
  return applyCommand.run(ctx, parseCommandLine(applyCommand, args));
}

async function credentialWithDrift(name: string): Promise<Credential> {
  const cred = await addCredential(world, name);
  await putConfig(world, cred);
  await putDesiredIp(world, cred.name, '203.0.113.60');
  return cred;
}

describe('bunq-ip apply', () => {
  it('a local apply stops without any change when the plan changed after it was confirmed', async () => {
    const cred = await credentialWithDrift('raced');
    const writesBefore = world.emulator.requests.length;
    // While the operator reads the plan (add 203.0.113.60), someone declares another IP.
    const ctx = context({ onPrompt: () => putDesiredIp(world, cred.name, '203.0.113.61') });
    planSpy.mockClear();
    const run = apply(ctx, cred.name);
    await expect(run).rejects.toThrow(CliError);
    expect(planSpy).toHaveBeenCalledTimes(2);
    await expect(run).rejects.toThrow(/apply aborted for raced: the plan of raced changed after it was confirmed \(confirmed: add 203\.0\.113\.60; now: add 203\.0\.113\.60, add 203\.0\.113\.61\); nothing was changed/);
    expect(whitelistWrites(world, writesBefore)).toEqual([]);
    expect(activeIps(world, cred)).toEqual([OUR_IP]);
    expect(await world.state.readStatus(cred.name)).toBeNull();
  });

  it('with --json, a refused apply prints the refusal and keeps the error shape scripts read (kind plan-changed)', async () => {
    const cred = await credentialWithDrift('raced-json');
    const ctx = { ...context({ onPrompt: () => putDesiredIp(world, cred.name, '203.0.113.62') }), json: true };
    await expect(apply(ctx, cred.name)).rejects.toThrow(CliError);
    const printed = JSON.parse(ctx.outText.join('')) as { ok: boolean; outcome: string; error: { kind: string; message: string }; refusal: { code: string } };
    expect(printed).toMatchObject({ ok: false, outcome: 'aborted', error: { kind: 'plan-changed' }, refusal: { code: 'plan-changed' } });
    expect(printed.error.message).toMatch(/changed after it was confirmed/);
  });

  it('a local apply whose fresh plan matches the confirmed one applies it, planning twice: once shown, once run', async () => {
    const cred = await credentialWithDrift('unraced');
    planSpy.mockClear();
    expect(await apply(context({}), cred.name)).toBe(ExitCode.Ok);
    expect(planSpy).toHaveBeenCalledTimes(2);
    expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.60'].sort());
    expect(await world.state.readStatus(cred.name)).toMatchObject({ reason: 'cli', outcome: 'converged' });
  });

  it('with a queue URL set, apply goes through the queue by default and calls no bunq from here', async () => {
    const cred = await credentialWithDrift('queued');
    const requestsBefore = world.emulator.requests.length;
    expect(await apply(context({ queueUrl: world.queueUrl }), cred.name, '--yes')).toBe(ExitCode.Ok);
    expect(world.emulator.requests.length).toBe(requestsBefore);
    const messages = await receive(world);
    expect(messages.map((m) => [JSON.parse(m.Body ?? '{}') as unknown, m.Attributes?.MessageGroupId])).toEqual([
      [expect.objectContaining({ credential: cred.name, reason: 'cli' }), cred.name],
    ]);
    await deleteMessages(world, messages);
    expect(activeIps(world, cred)).toEqual([OUR_IP]);
  });

  it('apply through the queue fails, and says why, when SQS cannot take the credential name (no false "queued")', async () => {
    const ctx = context({ queueUrl: world.queueUrl });
    const run = apply(ctx, 'has space', '--yes');
    await expect(run).rejects.toThrow(CliError);
    await expect(run).rejects.toThrow(/could not queue a run of has space: credential name "has space" cannot be a queue message group/);
    expect(ctx.outText.join('\n')).not.toMatch(/queued/);
    expect(await receive(world)).toEqual([]);
  });

  it('--local runs here even with a queue URL set; --local with --via-queue is a usage error', async () => {
    const cred = await credentialWithDrift('forced-local');
    expect(await apply(context({ queueUrl: world.queueUrl }), cred.name, '--local', '--yes')).toBe(ExitCode.Ok);
    expect(activeIps(world, cred)).toEqual([OUR_IP, '203.0.113.60'].sort());
    expect(await receive(world)).toEqual([]);
    await expect(apply(context({ queueUrl: world.queueUrl }), cred.name, '--local', '--via-queue')).rejects.toMatchObject({
      exitCode: ExitCode.Usage,
      message: expect.stringMatching(/--local and --via-queue contradict each other/) as unknown,
    });
  });

  it('a local apply keeps the IP the worker recorded: the plan shown says so, and the run applies it (no plan-changed)', async () => {
    const workerIp = '127.0.0.9';
    const cred = await addCredential(world, 'worker-kept');
    world.emulator.addIpEntryAsApp(cred.credentialId, workerIp, 'ACTIVE');
    await putConfig(world, cred, { protectedIps: [] });
    await putDesiredIp(world, cred.name, '203.0.113.60');
    // A worker run from its egress IP records it (the worker's EGRESS_IPS).
    const worker = { ...world.deps, bunqOptions: { ...world.deps.bunqOptions, localAddress: workerIp } };
    const request = { credential: cred.name, reason: 'schedule' as const, requestedAt: new Date(world.clock.now()).toISOString() };
    expect((await reconcileCredential(worker, request, { workerRun: true, callerIps: [workerIp] })).ok).toBe(true);
    expect((await world.state.readStatus(cred.name))?.workerCallerIps).toEqual([workerIp]);
    await putDesiredIp(world, cred.name, '203.0.113.61');

    // From this machine (OUR_IP): the worker's IP is ACTIVE, undesired and unprotected, yet kept.
    const ctx = context({});
    expect(await apply(ctx, cred.name, '--local', '--caller-ip', OUR_IP)).toBe(ExitCode.Ok);
    const shown = ctx.outText.join('\n');
    expect(shown).toMatch(new RegExp(`Caller: this run calls bunq from ${OUR_IP.replace(/\./g, '\\.')} \\(--caller-ip\\); it is kept \\(never deactivated\\)\\. The worker's recorded egress IP 127\\.0\\.0\\.9 is kept too\\.`));
    expect(shown).toMatch(/\+ 203\.0\.113\.61/);
    expect(shown).not.toMatch(/^ +- 127\.0\.0\.9/m);
    expect(shown).toMatch(/! - 127\.0\.0\.9 .*\[caller-ip\] 127\.0\.0\.9 is an IP the reconciler calls bunq from/);
    expect(activeIps(world, cred)).toEqual([OUR_IP, workerIp, '203.0.113.60', '203.0.113.61'].sort());
    // "held": the worker's IP stays as drift the caller-ip guard keeps, never a plan-changed stop.
    expect(await world.state.readStatus(cred.name)).toMatchObject({ reason: 'cli', outcome: 'held', error: null });
  });
});
