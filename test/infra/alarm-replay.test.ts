import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { metricsForResult } from '../../lambdas/aws/metrics';
import { shouldRetry } from '../../lambdas/service/reconcile-credential';
import type { ExecutionResult } from '../../lambdas/core/types';
import { sampleResult } from '../aws/fixtures';
import { evaluate, simulate, templateFacts, type Firing, type RunBehaviour, type Scenario, type TemplateFacts } from '../support/alarm-replay';
import { synthesize, type Synthesized } from './synth';

/**
 * Alarm replay (issue 12): the synthesized template's alarms, queue and schedule, the worker's own
 * batch handling and the real metric points of each kind of run, replayed minute by minute. Which
 * alarm fires for which credential, and when. No CloudWatch.
 */

let synth: Synthesized;
let facts: TemplateFacts;

beforeAll(() => {
  synth = synthesize({}, { bundle: false });
  facts = templateFacts(synth.template.toJSON() as Record<string, unknown>);
}, 120_000);

afterAll(() => {
  if (synth !== undefined) rmSync(synth.outdir, { recursive: true, force: true });
});

const MINUTE = 60;
const ONE = [{ id: 1, ip: '203.0.113.1', status: 'ACTIVE' as const, created: null }];

function result(credential: string, overrides: Partial<ExecutionResult>): ExecutionResult {
  const base = sampleResult(credential, { before: ONE, after: ONE, operations: [], ...overrides });
  return base;
}

/** What each kind of run emits, through the real metrics.ts. */
const runs = {
  inSync: (c: string): RunBehaviour => ({
    kind: 'finishes', seconds: 2, ok: true,
    points: metricsForResult(result(c, { outcome: 'in-sync', plan: { ...sampleResult(c).plan, drift: [], operations: [], blocked: [], warnings: [] } })),
  }),
  // bunq down: the first read fails after the client's and the core's retries.
  bunqDown: (c: string): RunBehaviour => ({
    kind: 'finishes', seconds: 25, ok: false,
    points: metricsForResult(result(c, {
      outcome: 'failed', before: [], after: null, error: { kind: 'maintenance', message: 'bunq is down' },
      plan: { ...sampleResult(c).plan, drift: [], operations: [], blocked: [], warnings: [{ code: 'read-failed', message: 'x' }] },
    })),
  }),
  // A guard holds 3 deactivations back (the demo's truncated import): a success, recorded as held.
  held: (c: string): RunBehaviour => {
    const plan = sampleResult(c).plan;
    const blocked = [5, 6, 7].map((id) => ({
      operation: { kind: 'deactivate' as const, ip: `198.51.100.${id}`, entryId: id, reason: 'undesired' as const },
      guard: 'max-deactivations' as const, reason: '3 deactivations planned, at most 2 allowed per run',
    }));
    const drift = blocked.map((b) => ({ kind: 'undesired-active' as const, ip: b.operation.ip, entryId: b.operation.entryId }));
    return { kind: 'finishes', seconds: 3, ok: true, points: metricsForResult(result(c, { outcome: 'held', plan: { ...plan, drift, operations: [], blocked, warnings: [] } })) };
  },
  observed: (c: string): RunBehaviour => {
    const plan = sampleResult(c).plan;
    const op = { kind: 'deactivate' as const, ip: '198.51.100.9', entryId: 5, reason: 'undesired' as const };
    return {
      kind: 'finishes', seconds: 2, ok: true,
      points: metricsForResult(result(c, {
        outcome: 'observed',
        plan: { ...plan, mode: 'observe', drift: [{ kind: 'undesired-active', ip: op.ip, entryId: 5 }], operations: [], blocked: [{ operation: op, guard: 'mode-observe', reason: 'observe mode' }], warnings: [] },
      })),
    };
  },
  hangs: (): RunBehaviour => ({ kind: 'hangs' }),
};

async function replay(scenario: Scenario): Promise<Firing[]> {
  const timelines = await simulate(facts, scenario, shouldRetry);
  return evaluate(facts, timelines, scenario.horizonSeconds);
}

const fired = (firings: Firing[]): Array<[string, string]> => firings.map((f) => [f.alarm, f.contributor]);
const minutesOf = (firings: Firing[], alarm: string, contributor: string): number | undefined => {
  const f = firings.find((x) => x.alarm === alarm && x.contributor === contributor);
  return f === undefined ? undefined : f.at / MINUTE;
};

