/**
 * The run deadline (ExecuteOptions.deadline / reconcile({ deadline })): nothing new starts at or
 * after it — no operation, retry, back-off, re-read or verifying read — and the result says so.
 * Time passes only on a ManualClock, moved by the port's hooks as a slow bunq would move it.
 */
import { describe, expect, it } from 'vitest';
import { execute } from '../../lambdas/core/executor';
import { plan } from '../../lambdas/core/plan';
import { reconcile } from '../../lambdas/core/reconcile';
import type { ActualEntry, DesiredItem } from '../../lambdas/core/types';
import { ManualClock } from '../support/manual-clock';
import { config, desiredItem as d, entry, NOW, CALLERS } from './fixtures';
import { MemoryPort } from './memory-port';

async function runWithDeadline(desired: DesiredItem[], port: MemoryPort, clock: ManualClock, deadline: number) {
  const before: ActualEntry[] = await port.listEntries();
  port.calls = [];
  return execute(plan(desired, before, config(), clock.now(), CALLERS), port, { clock, before, maxAttempts: 3, retryDelayMs: 100, deadline });
}

describe('execute with a deadline', () => {
  it('runs everything when the deadline is not reached', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const r = await runWithDeadline([d('1.1.1.1'), d('3.3.3.3')], port, clock, NOW + 1);
    expect(port.calls).toEqual(['add 3.3.3.3', 'list', 'put 2 INACTIVE']);
    expect(r.outcome).toBe('converged');
  });

  it('starts no operation at the deadline: everything not-attempted, outcome failed', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const r = await runWithDeadline([d('1.1.1.1'), d('3.3.3.3')], port, clock, NOW);
    expect(port.calls).toEqual([]);
    expect(r.operations.map((o) => o.outcome)).toEqual(['not-attempted', 'not-attempted']);
    expect(r.operations.every((o) => /run deadline .* reached before add 3\.3\.3\.3/.test(o.skipReason ?? ''))).toBe(true);
    expect(r.error).toEqual({ kind: 'deadline', message: expect.stringMatching(/^run deadline 2026-01-01T00:00:00.000Z reached before add 3\.3\.3\.3$/) });
    expect(r.outcome).toBe('failed');
  });

  it('stops between operations once the deadline has passed: partial, the rest not attempted', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    port.beforeAdd = () => clock.advance(60); // bunq is slow
    const r = await runWithDeadline([d('1.1.1.1'), d('3.3.3.3'), d('4.4.4.4')], port, clock, NOW + 50);
    expect(port.calls).toEqual(['add 3.3.3.3']);
    expect(r.operations.map((o) => [o.operation.kind, o.operation.ip, o.outcome])).toEqual([
      ['add', '3.3.3.3', 'applied'],
      ['add', '4.4.4.4', 'not-attempted'],
      ['deactivate', '2.2.2.2', 'not-attempted'],
    ]);
    expect(r.operations[1]!.skipReason).toMatch(/reached before add 4\.4\.4\.4/);
    expect(r.operations[2]!.skipReason).toMatch(/reached before add 4\.4\.4\.4/);
    expect(r.error?.kind).toBe('deadline');
    expect(r.outcome).toBe('partial');
  });

  it('does not start the verifying read after the deadline, so no deactivation runs', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    port.beforeAdd = () => clock.advance(60);
    const r = await runWithDeadline([d('1.1.1.1'), d('3.3.3.3')], port, clock, NOW + 60);
    expect(port.calls).toEqual(['add 3.3.3.3']);
    expect(r.operations[1]).toMatchObject({ outcome: 'not-attempted', skipReason: expect.stringMatching(/before the verifying read/) });
    expect(r.error?.kind).toBe('deadline');
    expect(r.after).toBeNull();
    expect(r.outcome).toBe('partial');
    expect(port.active()).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3']);
  });

  it('does not start a back-off that would end at or after the deadline, and names the last error', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const before = await port.listEntries();
    port.calls = [];
    port.failNext({ method: 'put', kind: 'rate-limited', retryable: true });
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock, before, maxAttempts: 3, retryDelayMs: 100, deadline: NOW + 100 });
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE']);
    expect(clock.now()).toBe(NOW); // the 100 ms wait was never started
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 1, entryId: 2, error: { kind: 'deadline' } });
    expect(r.error?.message).toMatch(/before waiting 100 ms to retry PUT 2 INACTIVE; last error: rate-limited: scripted rate-limited/);
    expect(r.outcome).toBe('failed');
  });

  it('retries within the deadline, and stops at the retry it no longer has time for', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const before = await port.listEntries();
    port.calls = [];
    for (let i = 0; i < 3; i++) port.failNext({ method: 'put', kind: 'server-error', retryable: true });
    // 100 ms back-off fits (ends at +100 < +250); the next, 200 ms, would end at +300.
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock, before, maxAttempts: 3, retryDelayMs: 100, deadline: NOW + 250 });
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE', 'put 2 INACTIVE']);
    expect(clock.now()).toBe(NOW + 100);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 2, error: { kind: 'deadline' } });
  });

  it('does not start the re-read after an unknown POST outcome past the deadline; the outcome stays named', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1')]);
    port.failNext({ method: 'add', kind: 'outcome-unknown' });
    port.beforeAdd = () => clock.advance(100);
    const r = await runWithDeadline([d('1.1.1.1'), d('3.3.3.3')], port, clock, NOW + 100);
    expect(port.calls).toEqual(['add 3.3.3.3']);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 1, error: { kind: 'deadline' } });
    expect(r.error?.message).toMatch(/before re-reading to check POST 3\.3\.3\.3; last error: outcome-unknown/);
  });

  it('does not start the re-read before a re-activation fallback POST past the deadline', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2', 'INACTIVE')]);
    port.refuseReactivation = true;
    port.beforePut = () => clock.advance(100);
    const r = await runWithDeadline([d('1.1.1.1'), d('2.2.2.2')], port, clock, NOW + 100);
    expect(port.calls).toEqual(['put 2 ACTIVE']);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', error: { kind: 'deadline' } });
    expect(r.error?.message).toMatch(/before re-reading before re-adding 2\.2\.2\.2/);
  });

  it('stops between deactivations at the deadline', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '3.3.3.3')]);
    port.beforePut = () => clock.advance(100);
    const r = await runWithDeadline([d('1.1.1.1')], port, clock, NOW + 100);
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE']);
    expect(r.operations.map((o) => o.outcome)).toEqual(['applied', 'not-attempted']);
    expect(r.operations[1]!.skipReason).toMatch(/reached before deactivate 3\.3\.3\.3 \(entry 3\)/);
    expect(r.outcome).toBe('partial');
    expect(port.active()).toEqual(['1.1.1.1', '3.3.3.3']);
  });
});

