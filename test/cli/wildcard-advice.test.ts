import { describe, expect, it } from 'vitest';
import { resolveEgressIps } from '../../cli/egress-ips';
import { wildcardAdvice } from '../../cli/format/wildcard';
import { activeWildcardDescription } from '../../lib/monitoring';

const entry = (ip: string, status = 'ACTIVE'): { ip: string; status: string } => ({ ip, status });

describe('wildcardAdvice', () => {
  it('closable: `*` and the egress IP ACTIVE says exactly what to do', () => {
    const advice = wildcardAdvice([entry('*'), entry('203.0.113.9'), entry('198.51.100.1', 'INACTIVE')], ['203.0.113.9'], 'prod');
    expect(advice.state).toBe('closable');
    expect(advice.message).toBe('switch `*` off in the bunq app; the reconciler calls from 203.0.113.9, which is ACTIVE');
    // The alarm says the same sentence, so an operator meets one instruction everywhere.
    expect(activeWildcardDescription('203.0.113.9')).toContain(advice.message);
  });

  it('names every egress IP, and refuses to advise closing while one of them is not ACTIVE', () => {
    expect(wildcardAdvice([entry('*'), entry('203.0.113.9'), entry('203.0.113.10')], ['203.0.113.9', '203.0.113.10'], 'p').message).toBe(
      'switch `*` off in the bunq app; the reconciler calls from 203.0.113.9 and 203.0.113.10, which are ACTIVE',
    );
    const notYet = wildcardAdvice([entry('*'), entry('203.0.113.9', 'INACTIVE')], ['203.0.113.9'], 'prod');
    expect(notYet).toMatchObject({ state: 'egress-not-active', inactiveEgressIps: ['203.0.113.9'] });
    expect(notYet.message).toMatch(/lock it out/);
    expect(notYet.message).toContain('`bunq-ip desired add prod 203.0.113.9 --note egress` and `bunq-ip apply prod`');
    expect(notYet.message).not.toMatch(/^switch/);
  });

  it('without an egress IP: says `*` is open and how to learn more; with `*` INACTIVE or absent: nothing to do', () => {
    expect(wildcardAdvice([entry('*'), entry('203.0.113.9')], [], 'prod')).toMatchObject({ state: 'egress-unknown', message: expect.stringMatching(/--egress-ip/) });
    expect(wildcardAdvice([entry('*', 'INACTIVE'), entry('203.0.113.9')], ['203.0.113.9'], 'prod')).toMatchObject({ state: 'closed', message: '' });
    expect(wildcardAdvice([], ['203.0.113.9'], 'prod').state).toBe('closed');
  });
});

describe('resolveEgressIps', () => {
  it('takes --egress-ip over EGRESS_IPS, deduplicated and validated', () => {
    expect(resolveEgressIps(['203.0.113.9', '203.0.113.9'], { EGRESS_IPS: '198.51.100.1' })).toEqual({ ips: ['203.0.113.9'], source: 'flag' });
    expect(resolveEgressIps([], { EGRESS_IPS: ' 198.51.100.1 , 198.51.100.2' })).toEqual({ ips: ['198.51.100.1', '198.51.100.2'], source: 'env' });
    expect(resolveEgressIps([], { EGRESS_IPS: ' ' })).toEqual({ ips: [], source: 'none' });
  });

  it('refuses a malformed value with exit 64 instead of ignoring it', () => {
    expect(() => resolveEgressIps(['203.0.113.09'], {})).toThrow(/--egress-ip "203\.0\.113\.09"/);
    expect(() => resolveEgressIps([], { EGRESS_IPS: '203.0.113.9,' })).toThrow(/EGRESS_IPS "203\.0\.113\.9," is not a comma-separated list/);
    let thrown: unknown;
    try {
      resolveEgressIps(['*'], {});
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ exitCode: 64 });
  });
});
