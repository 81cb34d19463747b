/**
 * Item 2 — time to converge K additions against the emulator enforcing bunq's classic rate limits
 * (real clock, real waits), versus the lower bound those limits impose. The client keeps under the
 * limits with its own limiter; any 429 the emulator sends is counted, and so is any error that
 * reaches the caller.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_RATE_LIMITS } from '../../emulator';
import { BunqClient, CLASSIC_RATE_LIMITS, RateLimiter, whitelistPort } from '../../lambdas/bunq';
import { DEFAULT_RATE_LIMIT_MARGIN_MS } from '../../lambdas/bunq/rate-limiter';
import { reconcile, type DesiredItem } from '../../lambdas/core';
import { systemClock } from '../../lambdas/shared/clock';
import { bunqWorld, OWN_IP, whitelistCalls } from '../lib/bunq-world';
import { differences, rateLimitLowerBoundMs, runCalls, scaleRules } from '../lib/lower-bound';
import { round } from '../lib/stats';
import { fmt, formatTable } from '../lib/table';
import { ipAt } from './ip';

export const CONVERGE_KS = [1, 10, 50] as const;
/** --quick: every window (and the limiter's safety margin) at a tenth. */
export const QUICK_WINDOW_SCALE = 0.1;

export interface ConvergeRow {
  k: number;
  windowScale: number;
  measuredMs: number;
  lowerBoundMs: number;
  /** The same bound with the client limiter's safety margin added to every window it waits out. */
  limiterBoundMs: number;
  /** measured / bound; null when the bound is 0 (a single window holds every call). */
  ratio: number | null;
  withinTenPercent: boolean | null;
  limiterWaits: number;
  rateLimitedReplies: number;
  errorsToCaller: number;
  outcome: string;
  reads: number;
  writes: number;
}

export async function runConverge(quick: boolean): Promise<ConvergeRow[]> {
  const scale = quick ? QUICK_WINDOW_SCALE : 1;
  const clientRules = scaleRules(CLASSIC_RATE_LIMITS, scale);
  const emulatorRules = scaleRules(DEFAULT_RATE_LIMITS, scale);
  const marginMs = DEFAULT_RATE_LIMIT_MARGIN_MS * scale;
  const rows: ConvergeRow[] = [];
  for (const k of CONVERGE_KS) {
    const world = await bunqWorld({ clock: systemClock, rateLimits: emulatorRules, seed: 11 });
    try {
      const limiter = new RateLimiter({ rules: clientRules, marginMs, clock: systemClock });
      const client = new BunqClient({ context: world.context, clock: systemClock, limiter });
      const wanted = [OWN_IP, ...Array.from({ length: k }, (_, i) => ipAt(500 + i))];
      const before = world.emulator.listIpEntries(world.credentialId).map((e) => ({ ip: e.ip, status: e.status }));
      const desired: DesiredItem[] = wanted.map((ip) => ({ entry: `ip#${ip}`, ip }));
      world.emulator.clearRequestLog();
      const started = performance.now();
      const result = await reconcile({
        desired,
        config: {
          credential: 'bench', userId: world.userId, credentialPasswordIpId: world.credentialId,
          secretName: 'bunq-ip-reconciler/bench', mode: 'enforce', maxDeactivationsPerRun: 5, protectedIps: [OWN_IP],
        },
        port: whitelistPort(client, world.credentialId),
        clock: systemClock,
        callerIps: [OWN_IP],
      });
      const measuredMs = performance.now() - started;
      const calls = runCalls(differences(wanted, before));
      const bound = rateLimitLowerBoundMs(calls, clientRules);
      const limiterBound = rateLimitLowerBoundMs(calls, clientRules.map((r) => ({ ...r, windowMs: r.windowMs + marginMs })));
      const counted = whitelistCalls(world.emulator);
      const ratio = bound > 0 ? round(measuredMs / bound, 3) : null;
      rows.push({
        k,
        windowScale: scale,
        measuredMs: round(measuredMs, 1),
        lowerBoundMs: bound,
        limiterBoundMs: limiterBound,
        ratio,
        withinTenPercent: ratio === null ? null : ratio <= 1.1,
        limiterWaits: client.stats.rateLimitWaits,
        rateLimitedReplies: counted.rateLimited,
        errorsToCaller: (result.error ? 1 : 0) + result.operations.filter((o) => o.outcome === 'failed').length,
        outcome: result.outcome,
        reads: counted.reads,
        writes: counted.writes,
      });
    } finally {
      await world.close();
    }
  }
  return rows;
}

export function formatConverge(rows: readonly ConvergeRow[]): string[] {
  return formatTable(
    [
      { header: 'K adds' },
      { header: 'measured (ms)' },
      { header: 'lower bound (ms)' },
      { header: 'ratio' },
      { header: '≤ 1.10' },
      { header: 'bound + limiter margin (ms)' },
      { header: 'limiter waits' },
      { header: '429 from bunq' },
      { header: 'errors to caller' },
      { header: 'outcome' },
    ],
    rows.map((r) => [
      r.k,
      fmt(r.measuredMs, 0),
      fmt(r.lowerBoundMs, 0),
      r.ratio === null ? 'n/a (bound 0)' : fmt(r.ratio, 3),
      r.withinTenPercent === null ? '–' : r.withinTenPercent ? 'yes' : 'NO',
      fmt(r.limiterBoundMs, 0),
      r.limiterWaits,
      r.rateLimitedReplies,
      r.errorsToCaller,
      r.outcome,
    ]),
  );
}
