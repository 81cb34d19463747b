import { describe, expect, it } from 'vitest';
import { execute } from '../../lambdas/core/executor';
import { plan } from '../../lambdas/core/plan';
import { reconcile } from '../../lambdas/core/reconcile';
import { NO_ENTRY_ID, type ActualEntry, type CredentialConfig, type DesiredItem } from '../../lambdas/core/types';
import { ManualClock } from '../support/manual-clock';
import { config, desiredItem as d, entry, NOW, CALLER, CALLER_ENTRY, CALLERS } from './fixtures';
import { MemoryPort } from './memory-port';

async function run(desired: DesiredItem[], port: MemoryPort, cfg: CredentialConfig = config(), clock = new ManualClock(NOW), callers = CALLERS) {
  const before: ActualEntry[] = await port.listEntries();
  port.calls = [];
  const p = plan(desired, before, cfg, clock.now(), callers);
  // MemoryPort does not retry by itself (the bunq client does): the core's tries stand in for it.
  return execute(p, port, { clock, before });
}

describe('execute', () => {
  it('adds and re-activates, reads once to verify, then deactivates', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2', 'INACTIVE'), CALLER_ENTRY]);
    const r = await run([d('2.2.2.2'), d('3.3.3.3'), d(CALLER)], port, config(), new ManualClock(NOW), [CALLER]);
    expect(port.calls).toEqual(['add 3.3.3.3', 'put 2 ACTIVE', 'list', 'put 1 INACTIVE']);
    expect(r.outcome).toBe('converged');
    expect(r.operations.map((o) => o.outcome)).toEqual(['applied', 'applied', 'applied']);
    expect(r.operations[0]!.entryId).toBe(1000);
    expect(port.active()).toEqual(['2.2.2.2', '3.3.3.3', CALLER]);
    expect(r.after).not.toBeNull();
    expect({ reads: r.reads, writes: r.writes }).toEqual({ reads: 1, writes: 3 });
  });

  it('skips the verifying read when there is nothing to deactivate', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]);
    const r = await run([d('1.1.1.1'), d('3.3.3.3')], port);
    expect(port.calls).toEqual(['add 3.3.3.3']);
    expect(r.after).toBeNull();
    expect(r.reads).toBe(0);
  });

  it('still reads once before deactivating when there were no additions', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    await run([d('1.1.1.1')], port);
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE']);
  });

  it('reports in-sync and makes no call when nothing differs', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]);
    const r = await run([d('1.1.1.1')], port);
    expect(r.outcome).toBe('in-sync');
    expect(port.calls).toEqual([]);
  });

  it('after an add whose outcome is unknown but applied, re-reads and never posts again', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]).failNext({ method: 'add', kind: 'outcome-unknown', applyFirst: true });
    const r = await run([d('1.1.1.1'), d('3.3.3.3')], port);
    expect(port.calls).toEqual(['add 3.3.3.3', 'list']);
    expect(r.operations[0]).toMatchObject({ outcome: 'confirmed-after-reread', entryId: 1000 });
    expect(port.entries.filter((e) => e.ip === '3.3.3.3')).toHaveLength(1);
    expect(r.outcome).toBe('converged');
  });

  it('after an add whose outcome is unknown and not shown by the re-read, never posts again in the same run', async () => {
    // bunq may still be processing the first POST: a second one would add the IP twice.
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]).failNext({ method: 'add', kind: 'outcome-unknown' });
    const clock = new ManualClock(NOW);
    const r = await run([d('1.1.1.1'), d('3.3.3.3'), d('4.4.4.4')], port, config(), clock);
    expect(port.calls).toEqual(['add 3.3.3.3', 'list']);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 1, error: { kind: 'outcome-unknown' } });
    expect(r.operations[0]!.error!.message).toMatch(/not posted again in this run/);
    expect(r.operations.slice(1).map((o) => o.outcome)).toEqual(['not-attempted', 'not-attempted']);
    expect(r.error?.kind).toBe('outcome-unknown');
    expect(r.outcome).toBe('failed');
    expect(clock.now()).toBe(NOW); // no back-off either
  });

  it('an add that provably did not apply (rate-limited) is re-read once and not posted again by the core', async () => {
    // The bunq client is the one layer that retries a call (issue 13): the core only settles outcomes.
    const port = new MemoryPort([entry(1, '1.1.1.1')]).failNext({ method: 'add', kind: 'rate-limited', retryable: true });
    const clock = new ManualClock(NOW);
    const r = await run([d('1.1.1.1'), d('3.3.3.3')], port, config(), clock);
    expect(port.calls).toEqual(['add 3.3.3.3', 'list']);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 1, error: { kind: 'rate-limited' } });
    expect(clock.now()).toBe(NOW); // no back-off in the core
  });

  it('re-reads even after an add that failed with a server error, since bunq may have written it', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]).failNext({ method: 'add', kind: 'server-error', applyFirst: true, retryable: true });
    const r = await run([d('1.1.1.1'), d('3.3.3.3')], port);
    expect(port.calls).toEqual(['add 3.3.3.3', 'list']);
    expect(r.operations[0]!.outcome).toBe('confirmed-after-reread');
  });

  it('treats an add as done when the re-read shows the IP ACTIVE through someone else', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '3.3.3.3', 'INACTIVE')]);
    port.refuseReactivation = true;
    port.failNext({ method: 'add', kind: 'bad-request' });
    port.beforeAdd = (p) => {
      p.entries[1]!.status = 'ACTIVE'; // re-enabled in the bunq app meanwhile
    };
    const before = await port.listEntries();
    port.calls = [];
    const r = await execute(plan([d('1.1.1.1'), d('3.3.3.3')], before, config(), NOW, CALLERS), port, { clock: new ManualClock(NOW), before });
    expect(port.calls).toEqual(['put 2 ACTIVE', 'list', 'add 3.3.3.3', 'list']);
    expect(r.operations[0]).toMatchObject({ outcome: 'confirmed-after-reread', entryId: 2 });
    expect(port.entries.filter((e) => e.ip === '3.3.3.3')).toHaveLength(1);
  });

  it('reports a failed add whose outcome could not be checked, naming both failures', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')])
      .failNext({ method: 'add', kind: 'outcome-unknown' })
      .failNext({ method: 'list', kind: 'credentials-rejected' });
    const before = [entry(1, '1.1.1.1')];
    const r = await execute(plan([d('1.1.1.1'), d('3.3.3.3')], before, config(), NOW, CALLERS), port, { clock: new ManualClock(NOW), before });
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', error: { kind: 'outcome-unknown' } });
    expect(r.error?.message).toMatch(/re-reading to check the outcome failed too: credentials-rejected/);
    expect(r.outcome).toBe('failed');
  });

  it('reports a PUT with unknown outcome whose check failed', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const before = await port.listEntries();
    port.failNext({ method: 'put', kind: 'outcome-unknown' });
    port.afterList = (p) => {
      p.failNext({ method: 'list', kind: 'maintenance' });
      p.afterList = undefined;
    };
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock: new ManualClock(NOW), before });
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', error: { kind: 'outcome-unknown' } });
    expect(r.error?.message).toMatch(/failed too: maintenance/);
  });

  it('falls back to a new entry when bunq refuses a re-activation', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2', 'INACTIVE')]);
    port.refuseReactivation = true;
    const r = await run([d('1.1.1.1'), d('2.2.2.2')], port);
    // The re-read before the POST makes sure nobody re-activated the IP meanwhile.
    expect(port.calls).toEqual(['put 2 ACTIVE', 'list', 'add 2.2.2.2']);
    expect(r.operations[0]).toMatchObject({ outcome: 'applied-as-add', entryId: 1000, attempts: 2 });
    expect(port.active()).toEqual(['1.1.1.1', '2.2.2.2']);
    expect({ reads: r.reads, writes: r.writes }).toEqual({ reads: 1, writes: 2 });
  });

  it('does not post after a refused re-activation when the re-read shows the IP ACTIVE already', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2', 'INACTIVE')]);
    // bunq applied the change and still answered with a refusal (or the app re-enabled it meanwhile).
    port.failNext({ method: 'put', kind: 'bad-request', applyFirst: true });
    const r = await run([d('1.1.1.1'), d('2.2.2.2')], port);
    expect(port.calls).toEqual(['put 2 ACTIVE', 'list']);
    expect(r.operations[0]).toMatchObject({ outcome: 'confirmed-after-reread', entryId: 2 });
    expect(port.entries.filter((e) => e.ip === '2.2.2.2')).toHaveLength(1);
    expect(r.outcome).toBe('converged');
  });

  it('reports a refused re-activation whose re-read failed, and posts nothing', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2', 'INACTIVE')]);
    port.refuseReactivation = true;
    const before = await port.listEntries();
    port.calls = [];
    port.failNext({ method: 'list', kind: 'credentials-rejected' });
    const r = await execute(plan([d('1.1.1.1'), d('2.2.2.2')], before, config(), NOW, CALLERS), port, { clock: new ManualClock(NOW), before });
    expect(port.calls).toEqual(['put 2 ACTIVE', 'list']);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', error: { kind: 'bad-request' } });
    expect(r.error?.message).toMatch(/failed too: credentials-rejected/);
  });

  it('a re-activation bunq refuses for good (and a duplicate POST too) does not hold back other additions', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2', 'INACTIVE')]);
    port.refuseReactivation = true;
    // bunq also refuses a second entry for an IP it already lists: the fallback add fails as well.
    port.beforeAdd = (p) => {
      const last = p.calls.at(-1) ?? '';
      if (last === 'add 2.2.2.2') p.failNext({ method: 'add', kind: 'bad-request' });
    };
    const r = await run([d('1.1.1.1'), d('2.2.2.2'), d('9.9.9.9')], port);
    expect(r.operations.map((o) => [o.operation.kind, o.operation.ip, o.outcome])).toEqual([
      ['add', '9.9.9.9', 'applied'],
      ['reactivate', '2.2.2.2', 'failed'],
    ]);
    expect(port.active()).toEqual(['1.1.1.1', '9.9.9.9']);
    expect(r.outcome).toBe('partial');
  });

  it('stops at the first error it cannot retry and names what was applied, failed and not attempted', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    port.failNext({ method: 'add', kind: 'credentials-rejected' });
    const r = await run([d('3.3.3.3'), d('4.4.4.4'), d('1.1.1.1')], port);
    // first add fails terminally (after the re-read shows nothing), the rest are not attempted
    expect(port.calls).toEqual(['add 3.3.3.3', 'list']);
    expect(r.operations.map((o) => [o.operation.kind, o.outcome])).toEqual([
      ['add', 'failed'],
      ['add', 'not-attempted'],
      ['deactivate', 'not-attempted'],
    ]);
    expect(r.operations[1]!.skipReason).toMatch(/earlier operation failed/);
    expect(r.operations[1]!.skipCode).toBe('earlier-failure');
    expect(r.outcome).toBe('failed');
    expect(r.error).toEqual({ kind: 'credentials-rejected', message: 'scripted credentials-rejected' });
  });

  it('reports partial when something was applied before the failure', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), CALLER_ENTRY]);
    port.failNext({ method: 'put', kind: 'forbidden' });
    const r = await run([d('3.3.3.3'), d(CALLER)], port, config(), new ManualClock(NOW), [CALLER]);
    expect(r.operations.map((o) => o.outcome)).toEqual(['applied', 'failed', 'not-attempted']);
    expect(r.outcome).toBe('partial');
  });

  it('does not retry a transient deactivation failure in the core (the client already did)', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    port.failNext({ method: 'put', kind: 'rate-limited', retryable: true }).failNext({ method: 'put', kind: 'maintenance', retryable: true });
    const clock = new ManualClock(NOW);
    const r = await run([d('1.1.1.1')], port, config(), clock);
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE']);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 1, error: { kind: 'rate-limited' } });
    expect(clock.now()).toBe(NOW);
  });

  it('a server error on a PUT fails the operation after one attempt', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    port.failNext({ method: 'put', kind: 'server-error', retryable: true });
    const r = await run([d('1.1.1.1')], port);
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE']);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', attempts: 1 });
    expect(r.outcome).toBe('failed');
  });

  it('confirms a PUT with unknown outcome by re-reading', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]).failNext({ method: 'put', kind: 'outcome-unknown', applyFirst: true });
    const r = await run([d('1.1.1.1')], port);
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE', 'list']);
    expect(r.operations[0]!.outcome).toBe('confirmed-after-reread');
  });

  it('attempts no deactivation when the verifying read does not show an addition', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), CALLER_ENTRY]);
    port.loseNextAdd = true;
    const r = await run([d('3.3.3.3'), d(CALLER)], port, config(), new ManualClock(NOW), [CALLER]);
    expect(port.calls).toEqual(['add 3.3.3.3', 'list']);
    expect(r.operations.map((o) => o.outcome)).toEqual(['applied', 'not-attempted']);
    expect(r.operations[1]!.skipReason).toMatch(/did not show up/);
    expect(r.error?.kind).toBe('verification-failed');
    expect(r.outcome).toBe('partial');
    expect(port.active()).toEqual(['1.1.1.1', CALLER]);
  });

  it('attempts no deactivation when the verifying read fails', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const before = await port.listEntries();
    port.failNext({ method: 'list', kind: 'credentials-rejected' });
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock: new ManualClock(NOW), before });
    expect(r.operations[0]).toMatchObject({ outcome: 'not-attempted', skipReason: expect.stringMatching(/verifying read/) });
    expect(r.outcome).toBe('failed');
    expect(port.active()).toEqual(['1.1.1.1', '2.2.2.2']);
  });

  it('re-checks never-empty on the verifying read (someone switched off the kept IP meanwhile)', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const before = await port.listEntries();
    port.entries[0]!.status = 'INACTIVE'; // changed in the bunq app after our read
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock: new ManualClock(NOW), before });
    expect(r.operations[0]!.skipReason).toMatch(/never-empty/);
    expect(r.error?.kind).toBe('never-empty');
    expect(port.active()).toEqual(['2.2.2.2']);
  });

  it('keeps a duplicate when the entry we keep was switched off before the verifying read', async () => {
    const port = new MemoryPort([
      entry(1, '10.0.0.1'),
      entry(2, '10.0.0.1'),
      entry(3, '10.0.0.2'),
      CALLER_ENTRY,
    ]);
    port.beforeAdd = (p) => {
      p.entries.find((e) => e.id === 1)!.status = 'INACTIVE'; // someone in the app, mid-run
    };
    const r = await run([d('10.0.0.1'), d('10.0.0.2'), d('10.0.0.9'), d(CALLER)], port, config(), new ManualClock(NOW), [CALLER]);
    expect(port.calls).toEqual(['add 10.0.0.9', 'list']);
    expect(r.operations[1]).toMatchObject({
      operation: { kind: 'deactivate', entryId: 2, reason: 'duplicate' },
      outcome: 'not-attempted',
      skipReason: expect.stringMatching(/no other ACTIVE entry of this IP/),
    });
    expect(r.error).toBeUndefined();
    expect(port.active()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.9', CALLER]);
  });

  it('keeps every duplicate of an IP whose kept entry is gone, and still deactivates the others', async () => {
    const port = new MemoryPort([
      entry(1, '10.0.0.1'),
      entry(2, '10.0.0.1'),
      entry(3, '10.0.0.1'),
      entry(4, '10.0.0.2'),
      entry(5, '10.0.0.2'),
      entry(6, '10.0.0.3'),
      CALLER_ENTRY,
    ]);
    const before = await port.listEntries();
    port.entries.find((e) => e.id === 1)!.status = 'INACTIVE';
    port.calls = [];
    const p = plan([d('10.0.0.1'), d('10.0.0.2'), d(CALLER)], before, config(), NOW, [CALLER]);
    const r = await execute(p, port, { clock: new ManualClock(NOW), before });
    expect(port.calls).toEqual(['list', 'put 5 INACTIVE', 'put 6 INACTIVE']);
    expect(r.operations.map((o) => [o.operation.ip, 'entryId' in o.operation ? o.operation.entryId : 0, o.outcome])).toEqual([
      ['10.0.0.1', 2, 'not-attempted'],
      ['10.0.0.1', 3, 'not-attempted'],
      ['10.0.0.2', 5, 'applied'],
      ['10.0.0.3', 6, 'applied'],
    ]);
    expect(port.active()).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.2', CALLER]);
  });

  it('skips a deactivation whose entry is already INACTIVE or gone at the verifying read', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '3.3.3.3')]);
    const before = await port.listEntries();
    port.entries[1]!.status = 'INACTIVE';
    port.entries.splice(2, 1);
    port.calls = [];
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock: new ManualClock(NOW), before });
    expect(port.calls).toEqual(['list']);
    expect(r.operations.map((o) => o.skipReason)).toEqual(['the entry is already INACTIVE', 'the entry is no longer listed by bunq']);
    expect(r.operations.map((o) => o.skipCode)).toEqual(['already-inactive', 'entry-gone']);
    expect(r.outcome).toBe('converged');
  });

  it('never PUTs an id bunq did not give (a hand-made plan naming the no-id placeholder)', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), { ...entry(2, '2.2.2.2'), id: NO_ENTRY_ID }]);
    const before = await port.listEntries();
    port.calls = [];
    const p = { ...plan([d('1.1.1.1')], before, config(), NOW, CALLERS), operations: [{ kind: 'reactivate' as const, ip: '2.2.2.2', entryId: NO_ENTRY_ID }] };
    const r = await execute(p, port, { clock: new ManualClock(NOW), before });
    expect(port.calls).toEqual([]);
    expect(r.operations[0]).toMatchObject({ outcome: 'failed', error: { kind: 'unusable-entry-id' } });
  });

  it('does not count an ACTIVE entry it does not understand at the verifying read', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const before = await port.listEntries();
    port.entries[0]!.status = 'INACTIVE';
    port.entries.push({ ...entry(3, '3.3.3.3'), status: 'PENDING' }, { ...entry(4, '4.4.4.4'), id: NO_ENTRY_ID });
    port.calls = [];
    const r = await execute(plan([d('1.1.1.1')], before, config(), NOW, CALLERS), port, { clock: new ManualClock(NOW), before });
    expect(port.calls).toEqual(['list']);
    expect(r.error?.kind).toBe('never-empty');
  });

  it('applies nothing in observe mode', async () => {
    const port = new MemoryPort([entry(2, '2.2.2.2')]);
    const r = await run([d('1.1.1.1')], port, config({ mode: 'observe' }));
    expect(port.calls).toEqual([]);
    expect(r.outcome).toBe('observed');
    expect(r.plan.drift).toHaveLength(2);
  });

  it('counts calls from the port when it reports them (pages), else one per call', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    let reads = 0;
    let writes = 0;
    const counted = Object.assign(Object.create(port) as MemoryPort, {
      listEntries: async () => {
        reads += 3;
        return port.listEntries();
      },
      setStatus: async (id: number, s: 'ACTIVE' | 'INACTIVE') => {
        writes++;
        return port.setStatus(id, s);
      },
      callCounts: () => ({ reads, writes }),
    });
    const r = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1')], config: config(), port: counted, clock: new ManualClock(NOW) });
    expect({ reads: r.reads, writes: r.writes }).toEqual({ reads: 6, writes: 1 });
  });
});