describe('reconcile with a deadline', () => {
  it('does not start the first read at the deadline', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]);
    const r = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1')], config: config(), port, clock: new ManualClock(NOW), deadline: NOW });
    expect(port.calls).toEqual([]);
    expect(r.outcome).toBe('failed');
    expect(r.error).toEqual({ kind: 'deadline', message: expect.stringMatching(/reached before the first read$/) });
    expect(r.plan.warnings.map((w) => w.code)).toContain('read-failed');
  });

  it('does not wait to retry the first read past the deadline', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]).failNext({ method: 'list', kind: 'maintenance', retryable: true });
    const clock = new ManualClock(NOW);
    const r = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1')], config: config(), port, clock, maxAttempts: 3, retryDelayMs: 100, deadline: NOW + 100 });
    expect(port.calls).toEqual(['list']);
    expect(clock.now()).toBe(NOW);
    expect(r.error?.kind).toBe('deadline');
    expect(r.error?.message).toMatch(/last error: maintenance/);
  });

  it('passes the deadline on to the executor', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const clock = new ManualClock(NOW);
    port.afterList = () => clock.advance(10);
    const r = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1'), d('3.3.3.3')], config: config(), port, clock, deadline: NOW + 10 });
    expect(port.calls).toEqual(['list']);
    expect(r.operations.map((o) => o.outcome)).toEqual(['not-attempted', 'not-attempted']);
    expect(r.error?.kind).toBe('deadline');
    expect(r.reads).toBe(1);
  });
});
