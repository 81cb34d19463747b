import { describe, expect, it } from 'vitest';
import { execute } from '../../lambdas/core/executor';
import { plan } from '../../lambdas/core/plan';
import { renderPlan, renderResult } from '../../lambdas/core/render';
import { ManualClock } from '../support/manual-clock';
import { config, desiredItem as d, entry, NOW, CALLER, CALLER_ENTRY, CALLERS } from './fixtures';
import { MemoryPort } from './memory-port';

describe('renderPlan', () => {
  it('prints Terraform-style symbols in execution order, guards, invalid entries and warnings', () => {
    const actual = [entry(1, '1.1.1.1'), entry(2, '2.2.2.2', 'INACTIVE'), entry(3, '*'), entry(4, '4.4.4.4'), entry(5, '5.5.5.5')];
    const p = plan([d('1.1.1.1'), d('2.2.2.2'), d('3.3.3.3'), d('6.6.6.6', NOW / 1000 - 1)], actual, config({ protectedIps: ['5.5.5.5'] }), NOW, CALLERS);
    expect(renderPlan(p)).toMatchInlineSnapshot(`
      "Credential "prod" (mode: enforce): HELD, 1 planned change held back by guards
      Desired: 3 IPs, 1 expired

      Changes, in order (make before break):
        + 3.3.3.3                  add as ACTIVE
        ~ 2.2.2.2         #2       re-activate (INACTIVE → ACTIVE)
          (verifying read: bunq still reachable, additions ACTIVE)
        - 4.4.4.4         #4       deactivate (not desired)

      Held back by guards:
        ! - *               #3       deactivate (not desired)  [wildcard-untouchable] an ACTIVE \`*\` entry lets every IP call with this key; only the bunq app can change it
        ! - 5.5.5.5         #5       deactivate (not desired)  [protected-ip] 5.5.5.5 is a protected IP (config.protectedIps) and is never deactivated

      Expired desired entries (no longer desired):
        ip#6.6.6.6: 6.6.6.6 expired 2025-12-31T23:59:59.000Z

      Warnings:
        ! [active-wildcard] entry 3 is an ACTIVE "*": any IP can call bunq with this key; only the bunq app can remove it

      Plan: 1 to add, 1 to re-activate, 1 to deactivate, 2 blocked."
    `);
  });

  it('says so when nothing differs', () => {
    expect(renderPlan(plan([d('1.1.1.1')], [entry(1, '1.1.1.1')], config(), NOW, CALLERS))).toContain('No changes. bunq matches the desired IPs.');
  });

  it('lists invalid entries and the freeze', () => {
    const text = renderPlan(plan([d('1.1.1.1'), d('1.1.1.01')], [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')], config(), NOW, CALLERS));
    expect(text).toContain('No changes will be applied.');
    expect(text).toContain('x ip#1.1.1.01: "1.1.1.01": octet 4 "01" has a leading zero');
    expect(text).toContain('[invalid-desired-freezes-deactivations]');
  });
});

describe('renderResult', () => {
  it('prints each operation outcome, call counts and the error', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), CALLER_ENTRY]);
    port.failNext({ method: 'put', kind: 'forbidden' });
    const before = await port.listEntries();
    const r = await execute(plan([d('3.3.3.3'), d(CALLER)], before, config(), NOW, [CALLER]), port, { clock: new ManualClock(NOW), before });
    const text = renderResult(r);
    expect(text).toContain('Run PARTIAL for "prod" in 0 ms');
    expect(text).toContain('bunq calls: 1 reads, 2 writes');
    expect(text).toMatch(/\+ 3\.3\.3\.3 .*: ok → #1000/);
    expect(text).toMatch(/- 1\.1\.1\.1 .*: FAILED — forbidden: scripted forbidden/);
    expect(text).toMatch(/- 2\.2\.2\.2 .*: not attempted — an earlier operation failed/);
    expect(text).toContain('Error: forbidden: scripted forbidden');
  });
});
