/**
 * Sorts bunq's entries into what the planner may act on (canonical IPv4 with a known status and a
 * usable id), the wildcard `*` (never touched), and anything else bunq returned (never touched,
 * reported).
 */
import type { ActualEntry } from './types';
import { isCanonicalIpv4 } from '../shared/validate-ip';

export const WILDCARD = '*';

export interface ClassifiedEntries {
  /** Canonical IPv4 entries with status ACTIVE or INACTIVE, grouped by IP, each group oldest first. */
  byIp: Map<string, ActualEntry[]>;
  wildcards: ActualEntry[];
  /** Entries the reconciler does not understand: a malformed IP, an unknown status or no usable id. */
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

/** Whether `id` can name an entry at bunq (bunq's ids are positive; NO_ENTRY_ID is not). */
export function isUsableEntryId(id: number): boolean {
  return Number.isSafeInteger(id) && id > 0;
}

function hasKnownStatus(e: ActualEntry): e is ActualEntry & { status: 'ACTIVE' | 'INACTIVE' } {
  return e.status === 'ACTIVE' || e.status === 'INACTIVE';
}

/** An entry the planner may act on: canonical IPv4, ACTIVE or INACTIVE, with a usable id. */
export function isRecognisedIpv4Entry(e: ActualEntry): boolean {
  return hasKnownStatus(e) && typeof e.ip === 'string' && isCanonicalIpv4(e.ip) && isUsableEntryId(e.id);
}

/** Why an entry is unrecognised, for the operator's warning. */
export function unrecognisedReason(e: ActualEntry): string {
  const reasons: string[] = [];
  if (!(typeof e.ip === 'string' && (e.ip === WILDCARD || isCanonicalIpv4(e.ip)))) reasons.push('an IP that is neither IPv4 nor "*"');
  if (!hasKnownStatus(e)) reasons.push('a status that is neither ACTIVE nor INACTIVE');
  if (!isUsableEntryId(e.id)) reasons.push('no usable id');
  return reasons.join(', ');
}

export function classifyEntries(entries: readonly ActualEntry[]): ClassifiedEntries {
  const byIp = new Map<string, ActualEntry[]>();
  const wildcards: ActualEntry[] = [];
  const unrecognised: ActualEntry[] = [];
  for (const e of entries) {
    if (e.ip === WILDCARD && hasKnownStatus(e) && isUsableEntryId(e.id)) {
      wildcards.push(e);
    } else if (isRecognisedIpv4Entry(e)) {
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

/**
 * Distinct canonical IPv4 addresses with at least one recognised ACTIVE entry. The wildcard never
 * counts, nor does an entry we do not understand: access is never assumed to rest on one.
 */
export function activeConcreteIps(entries: readonly ActualEntry[]): Set<string> {
  const result = new Set<string>();
  for (const e of entries) {
    if (e.status === 'ACTIVE' && isRecognisedIpv4Entry(e)) result.add(e.ip);
  }
  return result;
}

/**
 * Whether an ACTIVE `*` lets every IP call with this key, so a run that cannot tell its own IP still
 * reaches bunq after any deactivation. Only a `*` we understand (known status, usable id) counts.
 */
export function wildcardCovers(entries: readonly ActualEntry[]): boolean {
  return entries.some((e) => e.ip === WILDCARD && e.status === 'ACTIVE' && isUsableEntryId(e.id));
}