describe('reconcile', () => {
  it('reads fresh, plans, executes, and reports timings on the injected clock', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]);
    const clock = new ManualClock(NOW);
    const r = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1'), d('3.3.3.3')], config: config(), port, clock });
    expect(port.calls).toEqual(['list', 'add 3.3.3.3', 'list', 'put 2 INACTIVE']);
    expect(r.outcome).toBe('converged');
    expect(r.before.map((e) => e.ip)).toEqual(['1.1.1.1', '2.2.2.2']);
    expect(r.startedAt).toBe(new Date(NOW).toISOString());
    expect(r.durationMs).toBe(0);
    expect({ reads: r.reads, writes: r.writes }).toEqual({ reads: 2, writes: 2 });
    const second = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1'), d('3.3.3.3')], config: config(), port, clock });
    expect(second.outcome).toBe('in-sync');
    expect(second.plan.operations).toEqual([]);
  });

  it('does not retry a transient first read (the client did), and fails cleanly with the desired side still reported', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1')]);
    port.failNext({ method: 'list', kind: 'maintenance', retryable: true });
    const clock = new ManualClock(NOW);
    const r = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1'), d('nope')], config: config(), port, clock });
    expect(port.calls).toEqual(['list']);
    expect(r.outcome).toBe('failed');
    expect(r.error?.kind).toBe('maintenance');
    expect(r.plan.desiredIps).toEqual(['1.1.1.1']);
    expect(r.plan.invalid).toHaveLength(1);
    expect(r.plan.warnings.map((w) => w.code)).toContain('read-failed');
    expect(r.durationMs).toBe(0); // no back-off in the core
    expect(r.reads).toBe(1);
  });

  it('does not retry a first read that failed terminally', async () => {
    const port = new MemoryPort([]).failNext({ method: 'list', kind: 'credentials-rejected' });
    const r = await reconcile({ callerIps: CALLERS, desired: [], config: config(), port, clock: new ManualClock(NOW) });
    expect(port.calls).toEqual(['list']);
    expect(r.outcome).toBe('failed');
  });

  it('turns a non-bunq failure into a log-safe error', async () => {
    const port = new MemoryPort([]);
    port.listEntries = async () => {
      throw new TypeError('boom');
    };
    const r = await reconcile({ callerIps: CALLERS, desired: [], config: config(), port, clock: new ManualClock(NOW) });
    expect(r.error).toEqual({ kind: 'unexpected', message: 'TypeError: boom' });
  });
});

