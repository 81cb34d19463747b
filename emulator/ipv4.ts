export type IpKind = 'ipv4' | 'wildcard' | 'ipv6' | 'invalid';

const OCTET = /^(0|[1-9]\d{0,2})$/;

/** Strict dotted quad: four decimal octets 0–255, no leading zeros, no spaces, no CIDR suffix. */
export function isStrictIpv4(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => OCTET.test(p) && Number(p) <= 255);
}

export function classifyIp(value: string): IpKind {
  if (isStrictIpv4(value)) return 'ipv4';
  if (value === '*') return 'wildcard';
  // Loose on purpose: anything with a colon and only hex digits/dots reads as an IPv6 attempt, so
  // the caller gets the more helpful "IPv6 not supported" text instead of "invalid".
  if (value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value)) return 'ipv6';
  return 'invalid';
}
