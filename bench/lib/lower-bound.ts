/**
 * The minimum a reconcile run can cost, in calls and in time, derived from bunq's pagination and
 * from the client's rate-limit table (lambdas/bunq/rate-limiter.ts). Pure, so the formulas the
 * report compares against are tested on their own.
 */
import { CLASSIC_RATE_LIMITS, RateLimiter, type RateLimitRule } from '../../lambdas/bunq/rate-limiter';
import type { HttpMethod } from '../../lambdas/bunq/transport';

/** bunq's largest page (count=200), which the client always asks for. */
export const BUNQ_PAGE_SIZE = 200;

/** GETs needed to list `entries` entries: one page even when the list is empty. */
export function pagesFor(entries: number, pageSize = BUNQ_PAGE_SIZE): number {
  if (!Number.isInteger(entries) || entries < 0) throw new Error(`entries must be a whole number >= 0, got ${entries}`);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`pageSize must be a whole number >= 1, got ${pageSize}`);
  return Math.max(1, Math.ceil(entries / pageSize));
}

export interface RunShape {
  /** Entries bunq holds when the run starts (every page is read). */
  entriesBefore: number;
  /** POSTs (new entries) the run must make. */
  adds: number;
  /** PUT ACTIVE on existing entries. */
  reactivations: number;
  /** PUT INACTIVE. */
  deactivations: number;
}

export interface MinimumCalls {
  /** The minimum: one read of every page, one write per difference. */
  reads: number;
  writes: number;
  /**
   * The design's minimum: as above, plus the verifying read of every page that make-before-break
   * requires before any deactivation (design.md, "The reconcile step" 4).
   */
  readsWithVerify: number;
}

export function minimumCalls(shape: RunShape): MinimumCalls {
  for (const [k, v] of Object.entries(shape)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${k} must be a whole number >= 0, got ${String(v)}`);
  }
  const reads = pagesFor(shape.entriesBefore);
  const writes = shape.adds + shape.reactivations + shape.deactivations;
  const verify = shape.deactivations > 0 ? pagesFor(shape.entriesBefore + shape.adds) : 0;
  return { reads, writes, readsWithVerify: reads + verify };
}

export interface Call {
  method: HttpMethod;
  /** Route pattern (the limiter's bucket); every whitelist call shares one. */
  route: string;
}

/** The route pattern of the whitelist calls (ids replaced), as the client's limiter keys it. */
export const IP_LIST_ROUTE = '/v1/user/{id}/credential-password-ip/{id}/ip';
export const IP_ITEM_ROUTE = '/v1/user/{id}/credential-password-ip/{id}/ip/{id}';

/** The calls of a run in the order the executor makes them: read, adds, re-activations, verify, deactivations. */
export function runCalls(shape: RunShape): Call[] {
  const calls: Call[] = [];
  const repeat = (n: number, call: Call): void => {
    for (let i = 0; i < n; i++) calls.push(call);
  };
  const min = minimumCalls(shape);
  repeat(min.reads, { method: 'GET', route: IP_LIST_ROUTE });
  repeat(shape.adds, { method: 'POST', route: IP_LIST_ROUTE });
  repeat(shape.reactivations, { method: 'PUT', route: IP_ITEM_ROUTE });
  repeat(min.readsWithVerify - min.reads, { method: 'GET', route: IP_LIST_ROUTE });
  repeat(shape.deactivations, { method: 'PUT', route: IP_ITEM_ROUTE });
  return calls;
}

/**
 * The earliest time (ms after the first call) at which the last of `calls` can start, if every
 * call took no time and each method+route bucket allows `limit` calls within any `windowMs`
 * (rolling window, bunq-api.md §7.1). Calls are made one after another, in order. No real run can
 * finish sooner; for a single bucket of n calls this is floor((n − 1) / limit) × windowMs.
 */
export function rateLimitLowerBoundMs(calls: readonly Call[], rules: readonly RateLimitRule[] = CLASSIC_RATE_LIMITS): number {
  const table = new RateLimiter({ rules, marginMs: 0 });
  const starts = new Map<string, number[]>();
  let t = 0;
  for (const call of calls) {
    const rule = table.ruleFor(call.method, call.route);
    if (rule === undefined) continue;
    const key = `${call.method} ${rule.route ?? call.route}`;
    const taken = starts.get(key) ?? [];
    const blocking = taken.length >= rule.limit ? taken[taken.length - rule.limit] : undefined;
    if (blocking !== undefined) t = Math.max(t, blocking + rule.windowMs);
    taken.push(t);
    starts.set(key, taken);
  }
  return t;
}

/** Scales every window of a rate-limit table (the --quick mode's shorter windows). */
export function scaleRules<R extends { windowMs: number }>(rules: readonly R[], factor: number): R[] {
  if (!(factor > 0 && factor <= 1)) throw new Error(`scale factor must be in (0, 1], got ${factor}`);
  return rules.map((r) => ({ ...r, windowMs: Math.max(1, Math.round(r.windowMs * factor)) }));
}

export interface EntryLike {
  ip: string;
  status: 'ACTIVE' | 'INACTIVE';
}

/**
 * The differences between a desired set and bunq's entries, counted directly from the input (an
 * oracle independent of the planner): missing IPs need a POST, desired IPs with only INACTIVE
 * entries a PUT ACTIVE, undesired ACTIVE entries and extra ACTIVE duplicates a PUT INACTIVE.
 * `*` entries are never ours to change.
 */
export function differences(desired: readonly string[], entries: readonly EntryLike[], entriesBefore = entries.length): RunShape {
  const wanted = new Set(desired);
  const byIp = new Map<string, EntryLike[]>();
  for (const e of entries) {
    if (e.ip === '*') continue;
    byIp.set(e.ip, [...(byIp.get(e.ip) ?? []), e]);
  }
  let adds = 0;
  let reactivations = 0;
  let deactivations = 0;
  for (const ip of wanted) {
    const group = byIp.get(ip) ?? [];
    const active = group.filter((e) => e.status === 'ACTIVE').length;
    if (group.length === 0) adds++;
    else if (active === 0) reactivations++;
    else deactivations += active - 1;
  }
  for (const [ip, group] of byIp) {
    if (!wanted.has(ip)) deactivations += group.filter((e) => e.status === 'ACTIVE').length;
  }
  return { entriesBefore, adds, reactivations, deactivations };
}
