/**
 * plan(): compares the whole desired set with the whole actual set (level-triggered) and says what
 * to change, what the guards hold back and why. Pure: same input, same plan.
 */
import { WILDCARD, classifyEntries, unrecognisedReason } from './actual';
import { normaliseDesired, type NormalisedDesired } from './desired';
import { applyGuards, unconfirmedCallerReason } from './guards';
import type { ActualEntry, CredentialConfig, DesiredItem, Drift, Operation, Plan, Warning } from './types';
import { compareIpv4, describeValue, isCanonicalIpv4, validateIpv4, validateIpv4List } from '../shared/validate-ip';

function byIpThenId(a: { ip: string; entryId?: number }, b: { ip: string; entryId?: number }): number {
  return compareIpv4(a.ip, b.ip) || (a.entryId ?? 0) - (b.entryId ?? 0);
}

/**
 * The caller IPs a run may rely on: all canonical IPv4, or none. One value we cannot read makes the
 * whole list untrustworthy (a typo could hide the real address), so the run counts as not knowing
 * its IP and holds every deactivation.
 */
export function normaliseCallerIps(callerIps: readonly unknown[] | undefined): { ips: string[]; warnings: Warning[] } {
  if (callerIps === undefined || callerIps.length === 0) return { ips: [], warnings: [] };
  const checked = validateIpv4List(callerIps);
  if (checked.ok) return { ips: checked.ips, warnings: [] };
  const problems = checked.problems.map((p) => `${describeValue(p.value)}: ${p.reason}`);
  return {
    ips: [],
    warnings: [
      {
        code: 'caller-ips-invalid',
        message: `caller IP(s) ${problems.join('; ')}; the run treats its caller as unknown and holds every deactivation`,
      },
    ],
  };
}

/**
 * @param now epoch milliseconds, for desired-entry expiry.
 * @param callerIps the IPs this run calls bunq from; absent or empty when the run cannot tell.
 */
