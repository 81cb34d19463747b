import { describe, expect, it } from 'vitest';
import {
  applyGuards,
  CALLER_UNKNOWN_REASON,
  callerIp,
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
import { NO_ENTRY_ID, type Operation } from '../../lambdas/core/types';
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
    // The run's own IP, not among the entries the tests deactivate.
    callerIps: ['9.9.9.9'],
    desiredIps: ['2.2.2.2', '3.3.3.3', '5.5.5.5'],
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

describe('caller-ip', () => {
  const noWildcard = [entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(5, '1.1.1.1'), entry(3, '3.3.3.3', 'INACTIVE')];

  it('never deactivates an entry of an IP the run calls bunq from, duplicates included', () => {
    const ops = [deact('1.1.1.1', 1, 'undesired'), deact('1.1.1.1', 5, 'duplicate'), deact('2.2.2.2', 2)];
    const blocked = callerIp.check(ops, ctx({ actual: noWildcard, callerIps: ['1.1.1.1'] }));
    expect(blocked).toEqual([
      { operation: deact('1.1.1.1', 1, 'undesired'), guard: 'caller-ip', reason: '1.1.1.1 is an IP the reconciler calls bunq from; deactivating it would lock the reconciler out' },
      { operation: deact('1.1.1.1', 5, 'duplicate'), guard: 'caller-ip', reason: expect.stringMatching(/calls bunq from/) },
    ]);
  });
  it('lets deactivations of other IPs, and additions and re-activations of the caller IP, through', () => {
    const c = ctx({ actual: noWildcard, callerIps: ['1.1.1.1', '3.3.3.3'] });
    expect(callerIp.check([add('1.1.1.1'), react('3.3.3.3', 3), deact('2.2.2.2', 2)], c)).toEqual([]);
  });
  it('a run that cannot tell its IP holds every deactivation, with exactly that reason; additions go', () => {
    const ops = [add('5.5.5.5'), react('3.3.3.3', 3), deact('1.1.1.1', 1), deact('2.2.2.2', 2, 'duplicate')];
    const blocked = callerIp.check(ops, ctx({ actual: noWildcard, callerIps: [] }));
    expect(blocked).toEqual([
      { operation: deact('1.1.1.1', 1), guard: 'caller-ip', reason: 'cannot tell which IP this run calls bunq from' },
      { operation: deact('2.2.2.2', 2, 'duplicate'), guard: 'caller-ip', reason: CALLER_UNKNOWN_REASON },
    ]);
  });
  it('an ACTIVE `*` covers a run that cannot tell its IP', () => {
    expect(callerIp.check([deact('1.1.1.1', 1)], ctx({ callerIps: [] }))).toEqual([]);
  });
  it('an INACTIVE `*`, or a `*` without a usable id, covers nothing', () => {
    for (const wildcard of [entry(4, '*', 'INACTIVE'), { ...entry(4, '*'), id: NO_ENTRY_ID }, { ...entry(4, '*'), status: 'PENDING' }]) {
      expect(callerIp.check([deact('1.1.1.1', 1)], ctx({ actual: [...noWildcard, wildcard], callerIps: [] }))).toHaveLength(1);
    }
  });
});

describe('never-empty', () => {
  it('holds back all deactivations that together would leave no ACTIVE IPv4', () => {
    const ops = [deact('1.1.1.1', 1), deact('2.2.2.2', 2)];
    const blocked = neverEmpty.check(ops, ctx());
    expect(blocked.map((b) => b.operation)).toEqual(ops);
    expect(blocked[0]!.reason).toMatch(/no desired IPv4 address ACTIVE/);
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
  it('does not count an IP that stays ACTIVE only because a guard holds it (not desired)', () => {
    // 1.1.1.1 is kept by caller-ip or protected-ip, but nobody declared it: removing 2.2.2.2 would
    // leave no desired IP, so it is held (two runs from two IPs could otherwise empty the list).
    expect(neverEmpty.check([deact('2.2.2.2', 2)], ctx({ desiredIps: [] }))).toHaveLength(1);
    expect(neverEmpty.check([deact('2.2.2.2', 2)], ctx({ desiredIps: ['1.1.1.1'] }))).toEqual([]);
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
    expect(new Set(GUARDS.map((g) => g.id)).size).toBe(8);
  });
  it('a caller IP that is also protected is reported under protected-ip; caller IPs are excluded before the limit', () => {
    const c = ctx({ config: config({ protectedIps: ['1.1.1.1'], maxDeactivationsPerRun: 1 }), callerIps: ['1.1.1.1', '2.2.2.2'] });
    const { allowed, blocked } = applyGuards([deact('1.1.1.1', 1), deact('2.2.2.2', 2), deact('3.3.3.3', 3)], c);
    expect(blocked.map((b) => [b.operation.ip, b.guard])).toEqual([['1.1.1.1', 'protected-ip'], ['2.2.2.2', 'caller-ip']]);
    expect(allowed).toEqual([deact('3.3.3.3', 3)]);
  });
  it('protected IPs are excluded before the limit is counted', () => {
    const c = ctx({ config: config({ protectedIps: ['1.1.1.1'], maxDeactivationsPerRun: 1 }) });
    const { allowed } = applyGuards([add('5.5.5.5'), deact('1.1.1.1', 1), deact('2.2.2.2', 2)], c);
    expect(allowed).toEqual([add('5.5.5.5'), deact('2.2.2.2', 2)]);
  });
});
