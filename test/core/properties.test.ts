/**
 * Property tests of the whole reconcile step against the bunq emulator over real HTTP: convergence,
 * minimality, safety under injected faults, recovery. PROPERTY_RUNS sets the cases per property
 * (default 1000); a failure prints fast-check's seed and path, replayable with PROPERTY_SEED.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../../lambdas/core/plan';
import { reconcile } from '../../lambdas/core/reconcile';
import type { ExecutionResult } from '../../lambdas/core/types';
import {
  arbFaults,
  arbScenario,
  arrange,
  CALLER_IPS,
  configOf,
  desiredItems,
  ipCalls,
  params,
  POOL,
  PROPERTY_TIMEOUT_MS,
  reactivationImpossible,
  RUNS,
  safetyViolations,
  snapshot,
  startHarness,
  type Harness,
  type Scenario,
} from './property-harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const timings: string[] = [];
afterAll(() => {
  // Measured numbers for the report; printed once per file.
  if (timings.length > 0) console.log(timings.join('\n'));
});

async function measure(name: string, body: () => Promise<void>): Promise<void> {
  const started = Date.now();
  await body();
  timings.push(`[property] ${name}: ${RUNS} cases in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function runOnce(s: Scenario, now: number, faults = false): Promise<ExecutionResult> {
  const port = faults ? h.faultyPort : h.port;
  return reconcile({ desired: desiredItems(s, now), config: configOf(s), port, clock: h.clock, callerIps: CALLER_IPS });
}

/**
 * A reactivation bunq will not allow in any way: the result must say so instead of pretending. Each
 * such IP fails on its own (ip-refused, terminal) and the run goes on with the rest, where
 * never-empty may then stop it (the refused IP is not ACTIVE).
 */
function expectNamedReactivationFailure(r: ExecutionResult): void {
  expect(r.outcome === 'failed' || r.outcome === 'partial').toBe(true);
  const failed = r.operations.filter((o) => o.outcome === 'failed');
  expect(failed.length).toBeGreaterThanOrEqual(1);
  for (const f of failed) expect([f.operation.kind, f.error?.kind]).toEqual(['reactivate', 'ip-refused']);
  expect(['ip-refused', 'never-empty']).toContain(r.error?.kind);
}

const stuck = (s: Scenario, r: ExecutionResult): boolean =>
  reactivationImpossible(s) && r.plan.operations.some((o) => o.kind === 'reactivate');

describe('reconcile against the bunq emulator (examples)', () => {
  it('reads count every page of a long list (200 per page), and the verifying read pages too', async () => {
    const filler = Array.from({ length: 448 }, (_, i) => ({ ip: `10.1.${i >> 8}.${i & 255}`, status: 'INACTIVE' as const }));
    const s: Scenario = {
      entries: [...filler, { ip: '10.0.0.1', status: 'ACTIVE' }, { ip: '10.0.0.2', status: 'ACTIVE' }],
      desired: [{ kind: 'valid', ip: '10.0.0.1', padded: false, expiry: 'none' }],
      mode: 'enforce',
      maxDeactivationsPerRun: 5,
      protectedIps: [],
      profiles: [],
    };
    arrange(h, s);
    const r = await runOnce(s, h.clock.now());
    expect(r.outcome).toBe('converged');
    expect(r.operations.map((o) => [o.operation.kind, o.operation.ip, o.outcome])).toEqual([['deactivate', '10.0.0.2', 'applied']]);
    // 450 entries = 3 pages, read twice (fresh read + verifying read); one PUT.
    expect(ipCalls(h)).toEqual({ reads: 6, writes: 1 });
    // ...and the result reports the same figures, counted by the port page by page.
    expect({ reads: r.reads, writes: r.writes }).toEqual({ reads: 6, writes: 1 });
  });
});