describe('alarm replay from the synthesized template', () => {
  it('reads the sizing it replays from the template', () => {
    expect(facts).toMatchObject({ scheduleSeconds: 300, visibilitySeconds: 330, maxReceiveCount: 1, workerTimeoutSeconds: 300, workerConcurrency: 2 });
    expect(facts.alarms.map((a) => a.name).sort()).toEqual([
      'ActiveWildcard', 'CredentialClaimedTwice', 'DeadLetters', 'DriftRemaining', 'FanOutStopped', 'GuardBlockedOperations',
      'HandlerErrors', 'InvalidDesiredEntries',
      // The default egress (nat-instance) watches its NAT instance's status checks.
      'NatInstanceStatusCheck', 'NatInstanceSystemCheck',
      'NoSuccessfulRun', 'OldestRequest', 'RunsFailing', 'UnrecognisedEntries',
    ]);
    expect(facts.alarms.find((a) => a.name === 'RunsFailing')).toMatchObject({
      source: { kind: 'insights', fn: 'SUM', metric: 'RunFailed', groupBy: true }, periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 2, missing: 'notBreaching',
    });
  });

  it('a healthy deployment raises no alarm in six hours', async () => {
    const firings = await replay({ credentials: ['a', 'b'], horizonSeconds: 6 * 3600, run: (c) => runs.inSync(c) });
    expect(firings).toEqual([]);
  });

  it('one of two credentials failing transiently from t = 0: RunsFailing names it within 15 minutes, the other stays quiet', async () => {
    const firings = await replay({ credentials: ['a', 'b'], horizonSeconds: 3600, run: (c) => (c === 'a' ? runs.bunqDown(c) : runs.inSync(c)) });
    expect(fired(firings)).toEqual([['RunsFailing', 'a'], ['NoSuccessfulRun', 'a']]);
    expect(minutesOf(firings, 'RunsFailing', 'a')).toBeLessThanOrEqual(15);
    // Two failed runs (ticks at 0 and 5 min), each seen a minute after it ended: at the end of the second period.
    expect(minutesOf(firings, 'RunsFailing', 'a')).toBe(10);
    expect(minutesOf(firings, 'NoSuccessfulRun', 'a')).toBe(15);
  });

  it('one credential silently stuck (its runs hang until Lambda kills them): NoSuccessfulRun names it, the DLQ and HandlerErrors speak', async () => {
    const stuckFrom = 30 * MINUTE;
    const firings = await replay({
      credentials: ['a', 'b'],
      horizonSeconds: 2 * 3600,
      run: (c, t) => (c === 'a' && t >= stuckFrom ? runs.hangs() : runs.inSync(c)),
    });
    expect(fired(firings)).toEqual([['DeadLetters', ''], ['HandlerErrors', ''], ['NoSuccessfulRun', 'a'], ['OldestRequest', '']]);
    // Silence for three periods: 15 minutes after the first run that hung.
    expect((minutesOf(firings, 'NoSuccessfulRun', 'a') ?? Infinity) - stuckFrom / MINUTE).toBe(15);
    // Killed at 35:00, parked at 35:30 after its one receive, counted in the period that ends at 40:00.
    expect(minutesOf(firings, 'DeadLetters', '')).toBe(40);
    // Each hung request holds the group for 330 s while a new one arrives every 300 s: the
    // backlog's oldest request passes two periods after about an hour, and OldestRequest says so.
    expect(minutesOf(firings, 'OldestRequest', '')).toBe(95);
  });

  it('bunq down for everyone: RunsFailing and NoSuccessfulRun name every credential', async () => {
    const firings = await replay({ credentials: ['a', 'b'], horizonSeconds: 3600, run: (c) => runs.bunqDown(c) });
    expect(fired(firings)).toEqual([['RunsFailing', 'a'], ['RunsFailing', 'b'], ['NoSuccessfulRun', 'a'], ['NoSuccessfulRun', 'b']]);
    expect(minutesOf(firings, 'RunsFailing', 'b')).toBe(10);
  });

  it('a guard holding changes back: GuardBlockedOperations at once, DriftRemaining after its periods; no failure alarm', async () => {
    const firings = await replay({ credentials: ['a', 'b'], horizonSeconds: 3600, run: (c) => (c === 'a' ? runs.held(c) : runs.inSync(c)) });
    expect(fired(firings)).toEqual([['GuardBlockedOperations', 'a'], ['DriftRemaining', 'a']]);
    expect(minutesOf(firings, 'GuardBlockedOperations', 'a')).toBe(5);
    expect(minutesOf(firings, 'DriftRemaining', 'a')).toBe(15);
  });

  it('a credential in observe mode: its standing drift is reported, nothing fails', async () => {
    const firings = await replay({ credentials: ['a', 'b'], horizonSeconds: 3600, run: (c) => (c === 'a' ? runs.observed(c) : runs.inSync(c)) });
    expect(fired(firings)).toEqual([['GuardBlockedOperations', 'a'], ['DriftRemaining', 'a']]);
  });
});
