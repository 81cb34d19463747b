import { describe, expect, it } from 'vitest';
import { normaliseDesired } from '../../lambdas/core/desired';
import type { DesiredItem } from '../../lambdas/core/types';

const NOW = Date.UTC(2026, 0, 1); // ms
const NOW_S = NOW / 1000;
const item = (ip: unknown, extra: Partial<DesiredItem> = {}): DesiredItem => ({
  entry: `ip#${String(ip)}`,
  ip,
  ...extra,
});

describe('normaliseDesired', () => {
  it('trims, de-duplicates and sorts numerically', () => {
    const r = normaliseDesired([item('10.0.0.10'), item(' 10.0.0.2 '), item('10.0.0.10'), item('9.1.1.1')], NOW);
    expect(r.ips).toEqual(['9.1.1.1', '10.0.0.2', '10.0.0.10']);
    expect(r.invalid).toEqual([]);
  });

  it('reports invalid items with entry, shown value, reason and code, and a warning each', () => {
    const r = normaliseDesired([item('10.0.0.1/32'), { entry: 'ip#x', ip: 42 }, item('1.2.3.4')], NOW);
    expect(r.ips).toEqual(['1.2.3.4']);
    expect(r.invalid).toEqual([
      { entry: 'ip#10.0.0.1/32', value: '"10.0.0.1/32"', reason: expect.stringMatching(/CIDR/), code: 'cidr' },
      { entry: 'ip#x', value: '42', reason: expect.stringMatching(/string, got number/), code: 'wrong-type' },
    ]);
    expect(r.warnings.filter((w) => w.code === 'invalid-desired')).toHaveLength(2);
  });

  it('drops expired items and reports them as expired, not invalid', () => {
    const r = normaliseDesired([item('1.1.1.1', { expiresAt: NOW_S - 1 }), item('2.2.2.2', { expiresAt: NOW_S + 60 })], NOW);
    expect(r.ips).toEqual(['2.2.2.2']);
    expect(r.invalid).toEqual([]);
    expect(r.expired).toEqual([{ entry: 'ip#1.1.1.1', ip: '1.1.1.1', expiresAt: NOW_S - 1 }]);
    expect(r.warnings).toContainEqual({ code: 'expired-desired', message: expect.stringMatching(/1\.1\.1\.1.*no longer desired/) });
  });

  it('an item expiring exactly now is expired', () => {
    expect(normaliseDesired([item('1.1.1.1', { expiresAt: NOW_S })], NOW).ips).toEqual([]);
  });

  it('an IP still desired through another, unexpired item is not reported as expired', () => {
    const r = normaliseDesired(
      [{ entry: 'ip#1.1.1.1', ip: '1.1.1.1', expiresAt: NOW_S - 5 }, { entry: 'ip# 1.1.1.1 ', ip: ' 1.1.1.1 ' }],
      NOW,
    );
    expect(r.ips).toEqual(['1.1.1.1']);
    expect(r.expired).toEqual([]);
  });

  it.each([
    ['a string', '1767225600'],
    ['NaN', Number.NaN],
    ['negative', -1],
    ['milliseconds', NOW + 1000],
  ])('rejects expiresAt given as %s', (_n, expiresAt) => {
    const r = normaliseDesired([{ entry: 'ip#1.1.1.1', ip: '1.1.1.1', expiresAt: expiresAt as number }], NOW);
    expect(r.ips).toEqual([]);
    expect(r.invalid).toEqual([expect.objectContaining({ code: 'invalid-expiry' })]);
  });

  it('rejects items that are not objects', () => {
    const r = normaliseDesired([null as unknown as DesiredItem], NOW);
    expect(r.invalid).toEqual([{ entry: '#0', value: 'null', reason: 'the item is not an object', code: 'wrong-type' }]);
  });

  it('rejects an item whose sort key names another IP than its ip attribute (entry-ip-mismatch)', () => {
    const r = normaliseDesired([{ entry: 'ip#1.1.1.1', ip: '2.2.2.2' }, item('3.3.3.3')], NOW);
    expect(r.ips).toEqual(['3.3.3.3']);
    expect(r.invalid).toEqual([
      { entry: 'ip#1.1.1.1', value: '"2.2.2.2"', reason: expect.stringMatching(/sort key names "1\.1\.1\.1" but the ip attribute is 2\.2\.2\.2/), code: 'entry-ip-mismatch' },
    ]);
    expect(r.warnings).toEqual([{ code: 'invalid-desired', message: expect.stringContaining('ip#1.1.1.1') }]);
  });

  it('an expired item with a mismatched sort key is invalid, not merely expired', () => {
    const r = normaliseDesired([{ entry: 'ip#1.1.1.1', ip: '2.2.2.2', expiresAt: NOW_S - 1 }], NOW);
    expect(r.invalid.map((i) => i.code)).toEqual(['entry-ip-mismatch']);
    expect(r.expired).toEqual([]);
  });

  it('compares the sort key after trimming, like the ip attribute', () => {
    const r = normaliseDesired([{ entry: 'ip# 1.1.1.1', ip: '1.1.1.1 ' }], NOW);
    expect(r.ips).toEqual(['1.1.1.1']);
    expect(r.invalid).toEqual([]);
  });

  it.each([
    ['upper-case prefix', 'IP#203.0.113.9'],
    ['a bare address', '203.0.113.10'],
    ['a space for the #', 'ip 203.0.113.11'],
    ['another name', 'office-vpn'],
  ])('an item under a sort key that is not ip#<IPv4> (%s) is invalid (entry-malformed), never dropped', (_n, key) => {
    const r = normaliseDesired([{ entry: key, ip: '2.2.2.2' }, item('3.3.3.3')], NOW);
    expect(r.ips).toEqual(['3.3.3.3']);
    expect(r.invalid).toEqual([
      { entry: key, value: '"2.2.2.2"', reason: expect.stringMatching(/is not of the form "ip#<IPv4>"/), code: 'entry-malformed' },
    ]);
  });

  it('an item without an ip attribute under an odd key names the key as its value', () => {
    const r = normaliseDesired([{ entry: '203.0.113.10', ip: undefined }], NOW);
    expect(r.invalid).toEqual([expect.objectContaining({ value: '"203.0.113.10"', code: 'entry-malformed' })]);
  });

  it.each([
    ['a date typed as digits', 20261231],
    ['a duration (8 hours)', 28800],
    ['zero', 0],
    ['the second before 2020', 1_577_836_799],
  ])('an expiresAt before 2020-01-01 (%s) is invalid, not expired', (_n, expiresAt) => {
    const r = normaliseDesired([{ entry: 'ip#1.1.1.1', ip: '1.1.1.1', expiresAt }], NOW);
    expect(r.ips).toEqual([]);
    expect(r.expired).toEqual([]);
    expect(r.invalid).toEqual([expect.objectContaining({ code: 'invalid-expiry', reason: expect.stringMatching(/before 2020-01-01/) })]);
  });

  it('an expiresAt from 2020-01-01 on is an ordinary expiry', () => {
    const r = normaliseDesired([{ entry: 'ip#1.1.1.1', ip: '1.1.1.1', expiresAt: 1_577_836_800 }], NOW);
    expect(r.invalid).toEqual([]);
    expect(r.expired.map((e) => e.ip)).toEqual(['1.1.1.1']);
  });
});
