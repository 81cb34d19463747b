import { describe, expect, it } from 'vitest';
import { bytes, cellText, fmt, formatTable, usd } from '../../bench/lib/table';

describe('formatTable', () => {
  it('pads columns to the widest cell, numbers right-aligned, text left-aligned', () => {
    const lines = formatTable(
      [{ header: 'scenario' }, { header: 'reads' }, { header: 'ratio' }],
      [
        ['in sync', 1, '1.00'],
        ['1,000 entries', 5, '1.00'],
      ],
    );
    expect(lines).toEqual([
      'scenario       reads  ratio',
      '-------------  -----  -----',
      'in sync            1  1.00',
      '1,000 entries      5  1.00',
    ]);
  });

  it('honours an explicit alignment and shows missing values as a dash', () => {
    const lines = formatTable([{ header: 'k', align: 'right' }, { header: 'bound' }], [['1', null], ['50', undefined]]);
    expect(lines).toEqual([' k  bound', '--  -----', ' 1  –', '50  –']);
  });

  it('pads short rows and refuses rows with more cells than columns', () => {
    expect(formatTable([{ header: 'a' }, { header: 'b' }], [['x']])).toEqual(['a  b', '-  -', 'x']);
    expect(() => formatTable([{ header: 'a' }], [['x', 'y']])).toThrow(/row 0 has 2 cells for 1 columns/);
    expect(() => formatTable([], [])).toThrow(/at least one column/);
  });
});

describe('cell formatting', () => {
  it('formats numbers, dollars and sizes', () => {
    expect(cellText(3)).toBe('3');
    expect(fmt(12345.678, 1)).toBe('12,345.7');
    expect(fmt(Number.NaN)).toBe('–');
    expect(usd(3.9)).toBe('$3.90');
    expect(usd(0.0423)).toBe('$0.042');
    expect(usd(0.00042)).toBe('$0.0004');
    expect(usd(0)).toBe('$0.00');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(2048)).toBe('2.0 KiB');
    expect(bytes(3 * 1024 * 1024)).toBe('3.00 MiB');
  });
});
