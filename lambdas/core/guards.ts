/**
 * Guards: each a small pure rule that may hold planned operations back, with a reason an operator
 * can read. Modelled on cdk-nag rules: one id, one description, one check, tested on its own.
 * A guard never adds work; the pipeline only ever removes operations.
 */
import { WILDCARD, activeConcreteIps, isUsableEntryId, wildcardCovers } from './actual';
import type { ActualEntry, BlockedOperation, CredentialConfig, GuardId, Operation } from './types';

export interface GuardContext {
  config: CredentialConfig;
  /** Number of desired items rejected by validation. */
  invalidDesiredCount: number;
  /** The entries the plan was made from. */
  actual: readonly ActualEntry[];
  /**
   * The canonical IPv4 addresses this run calls bunq from. Empty means the run cannot tell (no
   * caller IPs given, or one of them was not canonical IPv4).
   */
  callerIps: readonly string[];
  /** The valid, unexpired desired IPs: what never-empty counts. */
  desiredIps: readonly string[];
  /**
   * Other reconciler IPs kept like caller IPs (a CLI-local run: the worker's recorded IPs), but no
   * evidence of who this run is: an ACTIVE worker IP must not make a wrong CLI claim look right.
   */
  keptIps?: readonly string[];
}

export interface Guard {
  id: GuardId;
  description: string;
  /** The operations (of those still allowed) this guard holds back. */
  check(operations: readonly Operation[], ctx: GuardContext): BlockedOperation[];
}

function block(guard: GuardId, operations: readonly Operation[], reason: (op: Operation) => string): BlockedOperation[] {
  return operations.map((operation) => ({ operation, guard, reason: reason(operation) }));
}

const deactivations = (ops: readonly Operation[]): Operation[] => ops.filter((o) => o.kind === 'deactivate');

export const wildcardUntouchable: Guard = {
  id: 'wildcard-untouchable',
  description: '`*` entries can only be managed in the bunq app and are never changed by the reconciler',
  check(ops, ctx) {
    const wildcardIds = new Set(ctx.actual.filter((e) => e.ip === WILDCARD).map((e) => e.id));
    const hits = ops.filter((o) => o.ip === WILDCARD || ('entryId' in o && wildcardIds.has(o.entryId)));
    return block(this.id, hits, (o) =>
      o.kind === 'deactivate'
        ? 'an ACTIVE `*` entry lets every IP call with this key; only the bunq app can change it'
        : '`*` entries are never changed by the reconciler',
    );
  },
};

export const modeObserve: Guard = {
  id: 'mode-observe',
  description: 'observe mode reports drift and applies nothing',
  check(ops, ctx) {
    if (ctx.config.mode !== 'observe') return [];
    return block(this.id, ops, () => 'credential is in observe mode: drift is reported, nothing is changed');
  },
};

export const modeAdditive: Guard = {
  id: 'mode-additive',
  description: 'additive mode adds and re-activates but never deactivates',
  check(ops, ctx) {
    if (ctx.config.mode !== 'additive') return [];
    return block(this.id, deactivations(ops), () => 'credential is in additive mode: no deactivations');
  },
};

export const invalidDesiredFreezesDeactivations: Guard = {
  id: 'invalid-desired-freezes-deactivations',
  description: 'any invalid desired entry freezes every deactivation for the credential',
  check(ops, ctx) {
    if (ctx.invalidDesiredCount === 0) return [];
    const n = ctx.invalidDesiredCount;
    return block(
      this.id,
      deactivations(ops),
      () => `${n} invalid desired entr${n === 1 ? 'y' : 'ies'}: a typo must not cut off a live server; fix ${n === 1 ? 'it' : 'them'} first`,
    );
  },
};

export const protectedIp: Guard = {
  id: 'protected-ip',
  description: 'entries of a protected IP are never deactivated',
  check(ops, ctx) {
    const protectedSet = new Set(ctx.config.protectedIps);
    return block(
      this.id,
      deactivations(ops).filter((o) => protectedSet.has(o.ip)),
      (o) => `${o.ip} is a protected IP (config.protectedIps) and is never deactivated`,
    );
  },
};

/** The reason every deactivation is held when a run does not know its own IP. Part of the contract. */
export const CALLER_UNKNOWN_REASON = 'cannot tell which IP this run calls bunq from';

/**
 * Why a run must count its caller as unknown although it was told its IPs, or undefined when the
 * claim is plausible. The entries come from a read that succeeded, and bunq answers only an IP it
 * lets in: if none of the claimed IPs has an ACTIVE entry and no ACTIVE `*` covers the run, the
 * real caller is some other, ACTIVE, IP (a stale EGRESS_IPS, a checkip answer from behind a proxy),
 * and any deactivation could be the one that cuts it off.
 */
export function unconfirmedCallerReason(callerIps: readonly string[], entries: readonly ActualEntry[]): string | undefined {
  if (callerIps.length === 0 || wildcardCovers(entries)) return undefined;
  // Any ACTIVE entry of the IP counts, one we cannot use included: bunq lets that IP in all the same.
  if (callerIps.some((ip) => entries.some((e) => e.ip === ip && e.status === 'ACTIVE'))) return undefined;
  return (
    `the claimed caller IP(s) ${callerIps.join(', ')} are not ACTIVE at bunq, so the claim cannot be right ` +
    `(bunq has just answered this run, so its real caller is ACTIVE): ${CALLER_UNKNOWN_REASON}`
  );
}

