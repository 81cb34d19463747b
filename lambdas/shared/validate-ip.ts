/**
 * Strict IPv4 validation for desired entries and protected IPs. bunq accepts only dotted-quad IPv4 on
 * the IP endpoint, and an operator typing in the AWS console can enter anything, so every way an
 * address can be wrong gets its own reason: the report must say what to fix, not just "invalid".
 */

export type IpRejectionCode =
  | 'wrong-type'
  | 'empty'
  | 'wildcard'
  | 'embedded-whitespace'
  | 'cidr'
  | 'ipv4-mapped-ipv6'
  | 'ipv6'
  | 'hex-form'
  | 'trailing-dot'
  | 'octet-count'
  | 'empty-octet'
  | 'invalid-character'
  | 'octal-form'
  | 'leading-zero'
  | 'octet-out-of-range';

export type IpValidation =
  | { ok: true; ip: string }
  | { ok: false; code: IpRejectionCode; reason: string };

const MAX_SHOWN = 64;

/** A short, printable rendering of an untrusted value for error messages and reports. */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'bigint') text = `${value.toString()}n`;
  else if (typeof value === 'function' || typeof value === 'symbol') text = typeof value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Set) return 'set';
  return typeof value;
}

function reject(code: IpRejectionCode, reason: string): IpValidation {
  return { ok: false, code, reason };
}

const DIGITS = /^[0-9]+$/;
const OCTAL_DIGITS = /^0[0-7]+$/;
const HEX_PART = /^0x/i;
const MAPPED_V6 = /^(\[)?::ffff:(0:)?\d{1,3}(\.\d{1,3}){3}(\])?$/i;

/**
 * Validates one IPv4 address. Surrounding white space is trimmed (console copy-paste); everything
 * else must already be canonical: four decimal octets 0–255, no leading zeros.
 */
export function validateIpv4(value: unknown): IpValidation {
  if (value === undefined || value === null) return reject('empty', 'no IP address given');
  if (typeof value !== 'string') {
    return reject('wrong-type', `expected the IP address as a string, got ${typeName(value)}`);
  }
  const ip = value.trim();
  if (ip === '') return reject('empty', 'the IP address is empty');
  if (ip === '*') {
    return reject('wildcard', '"*" allows every IP; it can only be managed in the bunq app, never declared here');
  }
  if (/\s/.test(ip)) return reject('embedded-whitespace', 'the IP address contains white space inside it');
  if (ip.includes('/')) {
    return reject('cidr', 'CIDR notation is not accepted (not even /32): give one plain IPv4 address');
  }
  if (ip.includes(':')) {
    if (MAPPED_V6.test(ip)) {
      return reject('ipv4-mapped-ipv6', 'IPv4-mapped IPv6 is not accepted: give the plain IPv4 address');
    }
    return reject('ipv6', 'IPv6 is not accepted: bunq whitelists IPv4 addresses only');
  }
  const parts = ip.split('.');
  if (parts.some((p) => HEX_PART.test(p))) {
    return reject('hex-form', 'hexadecimal notation is not accepted: use four decimal octets');
  }
  if (parts.length > 1 && ip.endsWith('.')) {
    return reject('trailing-dot', 'the IP address ends with a dot');
  }
  if (parts.length !== 4) {
    return reject(
      'octet-count',
      `expected 4 dot-separated octets, found ${parts.length} (shortened and integer forms are not accepted)`,
    );
  }
  for (const [index, part] of parts.entries()) {
    const position = `octet ${index + 1}`;
    if (part === '') return reject('empty-octet', `${position} is empty`);
    if (!DIGITS.test(part)) {
      return reject('invalid-character', `${position} ${JSON.stringify(part)} is not a decimal number`);
    }
    if (part.length > 1 && part.startsWith('0')) {
      const octal = Number.parseInt(part, 8);
      const decimal = Number.parseInt(part, 10);
      // "010" means 8 to inet_aton-style parsers and 10 to others: ambiguity, not just style.
      if (OCTAL_DIGITS.test(part) && octal !== decimal) {
        return reject(
          'octal-form',
          `${position} ${JSON.stringify(part)} looks octal (some parsers read it as ${octal}, others as ${decimal})`,
        );
      }
      return reject('leading-zero', `${position} ${JSON.stringify(part)} has a leading zero`);
    }
    if (Number(part) > 255) {
      return reject('octet-out-of-range', `${position} ${part} is out of range 0–255`);
    }
  }
  return { ok: true, ip };
}

/** True only for an already canonical dotted quad (no trimming): how bunq's own entries are judged. */
export function isCanonicalIpv4(value: string): boolean {
  const result = validateIpv4(value);
  return result.ok && result.ip === value;
}

/** Numeric order of dotted quads, so reports list 10.0.0.2 before 10.0.0.10. */
export function compareIpv4(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Ipv4ListProblem {
  /** 0-based position in the list. */
  index: number;
  value: unknown;
  reason: string;
}

/**
 * A list of IPv4 addresses a run relies on (its caller or egress IPs): all valid, or none. One item
 * we cannot read spoils the whole list, since a typo may hide the real address. The valid result is
 * canonical, de-duplicated and in numeric order. Callers decide what a bad list means (unknown
 * caller for a run, a usage error for the CLI) and how to word it.
 */
export function validateIpv4List(values: readonly unknown[]): { ok: true; ips: string[] } | { ok: false; problems: Ipv4ListProblem[] } {
  const ips = new Set<string>();
  const problems: Ipv4ListProblem[] = [];
  values.forEach((value, index) => {
    const checked = validateIpv4(value);
    if (checked.ok) ips.add(checked.ip);
    else problems.push({ index, value, reason: checked.reason });
  });
  return problems.length === 0 ? { ok: true, ips: [...ips].sort(compareIpv4) } : { ok: false, problems };
}