describe('execute: lock-out and stale knowledge (issue 10)', () => {
  it('judges never-empty again before every deactivation, on the latest read plus its own writes', async () => {
    // 1.1.1.1 is kept; 2.2.2.2 and 3.3.3.3 go. The PUT of 2.2.2.2 has an unknown outcome; the
    // re-read that checks it also shows that someone switched 1.1.1.1 off meanwhile. The run calls
    // from 9.9.9.9, which is ACTIVE but not desired (kept by caller-ip, not counted by never-empty).
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '3.3.3.3'), CALLER_ENTRY]);
    port.failNext({ method: 'put', kind: 'outcome-unknown', applyFirst: true });
    port.beforePut = (p) => {
      p.entries[0]!.status = 'INACTIVE';
      p.beforePut = undefined;
    };
    const r = await run([d('1.1.1.1')], port);
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE', 'list']);
    expect(r.operations.map((o) => [o.operation.ip, o.outcome])).toEqual([
      ['2.2.2.2', 'confirmed-after-reread'],
      ['3.3.3.3', 'not-attempted'],
    ]);
    expect(r.error?.kind).toBe('never-empty');
    expect(port.active()).toEqual(['3.3.3.3', CALLER]);
  });

  it('a run covered only by an ACTIVE `*` deactivates nothing once the `*` is gone at the verifying read', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '*')]);
    const before = await port.listEntries();
    const p = plan([d('1.1.1.1')], before, config(), NOW); // no caller IPs: the `*` covers the plan
    expect(p.operations.map((o) => o.ip)).toEqual(['2.2.2.2']);
    port.entries[2]!.status = 'INACTIVE'; // switched off in the app
    port.calls = [];
    const r = await execute(p, port, { clock: new ManualClock(NOW), before });
    expect(port.calls).toEqual(['list']);
    expect(r.error).toEqual({ kind: 'caller-unknown', message: expect.stringContaining('cannot tell which IP this run calls bunq from') });
    expect(r.operations[0]).toMatchObject({ outcome: 'not-attempted', skipReason: expect.stringMatching(/cannot tell which IP/) });
  });

  it('an IP bunq refuses for good (400 on POST) fails on its own as ip-refused; the run goes on', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]).failNext({ method: 'add', kind: 'bad-request' });
    const r = await run([d('1.1.1.1'), d('0.0.0.0'), d('3.3.3.3')], port);
    expect(port.calls).toEqual(['add 0.0.0.0', 'list', 'add 3.3.3.3', 'list', 'put 2 INACTIVE']);
    expect(r.operations.map((o) => [o.operation.ip, o.outcome, o.error?.kind])).toEqual([
      ['0.0.0.0', 'failed', 'ip-refused'],
      ['3.3.3.3', 'applied', undefined],
      ['2.2.2.2', 'applied', undefined],
    ]);
    expect(r.operations[0]!.attempts).toBe(1);
    expect(r.error).toEqual({ kind: 'ip-refused', message: expect.stringMatching(/refused POST of 0\.0\.0\.0.*the run goes on/) });
    expect(r.outcome).toBe('partial');
  });

  it('ip-add-not-permitted (a standard key): later additions are not sent, PUTs still run', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2')]).failNext({ method: 'add', kind: 'ip-add-not-permitted' });
    const r = await run([d('1.1.1.1'), d('3.3.3.3'), d('4.4.4.4')], port);
    expect(port.calls).toEqual(['add 3.3.3.3', 'list', 'list', 'put 2 INACTIVE']);
    expect(r.operations.map((o) => [o.operation.ip, o.outcome, o.error?.kind])).toEqual([
      ['3.3.3.3', 'failed', 'ip-add-not-permitted'],
      ['4.4.4.4', 'failed', 'ip-add-not-permitted'],
      ['2.2.2.2', 'applied', undefined],
    ]);
    expect(r.operations[1]!.attempts).toBe(0);
    expect(r.error?.kind).toBe('ip-add-not-permitted');
    expect(r.outcome).toBe('partial');
  });

  it('a deactivation bunq refuses (400 on PUT) fails on its own; the run re-reads, then goes on', async () => {
    const port = new MemoryPort([entry(1, '1.1.1.1'), entry(2, '2.2.2.2'), entry(3, '3.3.3.3')]).failNext({ method: 'put', kind: 'bad-request' });
    const r = await run([d('1.1.1.1')], port);
    expect(port.calls).toEqual(['list', 'put 2 INACTIVE', 'list', 'put 3 INACTIVE']);
    expect(r.operations.map((o) => [o.operation.ip, o.outcome, o.error?.kind])).toEqual([
      ['2.2.2.2', 'failed', 'ip-refused'],
      ['3.3.3.3', 'applied', undefined],
    ]);
    expect(r.error?.kind).toBe('ip-refused');
  });

  it('never posts an IP again when bunq lists an entry of it that it cannot use', async () => {
    // The POST is rate-limited (not applied, normally retried), but the re-read shows an entry of
    // the IP without a usable id: another POST would only add one more.
    const port = new MemoryPort([entry(1, '1.1.1.1')]).failNext({ method: 'add', kind: 'rate-limited', retryable: true });
    port.beforeAdd = (p) => {
      p.entries.push({ id: NO_ENTRY_ID, ip: '3.3.3.3', status: 'ACTIVE', created: null });
      p.beforeAdd = undefined;
    };
    const r = await run([d('1.1.1.1'), d('3.3.3.3'), d('4.4.4.4')], port);
    expect(port.calls).toEqual(['add 3.3.3.3', 'list', 'add 4.4.4.4']);
    expect(r.operations.map((o) => [o.operation.ip, o.outcome, o.error?.kind])).toEqual([
      ['3.3.3.3', 'failed', 'unrecognised-entry'],
      ['4.4.4.4', 'applied', undefined],
    ]);
    // The next run plans no POST for it at all.
    const next = await reconcile({ callerIps: CALLERS, desired: [d('1.1.1.1'), d('3.3.3.3'), d('4.4.4.4')], config: config(), port, clock: new ManualClock(NOW) });
    expect(next.plan.operations).toEqual([]);
    expect(port.entries.filter((e) => e.ip === '3.3.3.3')).toHaveLength(1);
  });
});
