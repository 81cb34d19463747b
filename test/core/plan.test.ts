import { describe, expect, it } from 'vitest';
import { plan } from '../../lambdas/core/plan';
import { NO_ENTRY_ID, type ActualEntry } from '../../lambdas/core/types';
import { config, desiredItem as d, entry, NOW } from './fixtures';

describe('plan', () => {
  it('is empty when bunq already matches', () => {
    const p = plan([d('1.1.1.1'), d('2.2.2.2')], [entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '3.3.3.3', 'INACTIVE')], config(), NOW);
    expect(p.operations).toEqual([]);
    expect(p.blocked).toEqual([]);
    expect(p.drift).toEqual([]);
    expect(p.warnings).toEqual([]);
    expect(p.desiredIps).toEqual(['1.1.1.1', '2.2.2.2']);
  });

  it('adds a missing IP as ACTIVE', () => {
    const p = plan([d('1.1.1.1'), d('2.2.2.2')], [entry(1, '1.1.1.1')], config(), NOW);
    expect(p.operations).toEqual([{ kind: 'add', ip: '2.2.2.2' }]);
    expect(p.drift).toEqual([{ kind: 'missing', ip: '2.2.2.2' }]);
  });

  it('re-activates the oldest INACTIVE entry of a desired IP instead of adding', () => {
    const p = plan([d('1.1.1.1'), d('2.2.2.2')], [entry(1, '1.1.1.1'), entry(7, '2.2.2.2', 'INACTIVE'), entry(5, '2.2.2.2', 'INACTIVE')], config(), NOW);
    expect(p.operations).toEqual([{ kind: 'reactivate', ip: '2.2.2.2', entryId: 5 }]);
    expect(p.drift).toEqual([{ kind: 'inactive', ip: '2.2.2.2', entryId: 5 }]);
  });

  it('deactivates ACTIVE entries that are not desired', () => {
    const p = plan([d('1.1.1.1')], [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')], config(), NOW);
    expect(p.operations).toEqual([{ kind: 'deactivate', ip: '2.2.2.2', entryId: 2, reason: 'undesired' }]);
    expect(p.drift).toEqual([{ kind: 'undesired-active', ip: '2.2.2.2', entryId: 2 }]);
  });

  it('keeps the oldest of duplicate ACTIVE entries (by created, then lowest id) and leaves INACTIVE ones alone', () => {
    const actual: ActualEntry[] = [
      entry(10, '1.1.1.1', 'ACTIVE', '2025-01-02 00:00:00.000000'),
      entry(11, '1.1.1.1', 'ACTIVE', '2025-01-01 00:00:00.000000'),
      entry(12, '1.1.1.1', 'ACTIVE', null),
      entry(13, '1.1.1.1', 'INACTIVE', '2024-01-01 00:00:00.000000'),
      entry(3, '2.2.2.2', 'ACTIVE', '2025-01-01 00:00:00.000000'),
      entry(2, '2.2.2.2', 'ACTIVE', '2025-01-01 00:00:00.000000'),
    ];
    const p = plan([d('1.1.1.1'), d('2.2.2.2')], actual, config(), NOW);
    expect(p.operations).toEqual([
      { kind: 'deactivate', ip: '1.1.1.1', entryId: 10, reason: 'duplicate' },
      { kind: 'deactivate', ip: '1.1.1.1', entryId: 12, reason: 'duplicate' },
      { kind: 'deactivate', ip: '2.2.2.2', entryId: 3, reason: 'duplicate' },
    ]);
  });

  it('orders additions, then re-activations, then deactivations (make before break)', () => {
    const p = plan([d('9.9.9.9'), d('3.3.3.3')], [entry(1, '1.1.1.1'), entry(3, '3.3.3.3', 'INACTIVE')], config(), NOW);
    expect(p.operations.map((o) => o.kind)).toEqual(['add', 'reactivate', 'deactivate']);
  });

  it('makes exactly one write per difference', () => {
    const actual = [entry(1, '1.1.1.1'), entry(2, '2.2.2.2', 'INACTIVE'), entry(3, '3.3.3.3'), entry(4, '4.4.4.4'), entry(5, '4.4.4.4')];
    const p = plan([d('1.1.1.1'), d('2.2.2.2'), d('4.4.4.4'), d('5.5.5.5')], actual, config(), NOW);
    expect(p.operations).toHaveLength(p.drift.length);
    expect(p.operations).toHaveLength(4);
  });

  it('never plans a change to `*` and reports an ACTIVE one', () => {
    const p = plan([d('1.1.1.1')], [entry(1, '1.1.1.1'), entry(2, '*'), entry(3, '*', 'INACTIVE')], config(), NOW);
    expect(p.operations).toEqual([]);
    expect(p.blocked).toEqual([
      { operation: { kind: 'deactivate', ip: '*', entryId: 2, reason: 'undesired' }, guard: 'wildcard-untouchable', reason: expect.any(String) },
    ]);
    expect(p.warnings.map((w) => w.code)).toEqual(['active-wildcard', 'guard-blocked']);
    // Not drift: only the app can change it, and with a wildcard key it is the intended state.
    expect(p.drift).toEqual([]);
  });

  it('never touches entries bunq returned with an IP it does not recognise, and reports them', () => {
    const odd = [entry(2, '2001:db8::1'), entry(3, '01.2.3.4'), { ...entry(4, '4.4.4.4'), status: 'PENDING' as 'ACTIVE' }];
    const p = plan([d('1.1.1.1')], [entry(1, '1.1.1.1'), ...odd], config(), NOW);
    expect(p.operations).toEqual([]);
    expect(p.warnings.filter((w) => w.code === 'unrecognised-entry')).toHaveLength(3);
  });

  it('never acts on an entry without a usable id or with an unknown status, and never counts it as ACTIVE', () => {
    const noId = { ...entry(1, '1.1.1.1'), id: NO_ENTRY_ID };
    const pending = { ...entry(2, '2.2.2.2'), status: 'PENDING' };
    // Desired 1.1.1.1 and 2.2.2.2 have only entries we cannot use, so they count as missing.
    const p = plan([d('1.1.1.1'), d('2.2.2.2')], [noId, pending, entry(3, '3.3.3.3'), { ...entry(4, '4.4.4.4', 'INACTIVE'), id: NO_ENTRY_ID }], config(), NOW);
    expect(p.operations).toEqual([
      { kind: 'add', ip: '1.1.1.1' },
      { kind: 'add', ip: '2.2.2.2' },
      { kind: 'deactivate', ip: '3.3.3.3', entryId: 3, reason: 'undesired' },
    ]);
    // Removing the only recognised ACTIVE entry would leave nothing we understand as ACTIVE: the odd
    // ACTIVE entry and the PENDING one do not count, so never-empty holds it back.
    const alone = plan([], [noId, pending, entry(3, '3.3.3.3')], config(), NOW);
    expect(alone.operations).toEqual([]);
    expect(alone.blocked.map((b) => [b.guard, b.operation])).toEqual([
      ['never-empty', { kind: 'deactivate', ip: '3.3.3.3', entryId: 3, reason: 'undesired' }],
    ]);
    const warnings = p.warnings.filter((w) => w.code === 'unrecognised-entry').map((w) => w.message);
    expect(warnings).toEqual([
      expect.stringMatching(/^entry \(no id\) \(ip "1\.1\.1\.1", status "ACTIVE"\) has no usable id; left untouched$/),
      expect.stringMatching(/^entry 2 .*has a status that is neither ACTIVE nor INACTIVE; left untouched$/),
      expect.stringMatching(/^entry \(no id\) \(ip "4\.4\.4\.4"/),
    ]);
    // An ACTIVE entry without an id never hides a missing one, and a `*` without one is not a wildcard we act on.
    expect(plan([d('1.1.1.1')], [{ ...entry(1, '*'), id: NO_ENTRY_ID }], config(), NOW).blocked).toEqual([]);
  });

  it('an item whose sort key names another IP freezes deactivations and adds neither IP', () => {
    const p = plan([{ entry: 'ip#203.0.113.7', ip: '203.0.113.17' }], [entry(1, '203.0.113.7'), entry(2, '203.0.113.8')], config(), NOW);
    expect(p.operations).toEqual([]);
    expect(p.invalid.map((i) => i.code)).toEqual(['entry-ip-mismatch']);
    expect(p.blocked.map((b) => b.guard)).toEqual(['invalid-desired-freezes-deactivations', 'invalid-desired-freezes-deactivations']);
  });

  it('freezes deactivations when a desired entry is invalid, but still adds', () => {
    const p = plan([d('1.1.1.1'), d('10.0.0.1/32')], [entry(2, '2.2.2.2')], config(), NOW);
    expect(p.operations).toEqual([{ kind: 'add', ip: '1.1.1.1' }]);
    expect(p.blocked.map((b) => b.guard)).toEqual(['invalid-desired-freezes-deactivations']);
    expect(p.invalid).toHaveLength(1);
  });

  it('in observe mode plans nothing but reports all drift and what it would have done', () => {
    const p = plan([d('1.1.1.1')], [entry(2, '2.2.2.2'), entry(3, '3.3.3.3')], config({ mode: 'observe' }), NOW);
    expect(p.operations).toEqual([]);
    expect(p.drift).toHaveLength(3);
    expect(p.blocked.map((b) => b.guard)).toEqual(['mode-observe', 'mode-observe', 'mode-observe']);
  });

  it('in additive mode adds but never deactivates', () => {
    const p = plan([d('1.1.1.1')], [entry(2, '2.2.2.2')], config({ mode: 'additive' }), NOW);
    expect(p.operations).toEqual([{ kind: 'add', ip: '1.1.1.1' }]);
    expect(p.blocked.map((b) => b.guard)).toEqual(['mode-additive']);
  });

  it('an empty desired set never empties the whitelist', () => {
    const p = plan([], [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')], config(), NOW);
    expect(p.operations).toEqual([]);
    expect(p.blocked.map((b) => b.guard)).toEqual(['never-empty', 'never-empty']);
  });

  it('expired entries are not desired and their IP is deactivated like any other', () => {
    const p = plan([d('1.1.1.1'), d('2.2.2.2', NOW / 1000 - 1)], [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')], config(), NOW);
    expect(p.operations).toEqual([{ kind: 'deactivate', ip: '2.2.2.2', entryId: 2, reason: 'undesired' }]);
    expect(p.expired).toEqual([{ entry: 'ip#2.2.2.2', ip: '2.2.2.2', expiresAt: NOW / 1000 - 1 }]);
  });

  it('is plain data that survives a JSON round trip', () => {
    const p = plan([d('1.1.1.1'), d('bad')], [entry(1, '*'), entry(2, '2.2.2.2')], config(), NOW);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});
