import { describe, expect, it } from 'vitest';
import { APPROVED, approveIfUnchanged, sameOperations, type Approval } from '../../lambdas/core/approval';
import { plan } from '../../lambdas/core/plan';
import { reconcile } from '../../lambdas/core/reconcile';
import type { Plan } from '../../lambdas/core/types';
import { ManualClock } from '../support/manual-clock';
import { CALLERS, config, desiredItem as d, entry, NOW } from './fixtures';
import { MemoryPort } from './memory-port';

/** reconcile({ approve }): the approver sees the plan of the run's own fresh read, before any write. */
describe('reconcile with an approver', () => {
  it('calls the approver once, after the fresh read and before any write, with the plan the run executes', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]);
    const seen: Array<{ plan: Plan; calls: string[] }> = [];
    const r = await reconcile({
      callerIps: CALLERS,
      desired: [d('1.1.1.1'), d('3.3.3.3')],
      config: config(),
      port,
      clock: new ManualClock(NOW),
      approve: (p) => {
        seen.push({ plan: p, calls: [...port.calls] });
        return APPROVED;
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.calls).toEqual(['list']);
    expect(seen[0]?.plan.operations).toEqual([{ kind: 'add', ip: '3.3.3.3' }]);
    expect(r.outcome).toBe('converged');
    if (r.outcome === 'refused') throw new Error('unexpected refusal');
    expect(r.plan).toBe(seen[0]?.plan);
    expect(port.calls.filter((c) => c !== 'list')).toHaveLength(1);
  });

  it('a refusal is its own outcome: nothing written, the refused plan and the reason reported, no error', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const refusal: Approval = { approved: false, code: 'plan-changed', reason: 'not what was confirmed' };
    const clock = new ManualClock(NOW);
    const r = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1'), d('3.3.3.3')], config: config(), port, clock, approve: () => refusal });
    expect(r).toMatchObject({
      outcome: 'refused',
      refusal: { code: 'plan-changed', reason: 'not what was confirmed' },
      reads: 1,
      writes: 0,
      before: [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')],
    });
    expect(r).not.toHaveProperty('error');
    expect(r.plan.operations.map((o) => o.kind)).toEqual(['add', 'deactivate']);
    expect(port.calls).toEqual(['list']);
  });

  it('a read that fails is a failed run as before: the approver is never asked', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]).failNext({ method: 'list', kind: 'credentials-rejected' });
    let asked = 0;
    const r = await reconcile({
      callerIps: CALLERS,
      desired: [d('3.3.3.3')],
      config: config(),
      port,
      clock: new ManualClock(NOW),
      approve: () => {
        asked++;
        return APPROVED;
      },
    });
    expect(asked).toBe(0);
    expect(r.outcome).toBe('failed');
  });
});

describe('approveIfUnchanged', () => {
  const before = [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')];
  const shown = plan([d('1.1.1.1'), d('3.3.3.3')], before, config(), NOW, CALLERS);

  it('approves the very operations confirmed, and refuses any other plan naming both sides', () => {
    expect(approveIfUnchanged(shown.operations)(shown)).toEqual({ approved: true });
    const fresh = plan([d('1.1.1.1'), d('3.3.3.3'), d('4.4.4.4')], before, config(), NOW, CALLERS);
    expect(approveIfUnchanged(shown.operations)(fresh)).toEqual({
      approved: false,
      code: 'plan-changed',
      reason:
        'the plan of prod changed after it was confirmed (confirmed: add 3.3.3.3, deactivate 2.2.2.2 #2; now: add 3.3.3.3, add 4.4.4.4, deactivate 2.2.2.2 #2)',
    });
    expect(approveIfUnchanged([])(fresh)).toMatchObject({ approved: false, reason: expect.stringContaining('confirmed: no changes;') as unknown });
  });

  it('compares kind, IP, entry id, deactivation reason and order', () => {
    const add = { kind: 'add', ip: '3.3.3.3' } as const;
    const off = { kind: 'deactivate', ip: '2.2.2.2', entryId: 2, reason: 'undesired' } as const;
    expect(sameOperations([add, off], [add, off])).toBe(true);
    expect(sameOperations([add, off], [off, add])).toBe(false);
    expect(sameOperations([off], [{ ...off, entryId: 3 }])).toBe(false);
    expect(sameOperations([off], [{ ...off, reason: 'duplicate' }])).toBe(false);
    expect(sameOperations([off], [{ kind: 'reactivate', ip: '2.2.2.2', entryId: 2 }])).toBe(false);
    expect(sameOperations([add], [])).toBe(false);
  });
});
