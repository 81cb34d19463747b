import { describe, expect, it } from 'vitest';
import {
  applyGuards,
  GUARDS,
  invalidDesiredFreezesDeactivations,
  maxDeactivations,
  modeAdditive,
  modeObserve,
  neverEmpty,
  protectedIp,
  wildcardUntouchable,
  type GuardContext,
} from '../../lambdas/core/guards';
import type { Operation } from '../../lambdas/core/types';
import { config, entry } from './fixtures';

const add = (ip: string): Operation => ({ kind: 'add', ip });
const react = (ip: string, entryId: number): Operation => ({ kind: 'reactivate', ip, entryId });
const deact = (ip: string, entryId: number, reason: 'undesired' | 'duplicate' = 'undesired'): Operation => ({
  kind: 'deactivate',
  ip,
  entryId,
  reason,
});

function ctx(patch: Partial<GuardContext> = {}): GuardContext {
  return {
    config: config(),
    invalidDesiredCount: 0,
    actual: [entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '3.3.3.3', 'INACTIVE'), entry(4, '*')],
    ...patch,
  };
}

describe('wildcard-untouchable', () => {
  it('holds back any operation on a `*` entry, with a reason naming the risk', () => {
    const blocked = wildcardUntouchable.check([deact('*', 4), deact('1.1.1.1', 1)], ctx());
    expect(blocked).toEqual([
      { operation: deact('*', 4), guard: 'wildcard-untouchable', reason: expect.stringMatching(/every IP/) },
    ]);
  });
  it('also catches an operation aimed at a wildcard entry id under another ip label', () => {
    expect(wildcardUntouchable.check([deact('9.9.9.9', 4)], ctx())).toHaveLength(1);
  });
  it('lets ordinary operations through', () => {
    expect(wildcardUntouchable.check([add('5.5.5.5'), deact('1.1.1.1', 1)], ctx())).toEqual([]);
  });
});

describe('mode-observe', () => {
  it('holds back everything in observe mode', () => {
    const ops = [add('5.5.5.5'), react('3.3.3.3', 3), deact('1.1.1.1', 1)];
    const blocked = modeObserve.check(ops, ctx({ config: config({ mode: 'observe' }) }));
    expect(blocked.map((b) => b.operation)).toEqual(ops);
    expect(blocked.every((b) => b.guard === 'mode-observe' && /observe mode/.test(b.reason))).toBe(true);
  });
  it('does nothing in enforce mode', () => {
    expect(modeObserve.check([add('5.5.5.5')], ctx())).toEqual([]);
  });
});

describe('mode-additive', () => {
  it('holds back deactivations only', () => {
    const ops = [add('5.5.5.5'), react('3.3.3.3', 3), deact('1.1.1.1', 1)];
    const blocked = modeAdditive.check(ops, ctx({ config: config({ mode: 'additive' }) }));
    expect(blocked.map((b) => b.operation)).toEqual([deact('1.1.1.1', 1)]);
  });
  it('does nothing in enforce mode', () => {
    expect(modeAdditive.check([deact('1.1.1.1', 1)], ctx())).toEqual([]);
  });
});

describe('invalid-desired-freezes-deactivations', () => {
  it('freezes every deactivation when a desired entry is invalid, additions still go', () => {
    const ops = [add('5.5.5.5'), deact('1.1.1.1', 1), deact('2.2.2.2', 2, 'duplicate')];
    const blocked = invalidDesiredFreezesDeactivations.check(ops, ctx({ invalidDesiredCount: 2 }));
    expect(blocked.map((b) => b.operation)).toEqual([deact('1.1.1.1', 1), deact('2.2.2.2', 2, 'duplicate')]);
    expect(blocked[0]!.reason).toMatch(/2 invalid desired entries/);
  });
  it('does nothing when all desired entries are valid', () => {
    expect(invalidDesiredFreezesDeactivations.check([deact('1.1.1.1', 1)], ctx())).toEqual([]);
  });
});

