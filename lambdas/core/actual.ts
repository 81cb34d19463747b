/**
 * Sorts bunq's entries into what the planner may act on (canonical IPv4 with a known status), the
 * wildcard `*` (never touched), and anything else bunq returned (never touched, reported).
 */
import type { ActualEntry } from './types';
import { isCanonicalIpv4 } from './validate-ip';

export const WILDCARD = '*';

export interface ClassifiedEntries {
  /** Canonical IPv4 entries with status ACTIVE or INACTIVE, grouped by IP, each group oldest first. */
  byIp: Map<string, ActualEntry[]>;
  wildcards: ActualEntry[];
  /** Entries the reconciler does not understand: a malformed IP or an unknown status. */
  unrecognised: ActualEntry[];
}

function createdMs(e: ActualEntry): number {
  if (e.created === null) return Number.POSITIVE_INFINITY;
  // bunq's format is "2020-04-23 10:12:11.777777" (UTC, microseconds); Date wants a T and ms.
  const iso = e.created.includes('T') ? e.created : e.created.replace(' ', 'T');
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/**
 * Oldest first: by `created`, entries without a readable time last, then by lowest id. The oldest
 * ACTIVE entry of an IP is the one kept when duplicates are cleaned up.
 */
export function compareByAge(a: ActualEntry, b: ActualEntry): number {
  const ca = createdMs(a);
  const cb = createdMs(b);
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.id - b.id;
}

export function classifyEntries(entries: readonly ActualEntry[]): ClassifiedEntries {
  const byIp = new Map<string, ActualEntry[]>();
  const wildcards: ActualEntry[] = [];
  const unrecognised: ActualEntry[] = [];
  for (const e of entries) {
    const knownStatus = e.status === 'ACTIVE' || e.status === 'INACTIVE';
    if (e.ip === WILDCARD && knownStatus) {
      wildcards.push(e);
    } else if (knownStatus && typeof e.ip === 'string' && isCanonicalIpv4(e.ip) && Number.isSafeInteger(e.id)) {
      const group = byIp.get(e.ip) ?? [];
      group.push(e);
      byIp.set(e.ip, group);
    } else {
      unrecognised.push(e);
    }
  }
  for (const group of byIp.values()) group.sort(compareByAge);
  return { byIp, wildcards, unrecognised };
}

/** Distinct canonical IPv4 addresses with at least one ACTIVE entry (the wildcard never counts). */
export function activeConcreteIps(entries: readonly ActualEntry[]): Set<string> {
  const result = new Set<string>();
  for (const e of entries) {
    if (e.status === 'ACTIVE' && isCanonicalIpv4(e.ip)) result.add(e.ip);
  }
  return result;
}
