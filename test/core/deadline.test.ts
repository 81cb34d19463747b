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
  return execute(plan(desired, before, config(), clock.now(), CALLERS), port, { clock, before, deadline });
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
    expect(r.operations.map((o) => o.skipCode)).toEqual(['deadline', 'deadline']);
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

  it('a transient PUT failure before the deadline is reported as itself: the core waits for no retry', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const before = await port.listEntries();
    port.calls = [];
    port.failNext({ method: 'put', kind: 'rate-limited', retryable: true });
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock, before, deadline: NOW + 100 });
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE']);
    expect(clock.now()).toBe(NOW);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 1, entryId: 2, error: { kind: 'rate-limited' } });
    expect(r.outcome).toBe('failed');
  });

  it('a PUT the client stopped at the deadline is recorded as deadline, and nothing after it starts', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '3.3.3.3')]);
    const before = await port.listEntries();
    port.calls = [];
    port.failNext({ method: 'put', kind: 'deadline' });
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock, before, deadline: NOW + 250 });
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE']);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 1, error: { kind: 'deadline' } });
    expect(r.operations[1]!.outcome).toBe('not-attempted');
  });

  it('does not start the re-read after an unknown POST outcome past the deadline; the outcome stays named', async () => {
    const clock = new ManualClock(NOW);
    const port = new MemoryPort([entry(1, '1.1.1.1')]);
    port.failNext({ method: 'add', kind: 'outcome-unknown' });
    port.beforeAdd = () => clock.advance(100);
    const r = await runWithDeadline([d('1.1.1.1'), d('3.3.3.3')], port, clock, NOW + 100);
    expect(port.calls).toEqual(['add 3.3.3.3']);
    // Not `deadline` (= not applied): bunq may have applied the POST, so the kind stays
    // outcome-unknown and its metric and alarm see it (review finding, issue 13).
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 1, error: { kind: 'outcome-unknown' } });
    expect(r.error?.message).toMatch(/before re-reading to check POST 3\.3\.3\.3, so it was not settled/);
  });

  it('a PUT bunq may have applied, whose settling re-read the client stopped at the deadline, stays outcome-unknown', async () => {
    const clock = new ManualClock(NOW);
    const before = [entry(1, '1.1.1.1'), entry(2, '2.2.2.2')];
    const port = new MemoryPort(before);
    port.failNext({ method: 'put', kind: 'outcome-unknown' });
    // The verifying read succeeds; the next read (the one settling the PUT) meets the client's deadline.
    port.afterList = () => {
      port.afterList = undefined;
      port.failNext({ method: 'list', kind: 'deadline' });
    };
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock, before, deadline: NOW + 250 });
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE', 'list']);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', error: { kind: 'outcome-unknown' } });
    expect(r.operations[0]!.error?.message).toMatch(/re-reading to check PUT 2, so it was not settled/);
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

  it('a transient first-read failure before the deadline is not retried by the core', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]).failNext({ method: 'list', kind: 'maintenance', retryable: true });
    const clock = new ManualClock(NOW);
    const r = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1')], config: config(), port, clock, deadline: NOW + 100 });
    expect(port.calls).toEqual(['list']);
    expect(clock.now()).toBe(NOW);
    expect(r.error?.kind).toBe('maintenance');
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