export function plan(
  desired: readonly DesiredItem[],
  actual: readonly ActualEntry[],
  config: CredentialConfig,
  now: number,
  callerIps?: readonly string[],
  /** Other reconciler IPs to keep (the worker's recorded IPs in a CLI-local run); see GuardContext. */
  keptIps?: readonly string[],
): Plan {
  const wanted = normaliseDesired(desired, now);
  const wantedSet = new Set(wanted.ips);
  const callers = normaliseCallerIps(callerIps);
  const { byIp, wildcards, unrecognised } = classifyEntries(actual);
  // IPs bunq lists an entry for that we cannot use (unknown status, no usable id). Another POST
  // would only add one more such entry run after run, so such an IP is left to the bunq app.
  const unusableIps = new Set(unrecognised.filter((e) => typeof e.ip === 'string' && isCanonicalIpv4(e.ip)).map((e) => e.ip));

  const drift: Drift[] = [];
  const makes: Operation[] = [];
  const breaks: Operation[] = [];

  for (const ip of wanted.ips) {
    const group = byIp.get(ip) ?? [];
    const active = group.filter((e) => e.status === 'ACTIVE');
    if (active.length > 0) {
      // Keep the oldest; INACTIVE duplicates are history and are left alone.
      for (const extra of active.slice(1)) {
        drift.push({ kind: 'duplicate-active', ip, entryId: extra.id });
        breaks.push({ kind: 'deactivate', ip, entryId: extra.id, reason: 'duplicate' });
      }
    } else if (unusableIps.has(ip)) {
      // Reported by the unrecognised-entry warning; neither added again nor re-activated.
    } else if (group.length > 0) {
      const oldest = group[0]!;
      drift.push({ kind: 'inactive', ip, entryId: oldest.id });
      makes.push({ kind: 'reactivate', ip, entryId: oldest.id });
    } else {
      drift.push({ kind: 'missing', ip });
      makes.push({ kind: 'add', ip });
    }
  }

  for (const [ip, group] of byIp) {
    if (wantedSet.has(ip)) continue;
    for (const e of group) {
      if (e.status !== 'ACTIVE') continue;
      drift.push({ kind: 'undesired-active', ip, entryId: e.id });
      breaks.push({ kind: 'deactivate', ip, entryId: e.id, reason: 'undesired' });
    }
  }
  // An ACTIVE entry we cannot change whose IP is not desired: drift only the bunq app can fix.
  for (const e of unrecognised) {
    if (e.status !== 'ACTIVE' || e.ip === WILDCARD || wantedSet.has(e.ip)) continue;
    drift.push({ kind: 'unrecognised-active', ip: String(e.ip), entryId: e.id });
  }
  // An ACTIVE wildcard is planned like any undesired entry so the guard that holds it back is
  // visible, but it is not drift: only the bunq app can change it, and with a wildcard API key it is
  // the intended state. Counting it would keep the drift alarm (and `plan`'s exit code) up forever;
  // the active-wildcard warning and the ActiveWildcard metric report it instead.
  for (const e of wildcards) {
    if (e.status !== 'ACTIVE') continue;
    breaks.push({ kind: 'deactivate', ip: e.ip, entryId: e.id, reason: 'undesired' });
  }

  // Plain additions before re-activations: a re-activation is the one make bunq may refuse for good
  // (INACTIVE → ACTIVE and a duplicate POST both unconfirmed), and the executor stops at the first
  // failure, so a stuck re-activation must not hold back the additions of other IPs.
  makes.sort((a, b) => Number(a.kind === 'reactivate') - Number(b.kind === 'reactivate') || byIpThenId(a, b));
  breaks.sort(byIpThenId);
  drift.sort((a, b) => byIpThenId(a, b) || a.kind.localeCompare(b.kind));

  const { allowed, blocked } = applyGuards([...makes, ...breaks], {
    config,
    invalidDesiredCount: wanted.invalid.length,
    actual,
    callerIps: callers.ips,
    desiredIps: wanted.ips,
    keptIps: callers.ips.length === 0 ? [] : normaliseCallerIps(keptIps).ips,
  });

  const warnings: Warning[] = [];
  for (const w of wildcards) {
    if (w.status === 'ACTIVE') {
      warnings.push({
        code: 'active-wildcard',
        message: `entry ${w.id} is an ACTIVE "*": any IP can call bunq with this key; only the bunq app can remove it`,
      });
    }
  }
  for (const u of unrecognised) {
    const consequence =
      typeof u.ip === 'string' && wantedSet.has(u.ip)
        ? `; left untouched, and ${u.ip} is not added again (only the bunq app can sort this entry out)`
        : u.status === 'ACTIVE' && u.ip !== WILDCARD
          ? '; it is ACTIVE and not desired: drift the reconciler cannot fix, change it in the bunq app'
          : '; left untouched';
    warnings.push({
      code: 'unrecognised-entry',
      message: `entry ${u.id > 0 ? u.id : '(no id)'} (ip ${describeValue(u.ip)}, status ${describeValue(u.status)}) has ${unrecognisedReason(u)}${consequence}`,
    });
  }
  warnings.push(...callers.warnings, ...wanted.warnings);
  const unconfirmed = unconfirmedCallerReason(callers.ips, actual);
  if (unconfirmed !== undefined) warnings.push({ code: 'caller-ips-unconfirmed', message: `${unconfirmed}; every deactivation is held` });
  const perGuard = new Map<string, number>();
  for (const b of blocked) perGuard.set(b.guard, (perGuard.get(b.guard) ?? 0) + 1);
  for (const [guard, count] of perGuard) {
    warnings.push({ code: 'guard-blocked', message: `${guard} held back ${count} operation${count === 1 ? '' : 's'}` });
  }

  return planAround(config, wanted, { callerIps: callers.ips, drift, operations: allowed, blocked, warnings });
}

/** The Plan record around a normalised desired set; the caller supplies what it compared. */
export function planAround(
  config: CredentialConfig,
  wanted: NormalisedDesired,
  compared: Pick<Plan, 'callerIps' | 'drift' | 'operations' | 'blocked' | 'warnings'>,
): Plan {
  return {
    credential: config.credential,
    mode: config.mode,
    callerIps: compared.callerIps,
    desiredIps: wanted.ips,
    invalid: wanted.invalid,
    expired: wanted.expired,
    drift: compared.drift,
    operations: compared.operations,
    blocked: compared.blocked,
    warnings: compared.warnings,
  };
}
