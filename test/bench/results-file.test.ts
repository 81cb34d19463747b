import { describe, expect, it } from 'vitest';
import { mergeResults, producedSections, type ResultsHeader } from '../../bench/lib/results-file';

type R = ResultsHeader & { calls?: unknown; fanOut?: unknown; worker?: unknown; cost?: unknown; stack?: unknown };

const run = (over: Partial<R>): R => ({ generatedAt: '2026-12-02T05:00:00.000Z', mode: 'quick', durationsMs: {}, skipped: {}, ...over });

describe('results.json after a partial bench run', () => {
  it('keeps the sections it did not run from the old file, stamped with their own run', () => {
    const previous = {
      generatedAt: '2026-11-30T10:00:00.000Z', mode: 'full', machine: 'old box',
      durationsMs: { calls: 10, 'fan-out': 90_000, cost: 5 }, skipped: {},
      calls: [{ n: 1 }], fanOut: [{ credentials: 1000 }], cost: { monthly: 3 }, stack: { nat: {} },
    };
    const current = run({ machine: 'new box', fanOut: [{ credentials: 100 }], durationsMs: { 'fan-out': 4000 } });
    const merged = mergeResults(previous, current, ['fan-out']);
    expect(merged.fanOut).toEqual([{ credentials: 100 }]);
    expect(merged.calls).toEqual([{ n: 1 }]);
    expect(merged.cost).toEqual({ monthly: 3 });
    expect(merged.stack).toEqual({ nat: {} });
    expect(merged.machine).toBe('new box');
    expect(merged.durationsMs).toEqual({ calls: 10, 'fan-out': 4000, cost: 5 });
    expect(merged.sections).toEqual({
      'fan-out': { generatedAt: '2026-12-02T05:00:00.000Z', mode: 'quick', machine: 'new box' },
      calls: { generatedAt: '2026-11-30T10:00:00.000Z', mode: 'full', machine: 'old box' },
      cost: { generatedAt: '2026-11-30T10:00:00.000Z', mode: 'full', machine: 'old box' },
    });
  });

  it('carries old stamps forward, and a section this run skipped replaces the old figures', () => {
    const previous = {
      generatedAt: '2026-12-01T00:00:00.000Z', mode: 'quick', durationsMs: {}, skipped: {},
      calls: [{ n: 2 }], fanOut: [{ credentials: 1 }],
      sections: { calls: { generatedAt: '2026-11-01T00:00:00.000Z', mode: 'full' }, 'fan-out': { generatedAt: '2026-12-01T00:00:00.000Z', mode: 'quick' } },
    };
    const merged = mergeResults(previous, run({ skipped: { 'fan-out': 'moto is not installed' } }), ['fan-out']);
    expect(merged.fanOut).toBeUndefined();
    expect(merged.skipped).toEqual({ 'fan-out': 'moto is not installed' });
    expect(merged.sections?.calls).toEqual({ generatedAt: '2026-11-01T00:00:00.000Z', mode: 'full' });
  });

  it('writes only this run when the old file is missing, unreadable or of another shape', () => {
    for (const previous of [null, 'not json', [1, 2], { calls: 'x', generatedAt: 7 }]) {
      const merged = mergeResults(previous, run({ fanOut: [] }), ['fan-out']);
      expect(merged.fanOut).toEqual([]);
      expect(Object.keys(merged.sections ?? {})).toEqual(['fan-out']);
    }
    // A shapeless old file still hands over its section data, unstamped.
    expect(mergeResults({ calls: 'x', generatedAt: 7 }, run({}), ['fan-out']).calls).toBe('x');
  });

  it('counts a section another one ran for as run: --only=cost keeps its fresh worker figures', () => {
    const previous = { generatedAt: '2026-11-30T10:00:00.000Z', mode: 'full', durationsMs: { worker: 1 }, skipped: {}, worker: { old: true }, cost: { old: true } };
    const current = run({ worker: { fresh: true }, cost: { fresh: true }, durationsMs: { worker: 2, cost: 3 } });
    const ran = producedSections(['cost'], { ...current });
    expect(ran).toEqual(['worker', 'cost']);
    const merged = mergeResults(previous, current, ran);
    expect(merged).toMatchObject({ worker: { fresh: true }, cost: { fresh: true }, durationsMs: { worker: 2, cost: 3 } });
  });
});