describe('protected-ip', () => {
  it('never deactivates a protected IP', () => {
    const c = ctx({ config: config({ protectedIps: ['1.1.1.1'] }) });
    const blocked = protectedIp.check([deact('1.1.1.1', 1), deact('2.2.2.2', 2)], c);
    expect(blocked).toEqual([
      { operation: deact('1.1.1.1', 1), guard: 'protected-ip', reason: expect.stringMatching(/1\.1\.1\.1 is a protected IP/) },
    ]);
  });
  it('does not hold back additions of a protected IP', () => {
    expect(protectedIp.check([add('1.1.1.1')], ctx({ config: config({ protectedIps: ['1.1.1.1'] }) }))).toEqual([]);
  });
});

describe('never-empty', () => {
  it('holds back all deactivations that together would leave no ACTIVE IPv4', () => {
    const ops = [deact('1.1.1.1', 1), deact('2.2.2.2', 2)];
    const blocked = neverEmpty.check(ops, ctx());
    expect(blocked.map((b) => b.operation)).toEqual(ops);
    expect(blocked[0]!.reason).toMatch(/no ACTIVE IPv4/);
  });
  it('does not count an ACTIVE `*` as keeping access', () => {
    // entry 4 is an ACTIVE "*": still blocked.
    expect(neverEmpty.check([deact('1.1.1.1', 1), deact('2.2.2.2', 2)], ctx())).toHaveLength(2);
  });
  it('counts additions and re-activations made first', () => {
    expect(neverEmpty.check([add('5.5.5.5'), deact('1.1.1.1', 1), deact('2.2.2.2', 2)], ctx())).toEqual([]);
    expect(neverEmpty.check([react('3.3.3.3', 3), deact('1.1.1.1', 1), deact('2.2.2.2', 2)], ctx())).toEqual([]);
  });
  it('allows deactivations that leave one ACTIVE IP', () => {
    expect(neverEmpty.check([deact('1.1.1.1', 1)], ctx())).toEqual([]);
  });
  it('ignores runs without deactivations even when nothing is ACTIVE', () => {
    expect(neverEmpty.check([], ctx({ actual: [] }))).toEqual([]);
  });
});

describe('max-deactivations', () => {
  it('holds back all deactivations when there are more than the limit', () => {
    const ops = [add('5.5.5.5'), deact('1.1.1.1', 1), deact('2.2.2.2', 2)];
    const blocked = maxDeactivations.check(ops, ctx({ config: config({ maxDeactivationsPerRun: 1 }) }));
    expect(blocked.map((b) => b.operation)).toEqual([deact('1.1.1.1', 1), deact('2.2.2.2', 2)]);
    expect(blocked[0]!.reason).toMatch(/2 deactivations exceed maxDeactivationsPerRun \(1\)/);
  });
  it('allows exactly the limit', () => {
    expect(maxDeactivations.check([deact('1.1.1.1', 1)], ctx({ config: config({ maxDeactivationsPerRun: 1 }) }))).toEqual([]);
  });
  it('a limit of 0 allows no deactivation', () => {
    expect(maxDeactivations.check([deact('1.1.1.1', 1)], ctx({ config: config({ maxDeactivationsPerRun: 0 }) }))).toHaveLength(1);
  });
});

describe('applyGuards', () => {
  it('runs every guard once, reports each held operation under the first guard that holds it', () => {
    const c = ctx({ config: config({ protectedIps: ['1.1.1.1'], maxDeactivationsPerRun: 0 }) });
    const { allowed, blocked } = applyGuards([add('5.5.5.5'), deact('1.1.1.1', 1), deact('*', 4)], c);
    expect(allowed).toEqual([add('5.5.5.5')]);
    expect(blocked.map((b) => b.guard)).toEqual(['wildcard-untouchable', 'protected-ip']);
  });
  it('the guard list has one entry per GuardId', () => {
    expect(new Set(GUARDS.map((g) => g.id)).size).toBe(7);
  });
  it('protected IPs are excluded before the limit is counted', () => {
    const c = ctx({ config: config({ protectedIps: ['1.1.1.1'], maxDeactivationsPerRun: 1 }) });
    const { allowed } = applyGuards([add('5.5.5.5'), deact('1.1.1.1', 1), deact('2.2.2.2', 2)], c);
    expect(allowed).toEqual([add('5.5.5.5'), deact('2.2.2.2', 2)]);
  });
});
