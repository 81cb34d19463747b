import { describe, expect, it } from 'vitest';
import { isApplied, isSuccessfulOutcome } from '../../lambdas/core/outcome';
import type { OperationOutcome, RunOutcome } from '../../lambdas/core/types';

describe('one definition of applied and of a successful run', () => {
  it('counts an operation as applied when bunq holds the change', () => {
    const all: OperationOutcome[] = ['applied', 'applied-as-add', 'confirmed-after-reread', 'failed', 'not-attempted'];
    expect(all.filter(isApplied)).toEqual(['applied', 'applied-as-add', 'confirmed-after-reread']);
  });

  it('counts held (a guard held changes on purpose) and observed as successes, partial and failed not', () => {
    const all: RunOutcome[] = ['in-sync', 'converged', 'held', 'partial', 'failed', 'observed'];
    expect(all.filter(isSuccessfulOutcome)).toEqual(['in-sync', 'converged', 'held', 'observed']);
  });
});
