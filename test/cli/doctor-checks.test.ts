import { describe, expect, it } from 'vitest';
import { doctorChecks, doctorOk, renderDoctor, type DoctorFacts } from '../../cli/doctor-checks';
import type { StatusRecord } from '../../lambdas/aws/state-store';
import type { ActualEntry, CredentialConfig } from '../../lambdas/core';

const config: CredentialConfig = {
  credential: 'prod',
  userId: 7,
  credentialPasswordIpId: 9,
  secretName: 'bunq-ip-reconciler/prod',
  mode: 'enforce',
  maxDeactivationsPerRun: 5,
  protectedIps: ['203.0.113.9'],
};
const entry = (id: number, ip: string, status: 'ACTIVE' | 'INACTIVE' = 'ACTIVE'): ActualEntry => ({ id, ip, status, created: null });
const lastRun = { credential: 'prod', lastRunAt: '2026-12-01T10:00:00Z', outcome: 'in-sync', error: null, drift: [], applied: [], blocked: [], failed: [] } as unknown as StatusRecord;

function healthy(): DoctorFacts {
  return {
    credential: 'prod',
    config: { ok: true, value: config },
    secret: { ok: true, value: { environment: 'SANDBOX', userId: 7, sessionExpiresAt: '2026-12-01T11:00:00Z' } },
    bunq: { ok: true, value: { entries: [entry(1, '203.0.113.9'), entry(2, '198.51.100.7')], sessionRenewed: false, sessionExpiresAt: '2026-12-01T11:00:00Z' } },
    callerIps: { ips: ['198.51.100.7'], detail: '--caller-ip' },
    ownership: { ok: true, value: { kind: 'ours' } },
    egressIps: { ips: ['203.0.113.9'], source: 'env' },
    desiredIps: ['198.51.100.7', '203.0.113.9'],
    lastRun: { ok: true, value: lastRun },
  };
}

const byId = (facts: DoctorFacts): Record<string, { status: string; summary: string; fix?: string }> =>
  Object.fromEntries(doctorChecks(facts).map((c) => [c.id, c]));

describe('doctorChecks', () => {
  it('a healthy chain: eight checks, all ok, in the order an operator reads them', () => {
    const checks = doctorChecks(healthy());
    expect(checks.map((c) => c.id)).toEqual(['config', 'secret', 'session', 'caller-ip', 'wildcard', 'ownership', 'egress-ip', 'last-run']);
    expect(checks.map((c) => c.status)).toEqual(Array(8).fill('ok'));
    expect(doctorOk(checks)).toBe(true);
    expect(renderDoctor('prod', checks)).toMatch(/No problems found\.$/);
  });

  it('`*` ACTIVE with the egress IP ACTIVE: a problem whose fix is the one sentence', () => {
    const f = healthy();
    f.bunq = { ok: true, value: { entries: [entry(1, '203.0.113.9'), entry(2, '198.51.100.7'), entry(3, '*')], sessionRenewed: false, sessionExpiresAt: null } };
    const c = byId(f);
    expect(c.wildcard).toMatchObject({ status: 'problem', fix: 'switch `*` off in the bunq app; the reconciler calls from 203.0.113.9, which is ACTIVE' });
    // Without a fixed egress it is the set-up: reported, not a problem.
    f.egressIps = { ips: [], source: 'none' };
    expect(byId(f).wildcard?.status).toBe('warn');
    expect(byId(f)['egress-ip']?.status).toBe('skipped');
    expect(doctorOk(doctorChecks(f))).toBe(true);
  });

  it('the deployed egress IP not ACTIVE, not protected or not desired is a problem naming each', () => {
    const f = healthy();
    f.config = { ok: true, value: { ...config, protectedIps: [] } };
    f.bunq = { ok: true, value: { entries: [entry(1, '203.0.113.9', 'INACTIVE'), entry(2, '198.51.100.7')], sessionRenewed: false, sessionExpiresAt: null } };
    f.desiredIps = ['198.51.100.7'];
    const c = byId(f)['egress-ip'];
    expect(c?.status).toBe('problem');
    expect(c?.summary).toBe('deployed egress IP: 203.0.113.9 not ACTIVE at bunq (the deployed worker is refused); 203.0.113.9 not in protectedIps; 203.0.113.9 not desired');
    expect(c?.fix).toContain('--protected-ip 203.0.113.9');
  });

  it('a broken secret skips what depends on it instead of guessing', () => {
    const f = healthy();
    f.secret = { ok: false, kind: 'secret-missing', message: 'secret bunq-ip-reconciler/prod does not exist' };
    delete f.bunq;
    delete f.ownership;
    const c = byId(f);
    expect(c.secret?.status).toBe('problem');
    expect(c.secret?.fix).toMatch(/bootstrap prod/);
    for (const id of ['session', 'caller-ip', 'wildcard', 'ownership', 'egress-ip']) expect(c[id]?.status, id).toBe('skipped');
    expect(c['last-run']?.status).toBe('ok');
  });

  it('bunq refusing the caller, a twin owner, an unknown caller and a failed last run', () => {
    const f = healthy();
    f.bunq = { ok: false, kind: 'credentials-rejected', message: 'User credentials are incorrect.' };
    f.ownership = { ok: true, value: { kind: 'claimed', owner: 'prod-old' } };
    f.lastRun = { ok: true, value: { ...lastRun, outcome: 'failed', error: { kind: 'credentials-rejected', message: 'refused' } } as StatusRecord };
    const c = byId(f);
    expect(c['caller-ip']).toMatchObject({ status: 'problem', summary: expect.stringMatching(/^bunq refused the call from 198\.51\.100\.7 \(--caller-ip\)/) });
    expect(c.ownership).toMatchObject({ status: 'problem', fix: expect.stringMatching(/bootstrap prod --force/) });
    expect(c['last-run']).toMatchObject({ status: 'problem', summary: expect.stringMatching(/FAILED, credentials-rejected: refused/) });
    const unreadable = healthy();
    unreadable.ownership = { ok: true, value: { kind: 'unreadable', why: 'no owner attribute' } };
    expect(byId(unreadable).ownership).toMatchObject({ status: 'problem', fix: expect.stringMatching(/bootstrap prod --force/) });
    const contested = healthy();
    contested.ownership = { ok: true, value: { kind: 'contested', rivals: ['prod-copy'] } };
    expect(byId(contested).ownership).toMatchObject({
      status: 'problem',
      summary: expect.stringMatching(/live config\(s\) "prod-copy" govern this bunq credential too/),
      fix: expect.stringMatching(/bootstrap prod --force/),
    });
    const unknown = healthy();
    unknown.callerIps = { ips: [], detail: 'checkip.amazonaws.com: timed out after 2000 ms' };
    expect(byId(unknown)['caller-ip']).toMatchObject({ status: 'warn', fix: expect.stringMatching(/--caller-ip/) });
    const lines = renderDoctor('prod', doctorChecks(f)).split('\n');
    expect(lines.filter((l) => /^ {2}(ok|warn|FAIL|skip) /.test(l))).toHaveLength(8);
    expect(lines.at(-1)).toBe('3 problems found.');
  });
});
