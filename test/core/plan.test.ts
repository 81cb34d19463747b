import { describe, expect, it } from 'vitest';
import { plan } from '../../lambdas/core/plan';
import { NO_ENTRY_ID, type ActualEntry } from '../../lambdas/core/types';
import { config, desiredItem as d, entry, NOW, CALLERS, CALLER, CALLER_ENTRY } from './fixtures';

describe('plan', () => {
  it('is empty when bunq already matches', () => {
    const p = plan([d('1.1.1.1'), d('2.2.2.2')], [entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '3.3.3.3', 'INACTIVE')], config(), NOW, CALLERS);
    expect(p.operations).toEqual([]);
    expect(p.blocked).toEqual([]);
    expect(p.drift).toEqual([]);
    expect(p.warnings).toEqual([]);
    expect(p.desiredIps).toEqual(['1.1.1.1', '2.2.2.2']);
  });

  it('adds a missing IP as ACTIVE', () => {
    const p = plan([d('1.1.1.1'), d('2.2.2.2')], [entry(1, '1.1.1.1')], config(), NOW, CALLERS);
    expect(p.operations).toEqual([{ kind: 'add', ip: '2.2.2.2' }]);
    expect(p.drift).toEqual([{ kind: 'missing', ip: '2.2.2.2' }]);
  });

  it('re-activates the oldest INACTIVE entry of a desired IP instead of adding', () => {
    const p = plan([d('1.1.1.1'), d('2.2.2.2')], [entry(1, '1.1.1.1'), entry(7, '2.2.2.2', 'INACTIVE'), entry(5, '2.2.2.2', 'INACTIVE')], config(), NOW, CALLERS);
    expect(p.operations).toEqual([{ kind: 'reactivate', ip: '2.2.2.2', entryId: 5 }]);
    expect(p.drift).toEqual([{ kind: 'inactive', ip: '2.2.2.2', entryId: 5 }]);
  });

  it('deactivates ACTIVE entries that are not desired', () => {
    const p = plan([d('1.1.1.1')], [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')], config(), NOW, CALLERS);
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
    const p = plan([d('1.1.1.1'), d('2.2.2.2'), d(CALLER)], [...actual, CALLER_ENTRY], config(), NOW, [CALLER]);
    expect(p.operations).toEqual([
      { kind: 'deactivate', ip: '1.1.1.1', entryId: 10, reason: 'duplicate' },
      { kind: 'deactivate', ip: '1.1.1.1', entryId: 12, reason: 'duplicate' },
      { kind: 'deactivate', ip: '2.2.2.2', entryId: 3, reason: 'duplicate' },
    ]);
  });

  it('orders additions, then re-activations, then deactivations (make before break)', () => {
    const p = plan([d('9.9.9.9'), d('3.3.3.3'), d('5.5.5.5')], [entry(1, '1.1.1.1'), entry(3, '3.3.3.3', 'INACTIVE'), entry(5, '5.5.5.5')], config(), NOW, ['5.5.5.5']);
    expect(p.operations.map((o) => o.kind)).toEqual(['add', 'reactivate', 'deactivate']);
  });

  it('makes exactly one write per difference', () => {
    const actual = [entry(1, '1.1.1.1'), entry(2, '2.2.2.2', 'INACTIVE'), entry(3, '3.3.3.3'), entry(4, '4.4.4.4'), entry(5, '4.4.4.4')];
    const p = plan([d('1.1.1.1'), d('2.2.2.2'), d('4.4.4.4'), d('5.5.5.5')], actual, config(), NOW, CALLERS);
    expect(p.operations).toHaveLength(p.drift.length);
    expect(p.operations).toHaveLength(4);
  });

  it('never plans a change to `*` and reports an ACTIVE one', () => {
    const p = plan([d('1.1.1.1')], [entry(1, '1.1.1.1'), entry(2, '*'), entry(3, '*', 'INACTIVE')], config(), NOW, CALLERS);
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
    const p = plan([d('1.1.1.1')], [entry(1, '1.1.1.1'), ...odd], config(), NOW, CALLERS);
    expect(p.operations).toEqual([]);
    expect(p.warnings.filter((w) => w.code === 'unrecognised-entry')).toHaveLength(3);
  });

  it('never acts on an entry without a usable id or with an unknown status, and never counts it as ACTIVE', () => {
    const noId = { ...entry(1, '1.1.1.1'), id: NO_ENTRY_ID };
    const pending = { ...entry(2, '2.2.2.2'), status: 'PENDING' };
    // Desired 1.1.1.1 and 2.2.2.2 have only entries we cannot use: another POST would only add one
    // more such entry run after run, so neither is added again (issue 10, item 4).
    const p = plan([d('1.1.1.1'), d('2.2.2.2')], [noId, pending, entry(3, '3.3.3.3'), { ...entry(4, '4.4.4.4', 'INACTIVE'), id: NO_ENTRY_ID }], config(), NOW, CALLERS);
    // ...and with nothing added, switching off 3.3.3.3 would leave no ACTIVE entry we understand.
    expect(p.operations).toEqual([]);
    expect(p.blocked.map((b) => [b.guard, b.operation.ip])).toEqual([['never-empty', '3.3.3.3']]);
    expect(p.drift).toEqual([{ kind: 'undesired-active', ip: '3.3.3.3', entryId: 3 }]);
    // Removing the only recognised ACTIVE entry would leave nothing we understand as ACTIVE: the odd
    // ACTIVE entry and the PENDING one do not count, so never-empty holds it back.
    const alone = plan([], [noId, pending, entry(3, '3.3.3.3')], config(), NOW, CALLERS);
    expect(alone.operations).toEqual([]);
    expect(alone.blocked.map((b) => [b.guard, b.operation])).toEqual([
      ['never-empty', { kind: 'deactivate', ip: '3.3.3.3', entryId: 3, reason: 'undesired' }],
    ]);
    // The ACTIVE entry without an id is not desired there: drift the reconciler cannot fix.
    expect(alone.drift).toContainEqual({ kind: 'unrecognised-active', ip: '1.1.1.1', entryId: NO_ENTRY_ID });
    expect(alone.warnings.find((w) => w.message.startsWith('entry (no id) (ip "1.1.1.1"'))?.message).toMatch(/drift the reconciler cannot fix/);
    const warnings = p.warnings.filter((w) => w.code === 'unrecognised-entry').map((w) => w.message);
    expect(warnings).toEqual([
      expect.stringMatching(/^entry \(no id\) \(ip "1\.1\.1\.1", status "ACTIVE"\) has no usable id; left untouched, and 1\.1\.1\.1 is not added again/),
      expect.stringMatching(/^entry 2 .*has a status that is neither ACTIVE nor INACTIVE; left untouched, and 2\.2\.2\.2 is not added again/),
      expect.stringMatching(/^entry \(no id\) \(ip "4\.4\.4\.4".*; left untouched$/),
    ]);
    // A `*` without an id is not a wildcard we act on.
    expect(plan([d('1.1.1.1')], [{ ...entry(1, '*'), id: NO_ENTRY_ID }], config(), NOW, CALLERS).blocked).toEqual([]);
  });

  it('an IP with an unusable entry is neither added nor re-activated, while other IPs are', () => {
    const p = plan(
      [d('1.1.1.1'), d('5.5.5.5'), d('6.6.6.6')],
      [{ ...entry(1, '1.1.1.1'), status: 'PENDING' }, entry(2, '1.1.1.1', 'INACTIVE'), entry(3, '6.6.6.6', 'INACTIVE')],
      config(),
      NOW,
      CALLERS,
    );
    expect(p.operations).toEqual([
      { kind: 'add', ip: '5.5.5.5' },
      { kind: 'reactivate', ip: '6.6.6.6', entryId: 3 },
    ]);
  });

  it('without caller IPs every deactivation is held with exactly "cannot tell which IP this run calls bunq from"', () => {
    const actual = [entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '1.1.1.1')];
    const p = plan([d('1.1.1.1'), d('4.4.4.4')], actual, config(), NOW);
    expect(p.callerIps).toEqual([]);
    expect(p.operations).toEqual([{ kind: 'add', ip: '4.4.4.4' }]);
    expect(p.blocked.map((b) => [b.guard, b.operation.ip, b.reason])).toEqual([
      ['caller-ip', '1.1.1.1', 'cannot tell which IP this run calls bunq from'],
      ['caller-ip', '2.2.2.2', 'cannot tell which IP this run calls bunq from'],
    ]);
    expect(plan([d('1.1.1.1')], actual, config(), NOW, []).blocked).toHaveLength(2);
    // An ACTIVE `*` covers the run: the deactivations go (the `*` itself stays untouched).
    const covered = plan([d('1.1.1.1')], [...actual, entry(9, '*')], config(), NOW);
    expect(covered.operations.map((o) => o.ip)).toEqual(['1.1.1.1', '2.2.2.2']);
  });

  it('never deactivates the caller IP, and one caller IP it cannot read makes the caller unknown', () => {
    const actual = [entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '3.3.3.3')];
    const p = plan([d('3.3.3.3')], actual, config(), NOW, [' 2.2.2.2 ']);
    expect(p.callerIps).toEqual(['2.2.2.2']);
    expect(p.operations).toEqual([{ kind: 'deactivate', ip: '1.1.1.1', entryId: 1, reason: 'undesired' }]);
    expect(p.blocked.map((b) => [b.guard, b.operation.ip])).toEqual([['caller-ip', '2.2.2.2']]);
    const typo = plan([d('3.3.3.3')], actual, config(), NOW, ['2.2.2.2', '02.2.2.2']);
    expect(typo.callerIps).toEqual([]);
    expect(typo.operations).toEqual([]);
    expect(typo.warnings).toContainEqual({ code: 'caller-ips-invalid', message: expect.stringMatching(/"02\.2\.2\.2".*treats its caller as unknown/) });
  });

  it('an item whose sort key names another IP freezes deactivations and adds neither IP', () => {
    const p = plan([{ entry: 'ip#203.0.113.7', ip: '203.0.113.17' }], [entry(1, '203.0.113.7'), entry(2, '203.0.113.8')], config(), NOW, CALLERS);
    expect(p.operations).toEqual([]);
    expect(p.invalid.map((i) => i.code)).toEqual(['entry-ip-mismatch']);
    expect(p.blocked.map((b) => b.guard)).toEqual(['invalid-desired-freezes-deactivations', 'invalid-desired-freezes-deactivations']);
  });

  it('freezes deactivations when a desired entry is invalid, but still adds', () => {
    const p = plan([d('1.1.1.1'), d('10.0.0.1/32')], [entry(2, '2.2.2.2')], config(), NOW, CALLERS);
    expect(p.operations).toEqual([{ kind: 'add', ip: '1.1.1.1' }]);
    expect(p.blocked.map((b) => b.guard)).toEqual(['invalid-desired-freezes-deactivations']);
    expect(p.invalid).toHaveLength(1);
  });

  it('in observe mode plans nothing but reports all drift and what it would have done', () => {
    const p = plan([d('1.1.1.1')], [entry(2, '2.2.2.2'), entry(3, '3.3.3.3')], config({ mode: 'observe' }), NOW, CALLERS);
    expect(p.operations).toEqual([]);
    expect(p.drift).toHaveLength(3);
    expect(p.blocked.map((b) => b.guard)).toEqual(['mode-observe', 'mode-observe', 'mode-observe']);
  });

  it('in additive mode adds but never deactivates', () => {
    const p = plan([d('1.1.1.1')], [entry(2, '2.2.2.2')], config({ mode: 'additive' }), NOW, CALLERS);
    expect(p.operations).toEqual([{ kind: 'add', ip: '1.1.1.1' }]);
    expect(p.blocked.map((b) => b.guard)).toEqual(['mode-additive']);
  });

  it('a claimed caller IP bunq does not list ACTIVE is wrong: the caller counts as unknown, deactivations held, additions go (issue 10 review B1)', () => {
    // A stale EGRESS_IPS (198.51.100.9) while the run really calls from 1.1.1.1, which is not desired.
    const p = plan([d('2.2.2.2')], [entry(1, '1.1.1.1'), entry(3, '3.3.3.3')], config(), NOW, ['198.51.100.9']);
    expect(p.operations).toEqual([{ kind: 'add', ip: '2.2.2.2' }]);
    expect(p.blocked.map((b) => [b.guard, b.operation.ip])).toEqual([['caller-ip', '1.1.1.1'], ['caller-ip', '3.3.3.3']]);
    expect(p.blocked[0]!.reason).toMatch(/claimed caller IP\(s\) 198\.51\.100\.9 are not ACTIVE at bunq, so the claim cannot be right/);
    expect(p.warnings).toContainEqual({ code: 'caller-ips-unconfirmed', message: expect.stringContaining('198.51.100.9') });
    // The same run with its real IP goes ahead.
    expect(plan([d('2.2.2.2')], [entry(1, '1.1.1.1'), entry(3, '3.3.3.3')], config(), NOW, ['1.1.1.1']).operations.map((o) => o.ip)).toEqual(['2.2.2.2', '3.3.3.3']);
  });

  it('kept IPs (the worker recorded in a CLI-local run) are kept but are no evidence of the caller (long-mode seed -1188853835)', () => {
    const actual = [entry(2, '127.0.0.2'), entry(3, '127.0.0.3')];
    // The CLI (really 127.0.0.3) claims a wrong IP; the worker's 127.0.0.2 is ACTIVE and desired.
    const p = plan([d('127.0.0.2')], actual, config(), NOW, ['198.51.100.250'], ['127.0.0.2']);
    expect(p.operations).toEqual([]);
    expect(p.blocked.map((b) => [b.guard, b.operation.ip])).toEqual([['caller-ip', '127.0.0.3']]);
    // A right claim goes ahead and still keeps the worker's IP.
    const right = plan([d('203.0.113.1')], [...actual, entry(4, '203.0.113.1')], config(), NOW, ['127.0.0.3'], ['127.0.0.2']);
    expect(right.operations).toEqual([]);
    expect(right.blocked.map((b) => b.operation.ip)).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  it('an empty desired set never empties the whitelist', () => {
    const p = plan([], [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')], config(), NOW, CALLERS);
    expect(p.operations).toEqual([]);
    // 1.1.1.1 is the caller's own entry; never-empty holds the other.
    expect(p.blocked.map((b) => b.guard)).toEqual(['caller-ip', 'never-empty']);
  });

  it('expired entries are not desired and their IP is deactivated like any other', () => {
    const p = plan([d('1.1.1.1'), d('2.2.2.2', NOW / 1000 - 1)], [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')], config(), NOW, CALLERS);
    expect(p.operations).toEqual([{ kind: 'deactivate', ip: '2.2.2.2', entryId: 2, reason: 'undesired' }]);
    expect(p.expired).toEqual([{ entry: 'ip#2.2.2.2', ip: '2.2.2.2', expiresAt: NOW / 1000 - 1 }]);
  });

  it('is plain data that survives a JSON round trip', () => {
    const p = plan([d('1.1.1.1'), d('bad')], [entry(1, '*'), entry(2, '2.2.2.2')], config(), NOW, CALLERS);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});
