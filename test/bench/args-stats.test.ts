import { describe, expect, it } from 'vitest';
import { parseArgs, SECTIONS } from '../../bench/lib/args';
import { growthExponent, median, round } from '../../bench/lib/stats';

describe('parseArgs', () => {
  it('defaults to every section, full windows, bench/results.json', () => {
    expect(parseArgs([])).toEqual({ quick: false, sections: [...SECTIONS], out: 'bench/results.json' });
  });

  it('reads --quick, --only (kept in report order) and --out', () => {
    expect(parseArgs(['--quick', '--only=planner,calls', '--out=/tmp/r.json'])).toEqual({
      quick: true,
      sections: ['calls', 'planner'],
      out: '/tmp/r.json',
    });
  });

  it('names what it does not understand', () => {
    expect(() => parseArgs(['--only=calls,speed'])).toThrow(/unknown section\(s\): speed/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument "--fast"/);
    expect(() => parseArgs(['--only='])).toThrow(/at least one section/);
  });
});

describe('stats', () => {
  it('median of odd and even samples', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('growth exponent: 1 for linear, 2 for quadratic cost', () => {
    expect(growthExponent(10, 1, 1000, 100)).toBeCloseTo(1, 10);
    expect(growthExponent(10, 1, 1000, 10_000)).toBeCloseTo(2, 10);
    expect(() => growthExponent(10, 0, 100, 1)).toThrow();
  });

  it('rounds for the results file', () => {
    expect(round(1.23456, 2)).toBe(1.23);
    expect(round(1.235, 1)).toBe(1.2);
  });
});
