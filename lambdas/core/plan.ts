/**
 * plan(): compares the whole desired set with the whole actual set (level-triggered) and says what
 * to change, what the guards hold back and why. Pure: same input, same plan.
 */
import { classifyEntries, unrecognisedReason } from './actual';
import { normaliseDesired, type NormalisedDesired } from './desired';
import { applyGuards } from './guards';
import type { ActualEntry, CredentialConfig, DesiredItem, Drift, Operation, Plan, Warning } from './types';
import { compareIpv4, describeValue } from './validate-ip';

function byIpThenId(a: { ip: string; entryId?: number }, b: { ip: string; entryId?: number }): number {
  return compareIpv4(a.ip, b.ip) || (a.entryId ?? 0) - (b.entryId ?? 0);
}

/**
 * @param now epoch milliseconds, for desired-entry expiry.
 */
export function plan(
  desired: readonly DesiredItem[],
  actual: readonly ActualEntry[],
  config: CredentialConfig,
  now: number,
): Plan {
  const wanted = normaliseDesired(desired, now);
  const wantedSet = new Set(wanted.ips);
  const { byIp, wildcards, unrecognised } = classifyEntries(actual);

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
    warnings.push({
      code: 'unrecognised-entry',
      message: `entry ${u.id > 0 ? u.id : '(no id)'} (ip ${describeValue(u.ip)}, status ${describeValue(u.status)}) has ${unrecognisedReason(u)}; left untouched`,
    });
  }
  warnings.push(...wanted.warnings);
  const perGuard = new Map<string, number>();
  for (const b of blocked) perGuard.set(b.guard, (perGuard.get(b.guard) ?? 0) + 1);
  for (const [guard, count] of perGuard) {
    warnings.push({ code: 'guard-blocked', message: `${guard} held back ${count} operation${count === 1 ? '' : 's'}` });
  }

  return planAround(config, wanted, { drift, operations: allowed, blocked, warnings });
}

/** The Plan record around a normalised desired set; the caller supplies what it compared. */
export function planAround(
  config: CredentialConfig,
  wanted: NormalisedDesired,
  compared: Pick<Plan, 'drift' | 'operations' | 'blocked' | 'warnings'>,
): Plan {
  return {
    credential: config.credential,
    mode: config.mode,
    desiredIps: wanted.ips,
    invalid: wanted.invalid,
    expired: wanted.expired,
    ...compared,
  };
}
