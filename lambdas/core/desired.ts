/**
 * Turns the operator's desired-IP items into the set of IPs that must be ACTIVE now. Anything that
 * cannot be trusted is reported as invalid (and, via the guards, freezes deactivations); items past
 * their expiry are simply no longer desired.
 */
import type { DesiredItem, ExpiredDesired, InvalidDesired, Warning } from './types';
import { compareIpv4, describeValue, validateIpv4 } from '../shared/validate-ip';

export interface NormalisedDesired {
  /** Valid, unexpired, de-duplicated IPs in numeric order. */
  ips: string[];
  invalid: InvalidDesired[];
  /** Expired items whose IP is not desired through another, unexpired item. */
  expired: ExpiredDesired[];
  warnings: Warning[];
}

/** Epoch seconds beyond this are almost certainly milliseconds typed by mistake (year 5138). */
const MAX_PLAUSIBLE_EPOCH_SECONDS = 99_999_999_999;
/**
 * 2020-01-01T00:00:00Z. Nobody sets an expiry before this project existed on purpose: such a value
 * is a date typed as digits (20261231) or a duration (28800 for "8 hours"). Taken as an instant in
 * 1970 it would mean "expired", and the live IP would be deactivated.
 */
export const MIN_PLAUSIBLE_EPOCH_SECONDS = 1_577_836_800;

/** The only sort key a desired item may have, besides the `config` item's. */
export const DESIRED_ENTRY_PREFIX = 'ip#';

function entryName(item: unknown, index: number): string {
  if (typeof item === 'object' && item !== null && 'entry' in item) {
    const entry = (item as { entry: unknown }).entry;
    if (typeof entry === 'string' && entry !== '') return entry;
  }
  return `#${index}`;
}

/**
 * @param now epoch milliseconds (Clock.now()); `expiresAt` is in epoch seconds, as DynamoDB TTL wants.
 */
export function normaliseDesired(items: readonly DesiredItem[], now: number): NormalisedDesired {
  const invalid: InvalidDesired[] = [];
  const warnings: Warning[] = [];
  const desired = new Set<string>();
  const expiredByIp = new Map<string, ExpiredDesired[]>();

  items.forEach((item: unknown, index) => {
    const entry = entryName(item, index);
    if (typeof item !== 'object' || item === null) {
      invalid.push({ entry, value: describeValue(item), reason: 'the item is not an object', code: 'wrong-type' });
      return;
    }
    const record = item as Record<string, unknown>;
    // An item under any other key (`IP#…`, a bare address, `ip 1.2.3.4`) was meant to say something
    // about an IP; dropping it would deactivate that IP. It is invalid, so deactivations freeze.
    if (typeof record.entry !== 'string' || !record.entry.startsWith(DESIRED_ENTRY_PREFIX)) {
      invalid.push({
        entry,
        value: describeValue(record.ip === undefined ? record.entry : record.ip),
        reason: `the sort key ${describeValue(record.entry)} is not of the form "ip#<IPv4>" (lower-case "ip#", then the address); rename or remove the item`,
        code: 'entry-malformed',
      });
      return;
    }
    const checked = validateIpv4(record.ip);
    if (!checked.ok) {
      invalid.push({ entry, value: describeValue(record.ip), reason: checked.reason, code: checked.code });
      return;
    }
    const ip = checked.ip;
    // The sort key is what an operator sees in the console and what the CLI edits; if it names
    // another IP than the attribute, we cannot tell which one was meant, so we trust neither.
    const entrySuffix = entry.slice(DESIRED_ENTRY_PREFIX.length).trim();
    if (entrySuffix !== ip) {
      invalid.push({
        entry,
        value: describeValue(record.ip),
        reason: `the sort key names ${describeValue(entrySuffix)} but the ip attribute is ${ip}; make them the same`,
        code: 'entry-ip-mismatch',
      });
      return;
    }
    const expiresAt = record.expiresAt;
    if (expiresAt !== undefined && expiresAt !== null) {
      if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || expiresAt < 0) {
        invalid.push({
          entry,
          value: describeValue(expiresAt),
          reason: 'expiresAt must be a non-negative number of epoch seconds',
          code: 'invalid-expiry',
        });
        return;
      }
      if (expiresAt > MAX_PLAUSIBLE_EPOCH_SECONDS) {
        invalid.push({
          entry,
          value: describeValue(expiresAt),
          reason: 'expiresAt looks like epoch milliseconds; it must be epoch seconds',
          code: 'invalid-expiry',
        });
        return;
      }
      if (expiresAt < MIN_PLAUSIBLE_EPOCH_SECONDS) {
        invalid.push({
          entry,
          value: describeValue(expiresAt),
          reason:
            'expiresAt is before 2020-01-01 in epoch seconds, so it cannot be a deliberate expiry ' +
            '(a date typed as digits such as 20261231, or a duration such as 28800?); give the epoch second it ends',
          code: 'invalid-expiry',
        });
        return;
      }
      if (expiresAt * 1000 <= now) {
        const list = expiredByIp.get(ip) ?? [];
        list.push({ entry, ip, expiresAt });
        expiredByIp.set(ip, list);
        return;
      }
    }
    desired.add(ip);
  });

  const expired: ExpiredDesired[] = [];
  for (const [ip, list] of expiredByIp) {
    if (!desired.has(ip)) expired.push(...list);
  }
  expired.sort((a, b) => compareIpv4(a.ip, b.ip) || a.entry.localeCompare(b.entry));
  for (const e of expired) {
    warnings.push({
      code: 'expired-desired',
      message: `${e.entry} (${e.ip}) expired at ${new Date(e.expiresAt * 1000).toISOString()} and is no longer desired`,
    });
  }
  for (const bad of invalid) {
    warnings.push({ code: 'invalid-desired', message: `${bad.entry}: ${bad.value} rejected: ${bad.reason}` });
  }
  return { ips: [...desired].sort(compareIpv4), invalid, expired, warnings };
}