describe('reconcile against the bunq emulator (properties)', () => {
  // Two properties share each generated case (same HTTP calls, checked twice over): this halves the
  // bunq calls the suite makes while every property still sees RUNS cases.
  it(
    'without faults — convergence: one run makes ACTIVE equal the valid desired set minus what guards name, a second plans nothing; minimality: writes = differences, reads = pages (+1 verifying read when deactivating)',
    async () => {
      await measure('convergence + minimality (no faults)', () =>
        fc.assert(
          fc.asyncProperty(arbScenario, async (s) => {
            arrange(h, s);
            const now = h.clock.now();
            const before = snapshot(h);
            const r1 = await runOnce(s, now);
            const after = snapshot(h);
            const calls = ipCalls(h);
            expect(safetyViolations(before, after, s)).toEqual([]);
            if (stuck(s, r1)) {
              expectNamedReactivationFailure(r1);
              return;
            }
            expect(r1.error).toBeUndefined();

            // Minimality. Every difference is planned exactly once, as an operation or held back. An
            // ACTIVE `*` is held back visibly but is not drift (only the bunq app can change it).
            const heldBackDrift = r1.plan.blocked.filter((b) => b.guard !== 'wildcard-untouchable').length;
            expect(r1.plan.operations.length + heldBackDrift).toBe(r1.plan.drift.length);
            // A refused re-activation costs its PUT plus the POST that replaces it.
            const refused = r1.operations.filter((o) => o.outcome === 'applied-as-add').length;
            expect(calls.writes).toBe(r1.plan.operations.length + refused);
            const deactivating = r1.plan.operations.some((o) => o.kind === 'deactivate');
            const pages = 1; // at most 12 + 6 entries: one page of 200 (the example above pages)
            // ...and its re-read first (someone may have re-activated the IP meanwhile).
            expect(calls.reads).toBe(pages * ((deactivating ? 2 : 1) + refused));
            expect({ reads: r1.reads, writes: r1.writes }).toEqual(calls);

            // Convergence.
            if (s.mode === 'observe') {
              expect(r1.outcome).toBe('observed');
              expect(after).toEqual(before);
            } else {
              const desired = new Set(r1.plan.desiredIps);
              for (const ip of POOL) {
                const active = after.filter((e) => e.ip === ip && e.status === 'ACTIVE').length;
                const heldBack = r1.plan.blocked.filter((b) => b.operation.kind === 'deactivate' && b.operation.ip === ip).length;
                // Desired: exactly one ACTIVE entry, plus any duplicate a guard named. Not desired:
                // only the entries a guard named stay ACTIVE.
                expect({ ip, active }).toEqual({ ip, active: (desired.has(ip) ? 1 : 0) + heldBack });
              }
              for (const e of after.filter((x) => x.status === 'ACTIVE' && !desired.has(x.ip))) {
                expect(r1.plan.blocked.some((b) => 'entryId' in b.operation && b.operation.entryId === e.id)).toBe(true);
              }
            }

            h.emu.clearRequestLog();
            const r2 = await runOnce(s, now);
            expect(r2.plan.operations).toEqual([]);
            expect(ipCalls(h)).toEqual({ reads: pages, writes: 0 });
            expect(snapshot(h)).toEqual(after);
            const held = r2.plan.blocked.some((b) => b.guard !== 'wildcard-untouchable');
            expect(r2.outcome).toBe(s.mode === 'observe' ? 'observed' : held ? 'held' : r2.plan.blocked.length > 0 ? 'converged' : 'in-sync');
          }),
          params(),
        ),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'with random faults — safety: never empty, protected IPs kept, `*` untouched, no second entry, deactivations within the limit; recovery: once faults stop, at most two runs converge',
    async () => {
      await measure('safety under faults + recovery', () =>
        fc.assert(
          fc.asyncProperty(arbScenario, arbFaults, async (s, faults) => {
            arrange(h, s);
            for (const f of faults) h.emu.faults.add(f);
            const now = h.clock.now();

            // Safety: two runs while the faults last.
            for (let run = 1; run <= 2; run++) {
              const before = snapshot(h);
              const r = await runOnce(s, now, true);
              const after = snapshot(h);
              expect({ run, violations: safetyViolations(before, after, s) }).toEqual({ run, violations: [] });
              // The result tells the truth about what it did.
              for (const o of r.operations) {
                const op = o.operation;
                if (o.outcome === 'applied' || o.outcome === 'applied-as-add' || o.outcome === 'confirmed-after-reread') {
                  if (op.kind === 'deactivate') expect(after.find((e) => e.id === op.entryId)?.status).toBe('INACTIVE');
                  else expect(after.some((e) => e.ip === op.ip && e.status === 'ACTIVE')).toBe(true);
                }
                if (o.outcome === 'not-attempted' && op.kind === 'deactivate') {
                  expect(after.find((e) => e.id === op.entryId)?.status).toBe(before.find((e) => e.id === op.entryId)?.status);
                }
              }
              if (r.error === undefined) expect(r.operations.every((o) => o.outcome !== 'failed')).toBe(true);
            }

            // Recovery: faults stop; at most two runs (still safe) reach a state that plans nothing.
            h.emu.faults.clear();
            let last: ExecutionResult | undefined;
            for (let run = 1; run <= 2; run++) {
              const before = snapshot(h);
              last = await runOnce(s, now);
              expect(safetyViolations(before, snapshot(h), s)).toEqual([]);
              if (last.plan.operations.length === 0 && last.error === undefined) break;
            }
            if (last !== undefined && stuck(s, last)) {
              expectNamedReactivationFailure(last);
              return;
            }
            expect(last?.error).toBeUndefined();
            expect(plan(desiredItems(s, now), snapshot(h), configOf(s), now, CALLER_IPS).operations).toEqual([]);
          }),
          params(),
        ),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