/**
 * Whether this run may still deactivate, judged on `entries` (a read or the executor's freshest
 * knowledge): it knows its caller and the claim is plausible, or an ACTIVE `*` covers it. The
 * reason is undefined when it may.
 */
export function callerNotCoveredReason(callerIps: readonly string[], entries: readonly ActualEntry[]): string | undefined {
  if (callerIps.length === 0) return wildcardCovers(entries) ? undefined : CALLER_UNKNOWN_REASON;
  return unconfirmedCallerReason(callerIps, entries);
}

export const callerIp: Guard = {
  id: 'caller-ip',
  description:
    'an entry of an IP this run calls bunq from is never deactivated; a run that cannot tell its IP, or whose claimed IPs are not ACTIVE at bunq, deactivates nothing unless an ACTIVE `*` covers it',
  check(ops, ctx) {
    // Any deactivation could be the one that cuts this run (and every later one) off. An ACTIVE
    // `*` lets every IP call today, so it covers the run; the executor re-checks it before each
    // deactivation, since it can be switched off in the app at any moment.
    const unknown = callerNotCoveredReason(ctx.callerIps, ctx.actual);
    if (unknown !== undefined) return block(this.id, deactivations(ops), () => unknown);
    if (ctx.callerIps.length === 0) return [];
    const callers = new Set([...ctx.callerIps, ...(ctx.keptIps ?? [])]);
    return block(
      this.id,
      deactivations(ops).filter((o) => callers.has(o.ip)),
      (o) => `${o.ip} is an IP the reconciler calls bunq from; deactivating it would lock the reconciler out`,
    );
  },
};

/**
 * The entries as they would be if every given operation succeeded. An added entry gets an id above
 * every listed one: unique here, and usable, so it counts like the entry bunq would create.
 */
export function simulate(actual: readonly ActualEntry[], ops: readonly Operation[]): ActualEntry[] {
  const result = actual.map((e) => ({ ...e }));
  let syntheticId = actual.reduce((max, e) => (isUsableEntryId(e.id) ? Math.max(max, e.id) : max), 0);
  for (const op of ops) {
    if (op.kind === 'add') {
      result.push({ id: ++syntheticId, ip: op.ip, status: 'ACTIVE', created: null });
    } else {
      const target = result.find((e) => e.id === op.entryId);
      if (target) target.status = op.kind === 'reactivate' ? 'ACTIVE' : 'INACTIVE';
    }
  }
  return result;
}

/**
 * Desired IPs with an ACTIVE entry we understand. An IP that stays ACTIVE only because a guard holds
 * its deactivation back (a caller or protected IP nobody declared) does not count: two runs from
 * different IPs (a worker and a CLI-local run) would each keep their own and together switch off
 * everything else.
 */
export function activeDesiredIps(entries: readonly ActualEntry[], desiredIps: readonly string[]): string[] {
  const active = activeConcreteIps(entries);
  return desiredIps.filter((ip) => active.has(ip));
}

export const neverEmpty: Guard = {
  id: 'never-empty',
  description: 'a run never leaves the credential without an ACTIVE desired IPv4 entry (`*` and IPs kept only by a guard do not count)',
  check(ops, ctx) {
    const deacts = deactivations(ops);
    if (deacts.length === 0) return [];
    if (activeDesiredIps(simulate(ctx.actual, ops), ctx.desiredIps).length > 0) return [];
    // Emptying the whitelist usually means the desired set was lost, so hold back all of them.
    return block(
      this.id,
      deacts,
      () => 'these deactivations would leave no desired IPv4 address ACTIVE (an ACTIVE `*`, or an IP kept only by a guard, is not relied on)',
    );
  },
};

export const maxDeactivations: Guard = {
  id: 'max-deactivations',
  description: 'more deactivations than maxDeactivationsPerRun in one run → none are applied',
  check(ops, ctx) {
    const deacts = deactivations(ops);
    const max = ctx.config.maxDeactivationsPerRun;
    if (deacts.length <= max) return [];
    return block(
      this.id,
      deacts,
      () => `${deacts.length} deactivations exceed maxDeactivationsPerRun (${max}); none applied — raise the limit for this change if intended`,
    );
  },
};

/** In the order they run; an operation is reported under the first guard that holds it back. */
export const GUARDS: readonly Guard[] = [
  wildcardUntouchable,
  modeObserve,
  modeAdditive,
  invalidDesiredFreezesDeactivations,
  protectedIp,
  callerIp,
  neverEmpty,
  maxDeactivations,
];

export function applyGuards(
  operations: readonly Operation[],
  ctx: GuardContext,
  guards: readonly Guard[] = GUARDS,
): { allowed: Operation[]; blocked: BlockedOperation[] } {
  let allowed = [...operations];
  const blocked: BlockedOperation[] = [];
  for (const guard of guards) {
    const held = guard.check(allowed, ctx);
    if (held.length === 0) continue;
    const heldOps = new Set(held.map((b) => b.operation));
    allowed = allowed.filter((o) => !heldOps.has(o));
    blocked.push(...held);
  }
  return { allowed, blocked };
}
